"""The mediation agreement on the database: drafts (append-only), freezing, signatures
(append-only) and the committee's seal, by the rules of app/domain/mediation_agreement.py,
every change audited in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import mediation_agreement as rules
from app.domain.access import Actor
from app.domain.bodies.mediation import AgreementDraftBody
from app.domain.errors import Conflict, NotFound, NotPermitted, ValidationError, WrongState
from app.domain.mediation import MediationState, MediationStep, time_limit
from app.domain.roles import Role
from app.ruling.agreement_desk import StoredAgreement
from app.services import mediations
from app.services.party_checks import require_party_ready
from app.store.models import (
    AgreementDraftRow,
    AgreementSignatureRow,
    Hall,
    MediationAgreement,
    MediationCase,
    Room,
)

# Drafting may start as soon as the committee has the case; signing only in the session.
_DRAFTING_STATES = frozenset(
    {MediationState.ACCEPTED, MediationState.SCHEDULED, MediationState.IN_MEDIATION}
)
SIGN_CODE = "agreement-sign"  # the purpose of a signing code, with the mediation and party


def sign_code_purpose(mediation_id: int, party: int) -> str:
    return f"{SIGN_CODE}:{mediation_id}:{party}"


@dataclass(frozen=True)
class Signer:
    """Who signs and how they were known, as the signature's record keeps it."""

    party: int | None
    name: str
    account_id: int | None
    proof: str
    device: str
    client_address: str | None
    user_agent: str | None
    applies_for_confirmation: bool | None


@dataclass(frozen=True)
class AgreementRecord:
    """The agreement as stored; `counting()` is the signatures that count now."""

    mediation: MediationCase
    row: MediationAgreement | None
    draft: rules.Draft | None
    signatures: list[AgreementSignatureRow]

    def counting(self) -> list[AgreementSignatureRow]:
        """The stored signatures the rules count (rules.Agreement.counts)."""
        view = self.rules_view()
        if view is None:
            return []
        return [
            row
            for row, sig in zip(self.signatures, view.signatures, strict=True)
            if view.counts(sig)
        ]

    def rules_view(self) -> rules.Agreement | None:
        if self.row is None:
            return None
        return rules.Agreement(
            rules.AgreementStatus(self.row.status),
            self.row.draft_version,
            self.row.digest,
            tuple(
                rules.Signature(s.party_position, s.draft_version, s.digest, s.signed_at)
                for s in self.signatures
            ),
        )


async def load(session: AsyncSession, mediation: MediationCase) -> AgreementRecord:
    row = await session.scalar(
        select(MediationAgreement).where(MediationAgreement.mediation_id == mediation.id)
    )
    draft = None
    if row is not None:
        saved = await session.scalar(
            select(AgreementDraftRow.body).where(
                AgreementDraftRow.mediation_id == mediation.id,
                AgreementDraftRow.version == row.draft_version,
            )
        )
        draft = rules.draft_from_json(saved) if saved is not None else None
    signatures = await session.scalars(
        select(AgreementSignatureRow)
        .where(AgreementSignatureRow.mediation_id == mediation.id)
        .order_by(AgreementSignatureRow.id)
    )
    return AgreementRecord(mediation, row, draft, list(signatures))


async def assigned_record(
    session: AsyncSession, actor: Actor, mediation_id: int
) -> AgreementRecord:
    """The agreement of a mediation, for its assigned mediator only (others: 403 or 404)."""
    mediation = await mediations.load_mediation(session, actor, mediation_id)
    require_assigned(actor, mediation)
    return await load(session, mediation)


def require_assigned(actor: Actor, mediation: MediationCase) -> None:
    if mediation.mediator_id != actor.account_id:
        raise NotPermitted(
            "只有承办调解员可以起草、定稿和签署调解协议。"
            " / Only the assigned mediator drafts, fixes and signs the agreement."
        )


async def save_draft(
    session: AsyncSession,
    actor: Actor,
    mediation_id: int,
    body: AgreementDraftBody,
    now: dt.datetime,
) -> AgreementRecord:
    """A new version of the draft. Saving over a frozen text takes it back to drafting: every
    signature made on it stops counting (they stay on record, and the audit says so)."""
    record = await assigned_record(session, actor, mediation_id)
    mediation = record.mediation
    if MediationState(mediation.state) not in _DRAFTING_STATES:
        raise WrongState(
            "本调解案件当前不能起草协议。"
            " / The agreement cannot be drafted in this mediation's state."
        )
    rules.may_edit(record.rules_view())
    current = record.row.draft_version if record.row else 0
    if body.base_version != current:
        raise Conflict(
            "协议草稿已被修改，请在最新版本上编辑。"
            " / The draft changed since you opened it: edit the latest version.",
            code="stale_draft",
        )
    draft = rules.draft_from_body(body)
    problems = rules.check_draft(draft)
    if problems:
        raise ValidationError(problems)
    voided = len(record.counting())
    version = current + 1
    session.add(
        AgreementDraftRow(
            mediation_id=mediation.id,
            version=version,
            body=rules.draft_json(draft),
            saved_at=now,
            saved_by=actor.account_id,
        )
    )
    row = record.row or MediationAgreement(mediation_id=mediation.id)
    row.status, row.draft_version = rules.AgreementStatus.DRAFTING.value, version
    row.digest, row.frozen_at = None, None
    session.add(row)
    await session.flush()
    details: dict[str, Any] = {"version": version, "terms": len(draft.terms)}
    if voided:
        details["signatures_voided"] = voided
    await mediations.record_event(
        session, actor.username, mediation, "mediation.agreement.drafted", details, now
    )
    return await load(session, mediation)


async def freeze(
    session: AsyncSession,
    actor: Actor,
    record: AgreementRecord,
    version: int,
    digest: str,
    now: dt.datetime,
) -> AgreementRecord:
    """Fix the text for signing (`record` from assigned_record); `digest` is the SHA-256 of the
    text the desk renders now."""
    mediation = record.mediation
    rules.may_freeze(record.rules_view(), version)
    assert record.row is not None
    record.row.status, record.row.digest, record.row.frozen_at = (
        rules.AgreementStatus.FROZEN.value,
        digest,
        now,
    )
    details = {"version": version, "digest": digest}
    await mediations.record_event(
        session, actor.username, mediation, "mediation.agreement.frozen", details, now
    )
    return await load(session, mediation)


async def kiosk_committee(session: AsyncSession, actor: Actor) -> int | None:
    """The committee of the hall a kiosk stands in. Parties sign at the hall's kiosk (on their
    own phones once they hold a pass); nobody else signs for them."""
    if actor.role is not Role.KIOSK or actor.room_id is None:
        raise NotPermitted(
            "当事人在调解室终端上亲自签名，调解员和法院人员不能代签。"
            " / A party signs in person at the hall's kiosk: nobody signs for them."
        )
    found: int | None = await session.scalar(
        select(Hall.committee_id)
        .join(Room, Room.hall_id == Hall.id)
        .where(Room.id == actor.room_id)
    )
    return found


async def kiosk_mediation(session: AsyncSession, actor: Actor, mediation_id: int) -> MediationCase:
    """The mediation, for a kiosk of one of its committee's halls; others hear it does not
    exist."""
    committee = await kiosk_committee(session, actor)
    mediation = await session.get(MediationCase, mediation_id)
    if mediation is None or mediation.committee_id != committee:
        raise NotFound(f"没有编号为 {mediation_id} 的调解案件。 / No mediation {mediation_id}.")
    return mediation


async def in_session_at_kiosk(
    session: AsyncSession, actor: Actor
) -> list[tuple[MediationCase, bool]]:
    """The kiosk's committee's mediations in session, and whether each one's agreement is
    fixed for signing: the kiosk joins their video session, and the parties sign there."""
    committee = await kiosk_committee(session, actor)
    rows = await session.execute(
        select(MediationCase, MediationAgreement.status)
        .outerjoin(MediationAgreement, MediationAgreement.mediation_id == MediationCase.id)
        .where(
            MediationCase.committee_id == committee,
            MediationCase.state == MediationState.IN_MEDIATION.value,
        )
        .order_by(MediationCase.id)
    )
    frozen = rules.AgreementStatus.FROZEN.value
    return [(mediation, status == frozen) for mediation, status in rows.all()]


def party_phone(mediation: MediationCase, party: int) -> str:
    if not 0 <= party < len(mediation.parties):
        raise ValidationError(
            [("party", "没有这个序号的当事人。 / There is no party at that position.")]
        )
    return mediation.parties[party].phone


async def party_signs(
    session: AsyncSession,
    mediation: MediationCase,
    signer: Signer,
    digest: str,
    image: bytes,
    now: dt.datetime,
) -> AgreementRecord:
    """A party's signature on the frozen text (their phone's code already spent by the caller,
    in this same transaction)."""
    assert signer.party is not None
    record = await load(session, mediation)
    _require_in_session(mediation)
    await require_party_ready(session, mediation.id, signer.party)
    limit = time_limit(MediationState(mediation.state), mediation.accepted_at, now)
    rules.may_party_sign(
        record.rules_view(), signer.party, len(mediation.parties), digest, now, limit.due_at
    )
    return await _add_signature(session, record, signer, image, now)


async def mediator_signs(
    session: AsyncSession,
    actor: Actor,
    mediation_id: int,
    digest: str,
    image: bytes,
    now: dt.datetime,
) -> AgreementRecord:
    record = await assigned_record(session, actor, mediation_id)
    mediation = record.mediation
    _require_in_session(mediation)
    limit = time_limit(MediationState(mediation.state), mediation.accepted_at, now)
    rules.may_mediator_sign(record.rules_view(), len(mediation.parties), digest, now, limit.due_at)
    signer = Signer(
        None,
        actor.display_name,
        actor.account_id,
        f"account:{actor.username}",
        "调解员账户",
        None,
        None,
        None,
    )
    return await _add_signature(session, record, signer, image, now)


def _require_in_session(mediation: MediationCase) -> None:
    if MediationState(mediation.state) is not MediationState.IN_MEDIATION:
        raise WrongState(
            "调解开始后才能签署调解协议。 / The agreement is signed during the mediation session."
        )


async def _add_signature(
    session: AsyncSession, record: AgreementRecord, signer: Signer, image: bytes, now: dt.datetime
) -> AgreementRecord:
    assert record.row is not None and record.row.digest is not None
    session.add(
        AgreementSignatureRow(
            mediation_id=record.mediation.id,
            draft_version=record.row.draft_version,
            digest=record.row.digest,
            party_position=signer.party,
            account_id=signer.account_id,
            signer_name=signer.name,
            image=image,
            image_sha256=hashlib.sha256(image).hexdigest(),
            proof=signer.proof,
            device=signer.device,
            client_address=signer.client_address,
            user_agent=signer.user_agent,
            applies_for_confirmation=signer.applies_for_confirmation,
            signed_at=now,
        )
    )
    await session.flush()
    details: dict[str, Any] = {
        "party": signer.party,
        "version": record.row.draft_version,
        "digest": record.row.digest,
        "proof": signer.proof,
        "device": signer.device,
    }
    if signer.applies_for_confirmation is not None:
        details["applies_for_confirmation"] = signer.applies_for_confirmation
    await mediations.record_event(
        session, signer.name, record.mediation, "mediation.agreement.signed", details, now
    )
    return await load(session, record.mediation)


def may_seal(record: AgreementRecord) -> None:
    """Everything a seal needs, checked before the PDF is drawn, signed and written."""
    _require_in_session(record.mediation)
    rules.may_seal(record.rules_view(), len(record.mediation.parties))


async def seal(
    session: AsyncSession,
    actor: Actor,
    record: AgreementRecord,
    agreement: StoredAgreement,
    transcript: StoredAgreement,
    now: dt.datetime,
) -> AgreementRecord:
    """The committee's seal is on the PDFs the caller wrote, the agreement's and the session's
    transcript's (after may_seal, on a record from assigned_record): the agreement is in effect
    from now (art 29), and the mediation is agreed."""
    mediation = record.mediation
    row = record.row
    assert row is not None
    row.status, row.sealed_at = rules.AgreementStatus.SEALED.value, now
    row.pdf_path, row.pdf_sha256 = agreement.path, agreement.sha256
    row.transcript_pdf, row.transcript_sha256 = transcript.path, transcript.sha256
    await mediations.take_step(session, actor, mediation.id, MediationStep.AGREE, now)
    details = {
        "digest": row.digest,
        "pdf_sha256": agreement.sha256,
        "transcript_sha256": transcript.sha256,
        "effective_at": now.isoformat(),
    }
    await mediations.record_event(
        session, actor.username, mediation, "mediation.agreement.sealed", details, now
    )
    return await load(session, mediation)
