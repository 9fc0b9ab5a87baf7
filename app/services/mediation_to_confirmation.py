"""One tap from a sealed mediation agreement to an application for its judicial confirmation
(People's Mediation Law art 33): the application is filled in from the mediation (parties,
terms as the agreement words them, the agreement's date and committee), the sealed PDF is its
agreement, byte for byte, and it is submitted to the court, all in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import mediation_agreement as rules
from app.domain.access import Actor
from app.domain.clock import court_date
from app.domain.errors import Conflict, WrongState
from app.keyring import FieldCipher
from app.services import cases, materials, mediations
from app.services.mediation_agreements import assigned_record
from app.store.models import Case, MediationCase, MediationParty


def _party_payload(party: MediationParty, cipher: FieldCipher) -> dict[str, Any]:
    """The party as the new application's body reads it: its ID number in full."""
    payload = cases.party_fields(party)
    if party.kind != "organisation":
        assert party.id_number_enc is not None
        payload["id_number"] = cipher.decrypt(party.id_number_enc, purpose="party.id_number")
    return payload


def _not_all_applied(names: list[str]) -> WrongState:
    who = "、".join(names)
    return WrongState(
        f"{who}签署协议时未同意申请司法确认，不能代为申请。"
        f" / {', '.join(names)} did not agree to apply for confirmation when signing."
    )


async def apply_for_confirmation(
    session: AsyncSession,
    actor: Actor,
    mediation_id: int,
    *,
    term_texts: Callable[[Any], list[str]],
    read_agreement: Callable[[str, str], bytes],
    cipher: FieldCipher,
    materials_folder: Path,
    upload_limit: int,
    now: dt.datetime,
) -> Case:
    """The application, created, with the sealed agreement and the session's sealed transcript
    as its materials, and submitted."""
    record = await assigned_record(session, actor, mediation_id)
    mediation = record.mediation
    view = record.rules_view()
    if view is None or view.status is not rules.AgreementStatus.SEALED or record.row is None:
        raise WrongState(
            "调解协议签章生效后才能申请司法确认。"
            " / Apply for confirmation once the agreement is signed and sealed."
        )
    earlier = await application_of(session, mediation.id)
    if earlier is not None:
        raise Conflict(
            f"本调解协议已申请司法确认（案件 {earlier}）。"
            f" / Confirmation was already applied for (case {earlier}).",
            code="already_applied",
        )
    _require_every_party_applies(mediation, record.counting())
    assert record.draft is not None and record.row.sealed_at is not None
    assert record.row.pdf_path is not None and record.row.pdf_sha256 is not None
    payload = {
        "dispute_type": mediation.dispute_type,
        "agreement_date": court_date(record.row.sealed_at).isoformat(),
        "terms": term_texts(record.draft.terms),
        "applicants": [_party_payload(p, cipher) for p in mediation.parties],
        "agents": [],
    }
    case = await cases.create_case(session, actor, payload, cipher=cipher, now=now)
    case.mediation_id = mediation.id
    sealed = [("agreement", "人民调解协议书", record.row.pdf_path, record.row.pdf_sha256)]
    if record.row.transcript_pdf is not None and record.row.transcript_sha256 is not None:
        # The session's transcript proves the committee presided (Interp 354's 调解组织主持调解
        # 的证明): filed with the agreement, byte for byte as sealed.
        transcript = (record.row.transcript_pdf, record.row.transcript_sha256)
        sealed.append(("committee_proof", "调解笔录", *transcript))
    for category, title, path, sha256 in sealed:
        await materials.add_material(
            session,
            actor,
            case.id,
            category=category,
            filename=f"{title}（调{mediation.id}）.pdf",
            data=read_agreement(path, sha256),
            folder=materials_folder,
            cipher=cipher,
            limit=upload_limit,
            now=now,
        )
    case = await cases.submit(session, actor, case.id, now)
    details = {"case": case.id, "agreement_sha256": record.row.pdf_sha256}
    await mediations.record_event(
        session, actor.username, mediation, "mediation.confirmation_applied", details, now
    )
    return case


def _require_every_party_applies(mediation: MediationCase, signatures: list[Any]) -> None:
    """Art 33: the parties apply jointly; each said so, in their own tap, when signing."""
    applied = {
        s.party_position
        for s in signatures
        if s.party_position is not None and s.applies_for_confirmation
    }
    missing = [p.name for p in mediation.parties if p.position not in applied]
    if missing:
        raise _not_all_applied(missing)


async def application_of(session: AsyncSession, mediation_id: int) -> int | None:
    found: int | None = await session.scalar(
        select(Case.id).where(Case.mediation_id == mediation_id)
    )
    return found
