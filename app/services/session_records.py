"""A live session's records as stored: who acts (an account or a party's pass), loading the
case and its events, appending an event with its audit record, and the derived view. The steps
themselves are in app.services.sessions; join codes in app.services.party_codes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import refusals
from app.domain import session as rules
from app.domain.access import KIOSK_STATES, Actor
from app.domain.cases import State
from app.domain.clock import court_time
from app.domain.errors import (
    Conflict,
    NotFound,
    NotPermitted,
    ValidationError,
    WrongState,
)
from app.domain.live import party_participant
from app.domain.roles import Role
from app.domain.state_words import wrong_state
from app.services import audit
from app.services.cases import load_case
from app.store.models import (
    Case,
    ServiceReceipt,
    SessionEventRow,
)

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


def require_role(who: Who, role: Role, text: str) -> Actor:
    if not isinstance(who, Actor) or who.role is not role:
        raise NotPermitted(text)
    return who


def require_state(case: Case, states: frozenset[State], what: str) -> None:
    """`what` is "中文 / English", e.g. "确认 / confirm"."""
    if State(case.state) not in states:
        zh, _, en = what.partition(" / ")
        raise WrongState(wrong_state(case.state, zh, en))


def party_position(data: Mapping[str, Any]) -> int:
    value = data.get("party")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError([("party", refusals.PARTY_POSITION)])
    return value


def party_name(case: Case, position: int) -> str:
    for party in case.parties:
        if party.position == position:
            return party.name
    raise ValidationError([("party", f"没有第{position}号申请人。 / No party {position}.")])


def acting_party(who: Who, data: Mapping[str, Any]) -> int:
    """A kiosk names the party; a party's own device may act only for that party."""
    if isinstance(who, PartyPass):
        if "party" in data and data["party"] != who.party:
            raise NotPermitted("只能为本人确认。 / A party confirms only for themself.")
        return who.party
    return party_position(data)


async def lock_case(session: AsyncSession, case: Case) -> None:
    """Serialise writers of one case's session (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    does), so two taps at once cannot both pass the rules against the same state."""
    await session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


async def event_rows(session: AsyncSession, case_id: int) -> list[SessionEventRow]:
    result = await session.execute(
        select(SessionEventRow)
        .where(SessionEventRow.case_id == case_id)
        .order_by(SessionEventRow.session_no, SessionEventRow.seq)
    )
    return list(result.scalars())


def event_of(row: SessionEventRow) -> rules.Event:
    return rules.Event(
        row.session_no,
        row.seq,
        rules.Kind(row.kind),
        row.party_position,
        json.loads(row.payload),
        row.at,
        row.actor,
    )


async def served_at_of(session: AsyncSession, case: Case) -> dt.datetime | None:
    if State(case.state) not in (State.SERVED, State.ARCHIVED):
        return None
    result: dt.datetime | None = await session.scalar(
        select(func.max(ServiceReceipt.acknowledged_at)).where(ServiceReceipt.case_id == case.id)
    )
    return result


async def view_of(session: AsyncSession, case: Case, now: dt.datetime) -> rules.SessionView:
    events = [event_of(r) for r in await event_rows(session, case.id)]
    return rules.derive(
        events,
        {p.position: p.name for p in case.parties},
        now=now,
        decided_at=case.decided_at,
        served_at=await served_at_of(session, case),
    )


async def audit_session(
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


async def append(
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
    await audit_session(session, actor, case, kind.value, now, {**details, **(audit_details or {})})


@dataclass(frozen=True)
class Result:
    case: Case
    view: rules.SessionView


async def prepare(
    session: AsyncSession,
    who: Who,
    case_id: int,
    states: frozenset[State],
    what: str,
    now: dt.datetime,
) -> tuple[Case, rules.SessionView]:
    case = await case_for(session, who, case_id)
    require_state(case, states, what)
    await lock_case(session, case)
    return case, await view_of(session, case, now)


async def done(session: AsyncSession, case: Case, now: dt.datetime) -> Result:
    return Result(case, await view_of(session, case, now))
