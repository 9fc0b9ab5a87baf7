"""The mediation agreement as a document: what its template reads, and the handwriting drawn
into the sealed copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import WrongState
from app.keyring import FieldCipher
from app.services.mediation_agreements import AgreementRecord
from app.services.rulings import document_party
from app.store.models import Account, Committee


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
    digest = record.row.digest if record.row else None
    images: dict[str, bytes] = {}
    for s in record.signatures:
        if s.digest == digest:
            images["mediator" if s.party_position is None else f"party-{s.party_position}"] = (
                s.image
            )
    return images
