"""Deciding, issuing the signed ruling, serving it on the parties, and finding it again."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import refusals
from app.domain.access import Actor
from app.domain.cases import State, Step, advance
from app.domain.clock import COURT_TZ, court_date
from app.domain.errors import Conflict, NotFound, NotPermitted, ValidationError
from app.domain.grounds import REJECT_ITEM, REJECT_TEXT, RejectGround
from app.domain.people import IdType
from app.domain.roles import Role
from app.files import issued_file
from app.keyring import FieldCipher
from app.ruling import model as doc
from app.ruling.desk import RulingDesk
from app.services import (
    presence,
    recording_required,
    sessions,
    transcript_review,
)
from app.services.cases import _take_step, load_case, names_for, visible_cases
from app.store.db import Database
from app.store.models import Case, Party, PartyDetails, Ruling, ServiceReceipt, Transcript

DECISION_STEP = {"confirm": Step.CONFIRM, "reject": Step.REJECT, "withdraw": Step.WITHDRAW}
OUTCOME = {State.CONFIRMED: "confirmed", State.REJECTED: "rejected", State.WITHDRAWN: "withdrawn"}
ID_LABEL = {
    IdType.RESIDENT_ID: "公民身份号码",
    IdType.PASSPORT: "护照号码",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证号码",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证号码",
}


async def decide(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Case:
    """The judge's decision: confirm, reject on an Interp 358 ground, or allow withdrawal."""
    case = await load_case(session, actor, case_id)
    decision = data.get("decision")
    if decision not in DECISION_STEP:
        raise ValidationError([("decision", refusals.DECISION)])
    step = DECISION_STEP[decision]
    advance(State(case.state), step, actor.role)
    reasons = data.get("reasons") or None
    if reasons is not None and (not isinstance(reasons, str) or len(reasons) > 2000):
        raise ValidationError([("reasons", refusals.text_up_to(2000))])
    ground = None
    if step is Step.REJECT:
        try:
            ground = RejectGround(str(data.get("ground")))
        except ValueError:
            raise ValidationError([("ground", refusals.one_of(RejectGround))]) from None
    elif data.get("ground"):
        raise ValidationError([("ground", "只有驳回才注明事由。 / Only a rejection has a ground.")])
    # The session's records must carry the decision (identity, consents, review).
    await sessions.check_ready(session, case, decision, ground)
    # Announced over video to the people it concerns (a withdrawal needs nobody: Interp 357).
    heard = None
    if step is not Step.WITHDRAW:
        heard = await presence.hearing_present(session, case, room, now)
        what = ("尚不能作出裁定", "Cannot decide")
        await recording_required.require(session, case, what)
    case.decision, case.decided_at = decision, now
    case.decision_ground = ground.value if ground else None
    case.decision_reasons = reasons if step is Step.REJECT else None
    details = {"ground": case.decision_ground, **({"presence": heard} if heard else {})}
    await _take_step(session, actor, case, step, now, details)
    return case


async def open_session(session: AsyncSession, actor: Actor, case_id: int, now: dt.datetime) -> Case:
    case = await load_case(session, actor, case_id)
    await _take_step(session, actor, case, Step.OPEN_SESSION, now)
    return case


async def ruling_of(session: AsyncSession, case_id: int) -> Ruling | None:
    return await session.scalar(select(Ruling).where(Ruling.case_id == case_id))


def document_party(party: PartyDetails, cipher: FieldCipher) -> doc.ApplicantBlock:
    """A party as a document prints it (a ruling's applicant, a mediation agreement's party)."""
    if party.kind == "organisation":
        return doc.Organisation(
            name=party.name,
            address=party.address,
            legal_representative=party.legal_representative or "",
            credit_code=party.credit_code or "",
        )
    assert party.birth_date is not None and party.id_number_enc is not None
    return doc.NaturalPerson(
        name=party.name,
        sex="男" if party.sex == "male" else "女",
        birth_date=party.birth_date,
        ethnicity=party.ethnicity or "",
        address=party.address,
        id_number=cipher.decrypt(party.id_number_enc, purpose="party.id_number"),
        id_label=ID_LABEL[IdType(party.id_type or IdType.RESIDENT_ID)],
    )


async def ruling_data(
    session: AsyncSession, case: Case, cipher: FieldCipher, url: str, today: dt.date
) -> doc.RulingData:
    names = await names_for(session, case)
    assert case.case_number and case.submitted_at and case.judge_id and case.clerk_id
    applicants = tuple(document_party(p, cipher) for p in case.parties)
    agents = tuple(
        doc.Agent(a.name, case.parties[a.represents_position].name, a.authority)
        for a in case.agents
    )
    ground = None
    if case.decision_ground:
        reject = RejectGround(case.decision_ground)
        ground = doc.RejectionGround(REJECT_ITEM[reject], REJECT_TEXT[reject])
    return doc.RulingData(
        court_name=names.court,
        case_number=case.case_number,
        outcome=OUTCOME[State(case.state)],  # type: ignore[arg-type]
        applicants=applicants,
        agents=agents,
        committee_name=names.committee,
        application_date=court_date(case.submitted_at),
        agreement_date=case.agreement_date,
        terms=tuple(t.text for t in case.terms),
        judge_name=names.accounts[case.judge_id],
        clerk_name=names.accounts[case.clerk_id],
        decision_date=today,
        verification_url=url,
        rejection_ground=ground,
        rejection_reasons=case.decision_reasons,
    )


def verification_url(public_url: str, token: str) -> str:
    """The public page that verifies a ruling: printed as its QR code, given to readers."""
    return f"{public_url}/verify/{token}"


# Stands in for the random verification token, which is drawn only when the ruling is issued.
DRAFT_TOKEN = "draft"


async def draft(
    session: AsyncSession,
    desk: RulingDesk,
    cipher: FieldCipher,
    actor: Actor,
    case_id: int,
    *,
    public_url: str,
    now: dt.datetime,
) -> tuple[Case, list[dict[str, Any]]]:
    """The ruling as it would be issued now, for the judge to read before signing: decided and
    not yet issued, and only for whoever may issue it."""
    case = await load_case(session, actor, case_id)
    if await ruling_of(session, case.id) is not None:
        raise Conflict(
            "裁定书已出具，请查看已签章的裁定书。"
            " / The ruling has been issued: read the signed one.",
            code="already_issued",
        )
    advance(State(case.state), Step.ISSUE_RULING, actor.role)
    data = await ruling_data(
        session, case, cipher, verification_url(public_url, DRAFT_TOKEN), court_date(now)
    )
    return case, desk.ruling_draft(data)


@dataclass(frozen=True)
class Issued:
    ruling: Ruling
    transcript: Transcript | None  # None: no session was held (a withdrawal before it)
    created: bool


async def issue(
    db: Database,
    desk: RulingDesk,
    cipher: FieldCipher,
    actor: Actor,
    case_id: int,
    *,
    folder: Path,
    public_url: str,
    now: dt.datetime,
) -> Issued:
    """Render, sign, store and record the ruling and the session's transcript (笔录) with it.
    Asking again returns the same ruling and transcript.

    Rendering and signing run outside any transaction (they take tens of milliseconds and must
    not hold the database's write lock); the records are then written in one transaction that
    checks the case has not moved meanwhile. Both documents are rendered before either file is
    written, and a file whose record does not commit is removed: both are issued, or neither.
    """
    async with db.transaction() as session:
        case = await load_case(session, actor, case_id)
        existing = await ruling_of(session, case.id)
        if existing is not None:
            if actor.role is not Role.JUDGE:
                raise NotPermitted("只有承办审判员可以出具裁定。 / Only the judge issues.")
            return Issued(existing, await sessions.transcript_of(session, case.id), False)
        advance(State(case.state), Step.ISSUE_RULING, actor.role)
        token = secrets.token_urlsafe(24)
        data = await ruling_data(
            session, case, cipher, verification_url(public_url, token), court_date(now)
        )
        # The records cannot change any more: they are written only while the case is in
        # session, and the case version is checked again below.
        # Archived only once every party has reviewed it (民事诉讼法 art 150): refused before.
        source = await transcript_review.archive_source(session, case, desk, now)
        version = case.version
    # First: a court without its own signing key is refused (NoSigningKey) before anything is
    # rendered or written. The transcript names the same court, so the same certificate signs it.
    signer_sha256 = await desk.signer_sha256(data.court_name, data.case_number)
    signed = await desk.ruling(data)
    pdf = signed.pdf
    minutes = await desk.transcript(source[1]) if source is not None else None
    stem = f"{court_date(now).year}/{case_id}-{token[:12]}"
    storage_name = f"{stem}.pdf"
    minutes_name = f"{stem}-transcript.pdf"
    with ExitStack() as files:
        # Unwound in reverse on any failure below, the second file's included.
        files.enter_context(issued_file(folder / storage_name, pdf))
        if minutes is not None:
            files.enter_context(issued_file(folder / minutes_name, minutes))
        async with db.transaction() as session:
            case = await load_case(session, actor, case_id)
            if case.version != version:
                raise Conflict("案件已被他人修改，请刷新后重试。 / The case changed; reload.")
            ruling = Ruling(
                case_id=case.id,
                outcome=data.outcome,
                storage_name=storage_name,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size=len(pdf),
                signer_cert_sha256=signer_sha256,
                signature_level=desk.level,
                verify_token=token,
                issued_at=now,
                issued_by=actor.account_id,
                screen_text=signed.screen,
            )
            session.add(ruling)
            transcript = None
            details = {
                "sha256": ruling.sha256,
                "signer_cert_sha256": ruling.signer_cert_sha256,
                "level": ruling.signature_level,
                "file": storage_name,
            }
            if source is not None and minutes is not None:
                await session.flush()  # the ruling's id, for the transcript's row
                transcript = Transcript(
                    case_id=case.id,
                    ruling_id=ruling.id,
                    session_no=source[0],
                    storage_name=minutes_name,
                    sha256=hashlib.sha256(minutes).hexdigest(),
                    size=len(minutes),
                    signer_cert_sha256=signer_sha256,
                    signature_level=desk.level,
                    created_at=now,
                )
                session.add(transcript)
                details |= {"transcript_sha256": transcript.sha256, "transcript_file": minutes_name}
            await _take_step(session, actor, case, Step.ISSUE_RULING, now, details)
    return Issued(ruling, transcript, created=True)


async def transcripts_of(session: AsyncSession, case_ids: list[int]) -> dict[int, Transcript]:
    """Archived transcripts by case, for lists of rulings."""
    if not case_ids:
        return {}
    rows = await session.scalars(select(Transcript).where(Transcript.case_id.in_(case_ids)))
    return {t.case_id: t for t in rows}


@dataclass(frozen=True)
class RulingSearch:
    case_number: str = ""
    party: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    outcome: str = ""


def search_query(actor: Actor, search: RulingSearch) -> Select[Case, Ruling]:
    cases = visible_cases(actor).subquery()
    query = (
        select(Case, Ruling)
        .join(Ruling, Ruling.case_id == Case.id)
        .where(Case.id.in_(select(cases.c.id)))
    )
    if search.case_number:
        query = query.where(Case.case_number.contains(search.case_number.strip()))
    if search.party:
        query = query.where(
            exists().where(
                and_(Party.case_id == Case.id, Party.name.contains(search.party.strip()))
            )
        )
    if search.outcome:
        query = query.where(Ruling.outcome == search.outcome)
    if search.date_from:
        query = query.where(
            Ruling.issued_at >= dt.datetime.combine(search.date_from, dt.time(), COURT_TZ)
        )
    if search.date_to:
        end = search.date_to + dt.timedelta(days=1)
        query = query.where(Ruling.issued_at < dt.datetime.combine(end, dt.time(), COURT_TZ))
    return query.order_by(Ruling.issued_at.desc()).limit(500)


async def find_by_token(session: AsyncSession, token: str) -> tuple[Case, Ruling]:
    ruling = await session.scalar(select(Ruling).where(Ruling.verify_token == token))
    if ruling is None or len(token) > 64:
        raise NotFound("没有找到该裁定书。 / No ruling with that code.")
    case = await session.get(Case, ruling.case_id)
    assert case is not None
    return case, ruling


async def find_voucher_by_token(
    session: AsyncSession, token: str
) -> tuple[Case, Ruling, ServiceReceipt] | None:
    """The voucher whose QR code carries token, with its case and the ruling it served; None
    when no voucher has it (the token may be a ruling's)."""
    if len(token) > 64:
        return None
    query = select(ServiceReceipt).where(ServiceReceipt.verify_token == token)
    receipt = await session.scalar(query)
    if receipt is None:
        return None
    case = await session.get(Case, receipt.case_id)
    ruling = await ruling_of(session, receipt.case_id)
    assert case is not None and ruling is not None
    return case, ruling, receipt
