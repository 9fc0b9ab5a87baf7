"""The mediation agreement as a document: what its template reads, and the handwriting drawn
into the sealed copy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.clock import court_date
from app.domain.errors import WrongState
from app.domain.mediation import MediationStep
from app.keyring import FieldCipher
from app.ruling.agreement_desk import StoredAgreement
from app.services import mediations
from app.services.mediation_agreements import AgreementRecord
from app.services.rulings import document_party
from app.store.models import Account, Committee, MediationCase


async def document_context(
    session: AsyncSession,
    record: AgreementRecord,
    cipher: FieldCipher,
    sealed_at: dt.datetime | None,
) -> dict[str, Any]:
    """What the agreement template reads (templates/rulings/mediation_agreement.txt.j2)."""
    mediation, draft = record.mediation, record.draft
    if draft is None:
        raise WrongState("尚未起草调解协议。 / No agreement has been drafted yet.")
    committee = await session.get(Committee, mediation.committee_id)
    mediator = await session.get(Account, mediation.mediator_id) if mediation.mediator_id else None
    assert committee is not None
    return {
        "committee_name": committee.name,
        "reference": f"调{mediation.id}",
        "parties": [document_party(p, cipher) for p in mediation.parties],
        "dispute_type": mediation.dispute_type,
        "facts": draft.facts,
        "responsibility": draft.responsibility,
        "terms": draft.terms,
        "performance": draft.performance,
        "mediator_name": mediator.display_name if mediator else "",
        "sealed": sealed_at is not None,
        "effective_at": sealed_at,
    }


def current_images(record: AgreementRecord) -> dict[str, bytes]:
    """The handwriting of every signature that counts, by the template's keys."""
    return {
        "mediator" if s.party_position is None else f"party-{s.party_position}": s.image
        for s in record.counting()
    }


async def termination_context(session: AsyncSession, mediation: MediationCase) -> dict[str, Any]:
    """What the termination record reads (templates/rulings/mediation_termination.txt.j2)."""
    committee = await session.get(Committee, mediation.committee_id)
    mediator = await session.get(Account, mediation.mediator_id) if mediation.mediator_id else None
    # A mediation fails only once accepted (app/domain/mediation.py): the record states when.
    assert committee is not None and mediation.ended_at is not None
    accepted = mediation.accepted_at
    assert accepted is not None
    return {
        "committee_name": committee.name,
        "reference": f"调{mediation.id}",
        "parties": [{"name": p.name} for p in mediation.parties],
        "dispute_type": mediation.dispute_type,
        "facts": mediation.facts,
        "reason": mediation.end_note or "",
        "mediator_name": mediator.display_name if mediator else "",
        "accepted_on": court_date(accepted),
        "ended_at": mediation.ended_at,
    }


SealTermination = Callable[[dict[str, Any], int, int], Awaitable[StoredAgreement]]


async def fail_with_record(
    session: AsyncSession,
    actor: Actor,
    mediation_id: int,
    note: str,
    now: dt.datetime,
    seal: SealTermination,
) -> MediationCase:
    """Ended without agreement, and the sealed termination record (art 26) made in the same
    transaction, so a failed mediation never stands without it."""
    mediation = await mediations.take_step(
        session, actor, mediation_id, MediationStep.FAIL, now, note=note
    )
    stored = await seal(
        await termination_context(session, mediation), mediation.committee_id, mediation.id
    )
    mediation.termination_pdf, mediation.termination_sha256 = stored.path, stored.sha256
    return mediation
