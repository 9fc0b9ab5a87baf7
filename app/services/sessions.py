"""The live session's steps (the rules' shell), its timeline and its transcript (笔录). Each
function runs inside the caller's transaction and writes its audit event there, so the record
and its trail commit together.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import session as rules
from app.domain.access import Actor
from app.domain.cases import DECIDED, State
from app.domain.clock import court_time
from app.domain.errors import (
    StoredFileDamaged,
)
from app.domain.grounds import REJECT_ITEM, REJECT_TEXT, RejectGround
from app.domain.live import party_participant
from app.domain.roles import Role
from app.files import read_verified
from app.services import presence, recording_required
from app.services.attendance import section as attendance_section
from app.services.cases import names_for
from app.services.session_records import (
    PartyPass,
    Result,
    Who,
    acting_party,
    append,
    case_for,
    done,
    event_of,
    event_rows,
    party_position,
    prepare,
    require_role,
    view_of,
)
from app.services.sessions_states import OPEN_STATES, RECORD_STATES
from app.store.models import (
    AuditEvent,
    Case,
    Room,
    Transcript,
)

TRANSCRIPT_TEMPLATE = "transcript.txt.j2"
log = logging.getLogger(__name__)

# --- the session's steps -------------------------------------------------------------------


async def read_state(session: AsyncSession, who: Who, case_id: int, now: dt.datetime) -> Result:
    case = await case_for(session, who, case_id)
    return await done(session, case, now)


async def check_in(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    require_role(actor, Role.KIOSK, "须由确认室终端自检签到。 / The room's kiosk checks in.")
    case, view = await prepare(
        session, actor, case_id, OPEN_STATES, "签到 / check the kiosk in", now
    )
    test = rules.SelfTest.read(data)
    payload = test.payload()
    await append(
        session,
        case,
        view,
        rules.Kind.CHECK_IN,
        None,
        payload,
        actor.username,
        now,
        audit_details=payload,
    )
    return await done(session, case, now)


async def admit(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Result:
    require_role(actor, Role.JUDGE, "只有审判员可以准许入室。 / Only the judge admits.")
    case, view = await prepare(
        session, actor, case_id, OPEN_STATES, "准许入室 / admit anyone to the room", now
    )
    if view.admitted_at is not None:
        return Result(case, view)  # the lobby may admit twice (a reconnect); the first counts
    # Admission is a record that someone was let into the video room: someone must be there.
    seats = await presence.lobby_ready(session, case, room, now)
    payload = {"presence": seats}
    await append(session, case, view, rules.Kind.ADMIT, None, payload, actor.username, now)
    return await done(session, case, now)


async def record_identity(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Result:
    require_role(actor, Role.JUDGE, "只有审判员可以核验身份。 / Only the judge checks identity.")
    case, view = await prepare(
        session, actor, case_id, RECORD_STATES, "核验身份 / record an identity check", now
    )
    party = party_position(data)
    check = rules.check_identity(view, party, data)
    what = ("尚不能记录身份核验", "Cannot record the identity check")
    await recording_required.require(session, case, what)
    seen = await presence.party_present(
        session, case, room, party, view.party(party).name, what, now
    )
    await append(
        session,
        case,
        view,
        rules.Kind.IDENTITY,
        party,
        {**check.payload(), "presence": seen},
        actor.username,
        now,
        audit_details={"method": check.method.value, "result": check.result.value},
    )
    return await done(session, case, now)


async def acknowledge_warning(
    session: AsyncSession, who: Who, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    if isinstance(who, Actor):
        require_role(who, Role.KIOSK, "须在确认室终端确认。 / Acknowledged at the room's kiosk.")
    case, view = await prepare(
        session, who, case_id, RECORD_STATES, "确认风险告知 / acknowledge the warning", now
    )
    party = acting_party(who, data)
    rules.check_warning(view, party)
    await append(session, case, view, rules.Kind.WARNING_ACK, party, {}, who.username, now)
    return await done(session, case, now)


async def consent(
    session: AsyncSession, who: Who, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    if isinstance(who, Actor):
        require_role(who, Role.KIOSK, "须由当事人在终端确认。 / Parties confirm at the kiosk.")
    case, view = await prepare(
        session, who, case_id, RECORD_STATES, "确认申请 / confirm the application", now
    )
    party = acting_party(who, data)
    rules.check_consent(view, party)
    device = "own_device" if isinstance(who, PartyPass) else "kiosk"
    await append(
        session,
        case,
        view,
        rules.Kind.CONSENT,
        party,
        {"device": device},
        who.username,
        now,
        audit_details={"device": device},
    )
    return await done(session, case, now)


async def record_answers(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Result:
    require_role(actor, Role.JUDGE, "只有审判员可以记录询问。 / Only the judge records answers.")
    case, view = await prepare(
        session, actor, case_id, RECORD_STATES, "记录询问 / record the answers", now
    )
    party = party_position(data)
    answers = rules.check_answers(view, party, data)
    what = ("尚不能记录询问", "Cannot record the answers")
    await recording_required.require(session, case, what)
    seen = await presence.party_present(
        session, case, room, party, view.party(party).name, what, now
    )
    await append(
        session,
        case,
        view,
        rules.Kind.ANSWERS,
        party,
        {**answers.payload(), "presence": seen},
        actor.username,
        now,
        audit_details={"agreed_freely": answers.agreed_freely, "understands": answers.understands},
    )
    return await done(session, case, now)


async def record_review(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    require_role(actor, Role.JUDGE, "只有审判员可以审查。 / Only the judge reviews.")
    case, view = await prepare(
        session, actor, case_id, RECORD_STATES, "记录审查 / record the review", now
    )
    items = rules.check_review(view, data)
    await append(
        session,
        case,
        view,
        rules.Kind.REVIEW,
        None,
        rules.review_payload(items),
        actor.username,
        now,
        audit_details={"present": {g.value: i.present for g, i in items.items()}},
    )
    return await done(session, case, now)


async def reconvene(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    """A further session (after an adjournment or a broken connection): records start afresh
    and identity is verified again (人民法院在线诉讼规则 art 7)."""
    require_role(actor, Role.JUDGE, "只有审判员可以另行开庭。 / Only the judge reconvenes.")
    case, view = await prepare(session, actor, case_id, RECORD_STATES, "另行开庭 / reconvene", now)
    number = view.number + 1
    await append(
        session, case, view, rules.Kind.OPENED, None, {}, actor.username, now, session_no=number
    )
    return await done(session, case, now)


async def check_ready(
    session: AsyncSession, case: Case, decision: str, ground: RejectGround | str | None = None
) -> None:
    """Refuse a decision the session's records do not carry (call before recording it).

    Confirm: every party passed identity, acknowledged the warning, confirmed at the kiosk and
    answered yes twice, and all six Interp 358 items were found absent. Reject: the ground was
    found present in the review, or (not_voluntary) a party answered no. Withdraw: always.
    """
    reason = RejectGround(ground) if isinstance(ground, str) else ground
    # The view's timings need a "now" but the rules checked here do not read them.
    view = await view_of(session, case, case.updated_at)
    rules.check_decision(view, decision, reason)


# --- transcript (笔录) ---------------------------------------------------------------------

DEVICE_TEXT = {"kiosk": "确认室终端", "own_device": "本人设备"}
# Entering the video room is when a remote party joined the hearing; redeeming the code is
# the fallback for a device whose video never connected (it still acted in the session).
_JOIN_ACTIONS = ("room.join", "session.party_joined")


@dataclass(frozen=True)
class TranscriptParty:
    name: str
    identity_method: str
    identity_result: str
    identity_reference: str
    identity_note: str
    identity_at: dt.datetime | None
    warning_at: dt.datetime | None
    consented_at: dt.datetime | None
    agreed_freely: bool | None
    understands: bool | None
    answer_note: str
    remote: bool = False  # on their own device (a join code), not at the hall's room
    joined_at: dt.datetime | None = None  # when a remote party joined this session
    warning_device: str = DEVICE_TEXT["kiosk"]
    consent_device: str = DEVICE_TEXT["kiosk"]


@dataclass(frozen=True)
class TranscriptReviewItem:
    number: int
    text: str
    answered: bool
    present: bool
    note: str


@dataclass(frozen=True)
class _Attendance:
    remote: bool
    joined_at: dt.datetime | None
    warning_device: str
    consent_device: str


def _join_time(times: list[dt.datetime], started: dt.datetime | None) -> dt.datetime | None:
    """The seat's entry that this session saw: its latest entry by the session's start (a
    reconvened session keeps the seat that was already in the room), else its first after."""
    if not times:
        return None
    before = [t for t in times if started is not None and t <= started]
    return before[-1] if before else min(times)


async def _attendance(
    session: AsyncSession, case: Case, view: rules.SessionView
) -> dict[int, _Attendance]:
    """How each party took part in the session the transcript covers: at the hall's room
    (the kiosk acted for them) or remotely on their own device (their seat's records).

    Where the party confirmed decides; without a confirmation (a party who said no), whether
    their own device entered the room. The seat acts under the party's pass name in both the
    session's records and the room's audit (app/domain/live.py party_participant)."""
    seats = {p.position: party_participant(case.id, p.position) for p in view.parties}
    warned_on_device = {
        row.party_position
        for row in await event_rows(session, case.id)
        if row.session_no == view.number
        and row.kind == rules.Kind.WARNING_ACK.value
        and row.party_position is not None
        and row.actor == seats.get(row.party_position)
    }
    result = await session.execute(
        select(AuditEvent.actor, AuditEvent.action, AuditEvent.at)
        .where(
            AuditEvent.case_id == case.id,
            AuditEvent.action.in_(_JOIN_ACTIONS),
            AuditEvent.actor.in_(list(seats.values())),
        )
        .order_by(AuditEvent.seq)
    )
    joins: dict[tuple[str, str], list[dt.datetime]] = {}
    for actor, action, at in result.all():
        joins.setdefault((actor, action), []).append(at)
    out = {}
    for p in view.parties:
        seat = seats[p.position]
        entered = joins.get((seat, "room.join")) or joins.get((seat, "session.party_joined")) or []
        if p.consent_device is not None:
            remote = p.consent_device is rules.Device.OWN_DEVICE
        else:
            remote = bool(joins.get((seat, "room.join")))
        out[p.position] = _Attendance(
            remote=remote,
            joined_at=_join_time(sorted(entered), view.started_at) if remote else None,
            warning_device=DEVICE_TEXT["own_device" if p.position in warned_on_device else "kiosk"],
            consent_device=DEVICE_TEXT[(p.consent_device or rules.Device.KIOSK).value],
        )
    return out


async def _transcript_context(
    session: AsyncSession, case: Case, view: rules.SessionView, now: dt.datetime
) -> dict[str, Any]:
    names = await names_for(session, case)
    room = await session.get(Room, case.room_id) if case.room_id else None
    attendance = await _attendance(session, case, view)
    parties = []
    for p in view.parties:
        check = p.identity
        how = attendance[p.position]
        parties.append(
            TranscriptParty(
                name=p.name,
                identity_method=rules.ID_METHOD_TEXT[check.method] if check else "",
                identity_result=("通过" if check.passed else "未通过") if check else "",
                identity_reference=check.reference if check else "",
                identity_note=check.note if check else "",
                identity_at=p.identity_at,
                warning_at=p.warning_at,
                consented_at=p.consented_at,
                agreed_freely=p.answers.agreed_freely if p.answers else None,
                understands=p.answers.understands if p.answers else None,
                answer_note=p.answers.note if p.answers else "",
                remote=how.remote,
                joined_at=how.joined_at,
                warning_device=how.warning_device,
                consent_device=how.consent_device,
            )
        )
    review = [
        TranscriptReviewItem(
            REJECT_ITEM[g],
            REJECT_TEXT[g],
            g in view.review,
            view.review[g].present if g in view.review else False,
            view.review[g].note if g in view.review else "",
        )
        for g in RejectGround
    ]
    decided = State(case.state) in DECIDED or case.decided_at is not None
    ground = RejectGround(case.decision_ground) if case.decision_ground else None
    return {
        "court_name": names.court,
        "case_number": case.case_number or f"（案件{case.id}）",
        "session_number": view.number,
        "started_at": view.started_at,
        "ended_at": case.decided_at if decided else None,
        "made_at": now,
        "place": room.name if room is not None else "",
        "judge_name": names.accounts.get(case.judge_id or 0, ""),
        "clerk_name": names.accounts.get(case.clerk_id or 0, ""),
        "mediator_name": names.accounts.get(case.mediator_id, ""),
        "committee_name": names.committee,
        "dispute_type": case.dispute_type,
        "agreement_date": case.agreement_date,
        "parties": parties,
        "review": review,
        "decision": case.decision if decided else None,
        "decided_at": case.decided_at,
        "ground_text": REJECT_TEXT[ground] if ground else "",
        "reasons": case.decision_reasons or "",
        # Who was in the video room when, and the recording: what the text may claim.
        "without_recording": [
            {"at": court_time(e.at).strftime("%H:%M:%S"), "reason": e.payload.get("reason", "")}
            for e in await _events_of(session, case, view.number, rules.Kind.WITHOUT_RECORDING)
        ],
        "attendance": await attendance_section(
            session, case, view.started_at or now, (case.decided_at if decided else None) or now
        ),
    }


async def _events_of(
    session: AsyncSession, case: Case, number: int, kind: rules.Kind
) -> list[rules.Event]:
    rows = await event_rows(session, case.id)
    return [event_of(r) for r in rows if r.session_no == number and r.kind == kind.value]


async def transcript_source(
    session: AsyncSession, case: Case, now: dt.datetime
) -> tuple[int, dict[str, Any]] | None:
    """(session number, the template's context) as the records stand; None when no session
    has begun (a withdrawal before the hearing), so there is nothing to transcribe."""
    view = await view_of(session, case, now)
    if view.started_at is None:
        return None
    return view.number, await _transcript_context(session, case, view, now)


async def transcript_of(session: AsyncSession, case_id: int) -> Transcript | None:
    """The transcript archived when the ruling was issued, if it has been."""
    return await session.scalar(select(Transcript).where(Transcript.case_id == case_id))


def archived_bytes(stored: Transcript, folder: Path) -> bytes:
    """The archived file, checked against the hash recorded at issue: the response and the
    audit name that hash, so no other bytes may go out under it."""
    damaged = StoredFileDamaged(
        "笔录文件已损坏或被改动，请联系管理员。 / The archived transcript is damaged or was "
        "altered; contact the administrator."
    )
    pdf = read_verified(folder / stored.storage_name, stored.sha256)
    if pdf is None:
        log.error("transcript %s of case %s is unreadable or altered", stored.id, stored.case_id)
        raise damaged
    return pdf
