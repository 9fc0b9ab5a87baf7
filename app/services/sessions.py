"""The live session's records: storing its events, the rules' shell, join codes, timeline,
and the transcript (笔录). Each function runs inside the caller's transaction and writes its
audit event there, so the record and its trail commit together.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import refusals
from app.domain import session as rules
from app.domain.access import KIOSK_STATES, Actor
from app.domain.cases import DECIDED, State
from app.domain.clock import court_time
from app.domain.errors import (
    Conflict,
    NotFound,
    NotPermitted,
    StoredFileDamaged,
    Unauthenticated,
    ValidationError,
    WrongState,
)
from app.domain.grounds import REJECT_ITEM, REJECT_TEXT, RejectGround
from app.domain.live import party_participant
from app.domain.roles import Role
from app.files import read_verified
from app.ruling.desk import RulingDesk
from app.services import audit, presence
from app.services.attendance import section as attendance_section
from app.services.cases import load_case, names_for
from app.store.db import Database
from app.store.models import (
    AuditEvent,
    Case,
    PartyCode,
    Room,
    ServiceReceipt,
    SessionEventRow,
    Transcript,
)

# A kiosk checks in and the judge admits before the session is opened; the hearing's own
# records (identity, answers, consents, review) only while it is open.
OPEN_STATES = frozenset({State.SCHEDULED, State.IN_SESSION})
RECORD_STATES = frozenset({State.IN_SESSION})
# A party away from the hall may need a code after the hearing too: to read the ruling and sign
# for it on their own device (a phone that died at the decision, a ruling issued after the first
# pass expired). Until every party is served.
CODE_STATES = OPEN_STATES | {
    State.CONFIRMED,
    State.REJECTED,
    State.WITHDRAWN,
    State.RULING_ISSUED,
}
CODE_TTL = dt.timedelta(minutes=10)
PARTY_TOKEN_TTL = dt.timedelta(minutes=60)  # one session with room to spare
# No 0/O, 1/I/L: read aloud or copied from a slip. 10 characters ≈ 49 bits, single use and
# ten minutes' life: guessing a live code is out of reach without a lockout.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_TOKEN_DOMAIN = b"sifa-party-token-v1."  # a MAC for another use of the secret never passes
MAX_TOKEN_CHARS = 512
TRANSCRIPT_TEMPLATE = "transcript.txt.j2"
log = logging.getLogger(__name__)


# --- parties on their own device -------------------------------------------------------------


@dataclass(frozen=True)
class PartyPass:
    """A party who joined with a one-time code: may see its case's session and confirm."""

    case_id: int
    party: int
    code_id: int
    expires_at: int  # POSIX seconds

    @property
    def username(self) -> str:
        return party_participant(self.case_id, self.party)


Who = Actor | PartyPass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> bytes:
    return hmac.new(secret, _TOKEN_DOMAIN + payload.encode("ascii"), hashlib.sha256).digest()


def issue_party_token(secret: bytes, claims: PartyPass) -> str:
    body = {"c": claims.case_id, "p": claims.party, "j": claims.code_id, "e": claims.expires_at}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify_party_token(secret: bytes, token: str, now: dt.datetime) -> PartyPass:
    refused = Unauthenticated("当事人凭证无效，请重新输入加入码。 / The party token is invalid.")
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise refused
    payload, signature = token.split(".")
    try:
        valid = hmac.compare_digest(_unb64(signature), _mac(secret, payload))
        body = json.loads(_unb64(payload)) if valid else None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused from None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), int) for k in "cpje"):
        raise refused
    claims = PartyPass(body["c"], body["p"], body["j"], body["e"])
    if now.timestamp() >= claims.expires_at:
        raise Unauthenticated("当事人凭证已过期，请重新获取加入码。 / The party token expired.")
    return claims


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once; only its hash is stored
    case_id: int
    party: int
    party_name: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Joined:
    token: str
    case_id: int
    party: int
    party_name: str
    expires_at: dt.datetime


async def issue_party_code(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> IssuedCode:
    case = await load_case(session, actor, case_id)
    if actor.role is not Role.MEDIATOR or case.mediator_id != actor.account_id:
        raise NotPermitted(
            "只有本案调解员可以发放加入码。 / Only the case's mediator issues codes."
        )
    _require_state(case, CODE_STATES, "发放加入码 / issue a join code")
    party = _party_position(data)
    name = party_name(case, party)
    done = await receipt_of(session, case.id, party)
    if done is not None:  # served on this party already: nothing left to join for
        raise already_acknowledged(done)
    code = new_code()
    row = PartyCode(
        case_id=case.id,
        party_position=party,
        code_hash=code_hash(code),
        issued_by=actor.account_id,
        issued_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    await session.flush()
    await _audit(
        session, actor.username, case, "code_issued", now, {"party": party, "code": row.id}
    )
    return IssuedCode(code, case.id, party, name, row.expires_at)


async def join(session: AsyncSession, code: object, secret: bytes, now: dt.datetime) -> Joined:
    """A one-time code for a party's own device → a signed party token; the code is spent."""
    if not isinstance(code, str) or len(normalise_code(code)) != CODE_LENGTH:
        raise ValidationError([("code", "加入码为10位字母或数字。 / The code has 10 characters.")])
    row = await session.scalar(select(PartyCode).where(PartyCode.code_hash == code_hash(code)))
    if row is None:
        raise NotFound("加入码不存在。 / No such join code.", code="join_code_unknown")
    if row.used_at is not None:
        raise NotPermitted(
            "该加入码已使用，请向调解员重新获取。 / This code was already used; ask for a new one.",
            code="join_code_used",
        )
    if now >= row.expires_at:
        raise NotPermitted(
            "该加入码已过期，请向调解员重新获取。 / This code has expired; ask for a new one.",
            code="join_code_expired",
        )
    case = await session.get(Case, row.case_id)
    assert case is not None
    _require_state(case, CODE_STATES, "加入 / join")
    row.used_at = now
    expires = now + PARTY_TOKEN_TTL
    claims = PartyPass(case.id, row.party_position, row.id, int(expires.timestamp()))
    await _audit(
        session,
        claims.username,
        case,
        "party_joined",
        now,
        {"party": row.party_position, "code": row.id},
    )
    name = party_name(case, row.party_position)
    return Joined(issue_party_token(secret, claims), case.id, row.party_position, name, expires)


# --- loading and appending -----------------------------------------------------------------


def already_acknowledged(receipt: ServiceReceipt) -> Conflict:
    at = court_time(receipt.acknowledged_at).strftime("%H:%M:%S")
    return Conflict(
        f"申请人{receipt.recipient_name}已于{at}签收，不能重复签收。 / "
        f"{receipt.recipient_name} already acknowledged receipt at {at}.",
        code="already_acknowledged",
    )


async def receipt_of(session: AsyncSession, case_id: int, position: int) -> ServiceReceipt | None:
    return await session.scalar(
        select(ServiceReceipt).where(
            ServiceReceipt.case_id == case_id, ServiceReceipt.party_position == position
        )
    )


async def case_for(session: AsyncSession, who: Who, case_id: int) -> Case:
    """The case as the caller may see it: an account by its access rules; a party's pass only
    its own case while the room may see it (any other case reads as missing)."""
    if isinstance(who, Actor):
        return await load_case(session, who, case_id)
    case = await session.get(Case, case_id)
    # Another case than the token's gets the same answer as a missing case.
    if case is None or who.case_id != case_id or State(case.state) not in KIOSK_STATES:
        raise NotFound(f"没有编号为 {case_id} 的案件。 / No case {case_id}.")
    return case


def _require_role(who: Who, role: Role, text: str) -> Actor:
    if not isinstance(who, Actor) or who.role is not role:
        raise NotPermitted(text)
    return who


def _require_state(case: Case, states: frozenset[State], what: str) -> None:
    """`what` is "中文 / English", e.g. "确认 / confirm"."""
    if State(case.state) not in states:
        zh, _, en = what.partition(" / ")
        raise WrongState(
            f'案件状态为"{case.state}"，不能{zh}。 / Cannot {en} in state "{case.state}".'
        )


def _party_position(data: Mapping[str, Any]) -> int:
    value = data.get("party")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError([("party", refusals.PARTY_POSITION)])
    return value


def party_name(case: Case, position: int) -> str:
    for party in case.parties:
        if party.position == position:
            return party.name
    raise ValidationError([("party", f"没有第{position}号申请人。 / No party {position}.")])


def _acting_party(who: Who, data: Mapping[str, Any]) -> int:
    """A kiosk names the party; a party's own device may act only for that party."""
    if isinstance(who, PartyPass):
        if "party" in data and data["party"] != who.party:
            raise NotPermitted("只能为本人确认。 / A party confirms only for themself.")
        return who.party
    return _party_position(data)


async def _lock(session: AsyncSession, case: Case) -> None:
    """Serialise writers of one case's session (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    does), so two taps at once cannot both pass the rules against the same state."""
    await session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


async def _rows(session: AsyncSession, case_id: int) -> list[SessionEventRow]:
    result = await session.execute(
        select(SessionEventRow)
        .where(SessionEventRow.case_id == case_id)
        .order_by(SessionEventRow.session_no, SessionEventRow.seq)
    )
    return list(result.scalars())


def _event(row: SessionEventRow) -> rules.Event:
    return rules.Event(
        row.session_no,
        row.seq,
        rules.Kind(row.kind),
        row.party_position,
        json.loads(row.payload),
        row.at,
        row.actor,
    )


async def _served_at(session: AsyncSession, case: Case) -> dt.datetime | None:
    if State(case.state) not in (State.SERVED, State.ARCHIVED):
        return None
    result: dt.datetime | None = await session.scalar(
        select(func.max(ServiceReceipt.acknowledged_at)).where(ServiceReceipt.case_id == case.id)
    )
    return result


async def view_of(session: AsyncSession, case: Case, now: dt.datetime) -> rules.SessionView:
    events = [_event(r) for r in await _rows(session, case.id)]
    return rules.derive(
        events,
        {p.position: p.name for p in case.parties},
        now=now,
        decided_at=case.decided_at,
        served_at=await _served_at(session, case),
    )


async def _audit(
    session: AsyncSession,
    actor: str,
    case: Case,
    action: str,
    now: dt.datetime,
    details: Mapping[str, Any],
) -> None:
    await audit.append(
        session,
        actor=actor,
        action=f"session.{action}",
        case_id=case.id,
        details=dict(details),
        now=now,
    )


async def _append(
    session: AsyncSession,
    case: Case,
    view: rules.SessionView,
    kind: rules.Kind,
    party: int | None,
    payload: Mapping[str, Any],
    actor: str,
    now: dt.datetime,
    *,
    session_no: int | None = None,
    audit_details: Mapping[str, Any] | None = None,
) -> None:
    number = session_no or view.number
    last = await session.scalar(
        select(func.max(SessionEventRow.seq)).where(
            SessionEventRow.case_id == case.id, SessionEventRow.session_no == number
        )
    )
    session.add(
        SessionEventRow(
            case_id=case.id,
            session_no=number,
            seq=(last or 0) + 1,
            kind=kind.value,
            party_position=party,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            at=now,
            actor=actor,
        )
    )
    await session.flush()
    # Notes and references stay in the session record; the audit trail keeps the facts.
    details = {"session": number, **({"party": party} if party is not None else {})}
    await _audit(session, actor, case, kind.value, now, {**details, **(audit_details or {})})


@dataclass(frozen=True)
class Result:
    case: Case
    view: rules.SessionView


async def _prepare(
    session: AsyncSession,
    who: Who,
    case_id: int,
    states: frozenset[State],
    what: str,
    now: dt.datetime,
) -> tuple[Case, rules.SessionView]:
    case = await case_for(session, who, case_id)
    _require_state(case, states, what)
    await _lock(session, case)
    return case, await view_of(session, case, now)


async def _done(session: AsyncSession, case: Case, now: dt.datetime) -> Result:
    return Result(case, await view_of(session, case, now))


# --- the session's steps -------------------------------------------------------------------


async def read_state(session: AsyncSession, who: Who, case_id: int, now: dt.datetime) -> Result:
    case = await case_for(session, who, case_id)
    return await _done(session, case, now)


async def check_in(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    _require_role(actor, Role.KIOSK, "须由确认室终端自检签到。 / The room's kiosk checks in.")
    case, view = await _prepare(session, actor, case_id, OPEN_STATES, "签到 / check in", now)
    test = rules.SelfTest.read(data)
    payload = test.payload()
    await _append(
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
    return await _done(session, case, now)


async def admit(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Result:
    _require_role(actor, Role.JUDGE, "只有审判员可以准许入室。 / Only the judge admits.")
    case, view = await _prepare(session, actor, case_id, OPEN_STATES, "准许入室 / admit", now)
    if view.admitted_at is not None:
        return Result(case, view)  # the lobby may admit twice (a reconnect); the first counts
    # Admission is a record that someone was let into the video room: someone must be there.
    seats = await presence.lobby_ready(session, case, room, now)
    payload = {"presence": seats}
    await _append(session, case, view, rules.Kind.ADMIT, None, payload, actor.username, now)
    return await _done(session, case, now)


async def record_identity(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Result:
    _require_role(actor, Role.JUDGE, "只有审判员可以核验身份。 / Only the judge checks identity.")
    case, view = await _prepare(session, actor, case_id, RECORD_STATES, "核验身份 / verify", now)
    party = _party_position(data)
    check = rules.check_identity(view, party, data)
    what = ("尚不能记录身份核验", "Cannot record the identity check")
    seen = await presence.party_present(
        session, case, room, party, view.party(party).name, what, now
    )
    await _append(
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
    return await _done(session, case, now)


async def acknowledge_warning(
    session: AsyncSession, who: Who, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    if isinstance(who, Actor):
        _require_role(who, Role.KIOSK, "须在确认室终端确认。 / Acknowledged at the room's kiosk.")
    case, view = await _prepare(session, who, case_id, RECORD_STATES, "确认告知 / confirm", now)
    party = _acting_party(who, data)
    rules.check_warning(view, party)
    await _append(session, case, view, rules.Kind.WARNING_ACK, party, {}, who.username, now)
    return await _done(session, case, now)


async def consent(
    session: AsyncSession, who: Who, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    if isinstance(who, Actor):
        _require_role(who, Role.KIOSK, "须由当事人在终端确认。 / Parties confirm at the kiosk.")
    case, view = await _prepare(session, who, case_id, RECORD_STATES, "确认 / confirm", now)
    party = _acting_party(who, data)
    rules.check_consent(view, party)
    device = "own_device" if isinstance(who, PartyPass) else "kiosk"
    await _append(
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
    return await _done(session, case, now)


async def record_answers(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    room: presence.Look,
) -> Result:
    _require_role(actor, Role.JUDGE, "只有审判员可以记录询问。 / Only the judge records answers.")
    case, view = await _prepare(session, actor, case_id, RECORD_STATES, "记录询问 / record", now)
    party = _party_position(data)
    answers = rules.check_answers(view, party, data)
    what = ("尚不能记录询问", "Cannot record the answers")
    seen = await presence.party_present(
        session, case, room, party, view.party(party).name, what, now
    )
    await _append(
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
    return await _done(session, case, now)


async def record_review(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    _require_role(actor, Role.JUDGE, "只有审判员可以审查。 / Only the judge reviews.")
    case, view = await _prepare(session, actor, case_id, RECORD_STATES, "记录审查 / review", now)
    items = rules.check_review(view, data)
    await _append(
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
    return await _done(session, case, now)


async def reconvene(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    """A further session (after an adjournment or a broken connection): records start afresh
    and identity is verified again (人民法院在线诉讼规则 art 7)."""
    _require_role(actor, Role.JUDGE, "只有审判员可以另行开庭。 / Only the judge reconvenes.")
    case, view = await _prepare(session, actor, case_id, RECORD_STATES, "另行开庭 / reconvene", now)
    number = view.number + 1
    await _append(
        session, case, view, rules.Kind.OPENED, None, {}, actor.username, now, session_no=number
    )
    return await _done(session, case, now)


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


# --- timeline ------------------------------------------------------------------------------

SESSION_LABEL: dict[rules.Kind, str] = {
    rules.Kind.OPENED: "另行开庭",
    rules.Kind.CHECK_IN: "终端自检签到",
    rules.Kind.ADMIT: "审判员准许入室",
    rules.Kind.IDENTITY: "身份核验",
    rules.Kind.WARNING_ACK: "确认知悉虚假调解风险告知",
    rules.Kind.CONSENT: "当事人确认",
    rules.Kind.ANSWERS: "询问记录",
    rules.Kind.REVIEW: "审查记录",
}
AUDIT_LABEL: dict[str, str] = {
    "case.schedule": "排期",
    "case.open_session": "开庭",
    "session.code_issued": "发放加入码",
    "session.party_joined": "当事人以本人设备加入",
    "room.join": "进入视频确认室",
    "room.admit": "准许进入视频确认室",
    "room.drop": "视频连接中断",
    "room.resume": "视频连接恢复",
    "room.leave": "离开视频确认室",
    "case.confirm": "裁定确认调解协议有效",
    "case.reject": "裁定驳回申请",
    "case.withdraw": "准许撤回申请",
    "case.issue_ruling": "出具裁定书",
    "service.acknowledged": "当事人签收",
    "case.serve": "送达完成",
}
_AUDIT_KEEP = ("party", "ground", "result", "method", "device", "role", "participant")


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    source: str  # "session" (session_events) or "audit" (the audit log)
    kind: str
    label: str
    actor: str
    session: int | None = None
    party: int | None = None
    details: Mapping[str, Any] | None = None


async def timeline(session: AsyncSession, who: Who, case_id: int) -> list[TimelineItem]:
    case = await case_for(session, who, case_id)
    items: list[tuple[dt.datetime, int, int, TimelineItem]] = []
    for row in await _rows(session, case.id):
        kind = rules.Kind(row.kind)
        payload = json.loads(row.payload)
        details = {
            k: v for k, v in payload.items() if k not in ("note", "reference", "presence")
        }  # notes belong in the transcript, not a list anyone with the case sees; the presence
        # evidence stays in the stored record
        if kind is rules.Kind.REVIEW:
            details = {"present": {g: i["present"] for g, i in payload["items"].items()}}
        item = TimelineItem(
            row.at,
            "session",
            kind.value,
            SESSION_LABEL[kind],
            row.actor,
            row.session_no,
            row.party_position,
            details or None,
        )
        items.append((row.at, 0, row.id, item))
    result = await session.execute(
        select(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action.in_(list(AUDIT_LABEL)))
        .order_by(AuditEvent.seq)
    )
    for event in result.scalars():
        data = json.loads(event.details)
        party = data.get("party") if isinstance(data.get("party"), int) else None
        kept = {k: data[k] for k in _AUDIT_KEEP if k in data and k != "party"}
        item = TimelineItem(
            event.at,
            "audit",
            event.action,
            AUDIT_LABEL[event.action],
            event.actor,
            None,
            party,
            kept or None,
        )
        items.append((event.at, 1, event.seq, item))
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    return [t[3] for t in items]


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
        for row in await _rows(session, case.id)
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
        "attendance": await attendance_section(
            session, case, view.started_at or now, (case.decided_at if decided else None) or now
        ),
    }


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


def _archived_bytes(stored: Transcript, folder: Path) -> bytes:
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


@dataclass(frozen=True)
class TranscriptDocument:
    case: Case
    pdf: bytes
    sha256: str
    archived: bool  # False: a draft rendered from the records at the moment of asking


async def transcript_pdf(
    db: Database,
    desk: RulingDesk,
    actor: Actor,
    case_id: int,
    now: dt.datetime,
    *,
    folder: Path,
) -> TranscriptDocument:
    """The session's electronic transcript (人民法院在线诉讼规则 art 34), signed by the court.

    Once the ruling is issued, the transcript archived with it, byte for byte. Before, a draft
    built from the records at the moment of asking; rendering and signing run outside the
    transaction and off the event loop, like the ruling's.
    """
    if actor.role not in (Role.JUDGE, Role.CLERK):
        raise NotPermitted("只有审判员、书记员可以调取笔录。 / Judge and clerk only.")
    async with db.transaction() as session:
        case = await load_case(session, actor, case_id)
        stored = await transcript_of(session, case.id)
        if stored is not None:
            pdf = _archived_bytes(stored, folder)
            details = {"sha256": stored.sha256, "archived": True}
            await _audit(session, actor.username, case, "transcript", now, details)
            return TranscriptDocument(case, pdf, stored.sha256, archived=True)
        source = await transcript_source(session, case, now)
        if source is None:
            raise WrongState("庭审尚未开始，没有笔录。 / The session has not started.")
    pdf = await desk.transcript(source[1])
    digest = hashlib.sha256(pdf).hexdigest()
    async with db.transaction() as session:
        case = await load_case(session, actor, case_id)
        details = {"sha256": digest, "archived": False}
        await _audit(session, actor.username, case, "transcript", now, details)
    return TranscriptDocument(case, pdf, digest, archived=False)
