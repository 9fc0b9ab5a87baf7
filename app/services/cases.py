"""Case use cases: file, submit, accept, decline, schedule, read. Each is one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import refusals
from app.domain.access import KIOSK_STATES, Actor, CaseScope, may_view, require_case_role
from app.domain.application import Application, check_window, parse_application
from app.domain.case_number import CaseNumber
from app.domain.cases import State, Step, advance
from app.domain.clock import court_date
from app.domain.errors import Conflict, NotFound, NotPermitted, ValidationError
from app.domain.grounds import DeclineGround
from app.domain.people import Organisation, Person
from app.domain.roles import Role
from app.keyring import FieldCipher
from app.services import audit
from app.store.models import (
    Account,
    AgentRow,
    Case,
    CaseNumberCounter,
    Committee,
    Court,
    Hall,
    Party,
    PartyDetails,
    Room,
    Term,
)

ROOM_SLOT = dt.timedelta(minutes=30)  # one session holds a room this long
# A booking further ahead is a typing mistake (the application itself is only 30 days old),
# and a time near year 9999 would overflow the slot arithmetic below.
BOOKING_HORIZON = dt.timedelta(days=366)


def scope_of(case: Case) -> CaseScope:
    return CaseScope(
        case.court_id, case.committee_id, case.judge_id, case.room_id, State(case.state)
    )


def visible_cases(actor: Actor) -> Select[Case]:
    """The query form of `may_view`, for lists (refused to roles that have none)."""
    require_case_role(actor)
    query = select(Case)
    match actor.role:
        case Role.MEDIATOR:
            return query.where(Case.committee_id == actor.committee_id)
        case Role.CLERK:
            return query.where(Case.court_id == actor.court_id)
        case Role.JUDGE:
            return query.where(Case.judge_id == actor.account_id)
        case Role.KIOSK:
            return query.where(
                Case.room_id == actor.room_id, Case.state.in_([s.value for s in KIOSK_STATES])
            )
        case _:
            return query.where(false())


async def load_case(session: AsyncSession, actor: Actor, case_id: int) -> Case:
    """The case, if the actor may see it. Others get the same answer as a missing case."""
    case = await session.get(Case, case_id)
    if case is None or not may_view(actor, scope_of(case)):
        raise NotFound(f"没有编号为 {case_id} 的案件。 / No case {case_id}.")
    return case


async def _record(
    session: AsyncSession,
    actor: Actor,
    case: Case,
    action: str,
    details: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    await audit.append(
        session,
        actor=actor.username,
        action=action,
        case_id=case.id,
        details=dict(details),
        now=now,
    )


async def _take_step(
    session: AsyncSession,
    actor: Actor,
    case: Case,
    step: Step,
    now: dt.datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    before = State(case.state)
    after = advance(before, step, actor.role)
    case.state = after.value
    case.updated_at = now
    await _record(
        session,
        actor,
        case,
        f"case.{step.value}",
        {"from": before.value, "to": after.value, **(details or {})},
        now,
    )


_Row = TypeVar("_Row", bound=PartyDetails)


def party_row(
    row_type: Callable[..., _Row], position: int, party: Person | Organisation, cipher: FieldCipher
) -> _Row:
    """A party's row (of a confirmation case or of a mediation), the ID number encrypted."""
    if isinstance(party, Person):
        return row_type(
            position=position,
            kind="person",
            name=party.name,
            sex=party.sex.value,
            birth_date=party.birth_date,
            ethnicity=party.ethnicity,
            address=party.address,
            phone=party.phone,
            id_type=party.id_type.value,
            id_number_enc=cipher.encrypt(party.id_number, purpose="party.id_number"),
        )
    return row_type(
        position=position,
        kind="organisation",
        name=party.name,
        address=party.address,
        phone=party.phone,
        credit_code=party.credit_code,
        legal_representative=party.legal_representative,
    )


def party_fields(party: PartyDetails) -> dict[str, Any]:
    """A party's details as the application body names them (party_row's inverse), without
    the ID number, which each caller shows masked or, for a new application, in full."""
    if party.kind == "organisation":
        return {
            "kind": "organisation",
            "name": party.name,
            "credit_code": party.credit_code,
            "legal_representative": party.legal_representative,
            "address": party.address,
            "phone": party.phone,
        }
    return {
        "kind": "person",
        "name": party.name,
        "sex": party.sex,
        "birth_date": party.birth_date.isoformat() if party.birth_date else None,
        "ethnicity": party.ethnicity,
        "address": party.address,
        "phone": party.phone,
        "id_type": party.id_type,
    }


def _add_parties(case: Case, application: Application, cipher: FieldCipher) -> None:
    for position, party in enumerate(application.applicants):
        case.parties.append(party_row(Party, position, party, cipher))
    for position, agent in enumerate(application.agents):
        case.agents.append(
            AgentRow(
                position=position,
                represents_position=agent.represents,
                name=agent.name,
                id_number_enc=cipher.encrypt(agent.id_number, purpose="agent.id_number"),
                phone=agent.phone,
                authority=agent.authority,
            )
        )
    for number, text in enumerate(application.terms, start=1):
        case.terms.append(Term(number=number, text=text))


async def create_case(
    session: AsyncSession,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    cipher: FieldCipher,
    now: dt.datetime,
) -> Case:
    if actor.role is not Role.MEDIATOR or actor.committee_id is None:
        raise NotPermitted("只有调解员可以提交申请。 / Only a mediator files applications.")
    application = parse_application(payload, today=court_date(now))
    committee = await session.get(Committee, actor.committee_id)
    assert committee is not None
    case = Case(
        court_id=committee.court_id,
        committee_id=committee.id,
        mediator_id=actor.account_id,
        state=State.DRAFT.value,
        dispute_type=application.dispute_type,
        agreement_date=application.agreement_date,
        created_at=now,
        updated_at=now,
        parties=[],
        agents=[],
        terms=[],
        materials=[],
    )
    _add_parties(case, application, cipher)
    session.add(case)
    await session.flush()
    await _record(
        session,
        actor,
        case,
        "case.created",
        {"applicants": len(application.applicants), "terms": len(application.terms)},
        now,
    )
    return case


async def submit(session: AsyncSession, actor: Actor, case_id: int, now: dt.datetime) -> Case:
    case = await load_case(session, actor, case_id)
    advance(State(case.state), Step.SUBMIT, actor.role)  # refuse a wrong state before other checks
    if not any(m.category == "agreement" for m in case.materials):
        raise ValidationError(
            [("materials", "上传调解协议后才能提交。 / Upload the mediation agreement first.")]
        )
    check_window(case.agreement_date, court_date(now))
    case.submitted_at = now
    await _take_step(session, actor, case, Step.SUBMIT, now)
    return case


async def _next_serial(session: AsyncSession, court_id: int, year: int) -> int:
    """Bump the court's counter for the year inside the accepting transaction.

    The UPDATE takes a row lock (PostgreSQL) or the database write lock (SQLite), so concurrent
    acceptances queue; a rolled-back acceptance gives its number back, which keeps the series
    gapless.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(CaseNumberCounter)
        .values(court_id=court_id, year=year, last_serial=0)
        .on_conflict_do_nothing()
    )
    serial = await session.scalar(
        update(CaseNumberCounter)
        .where(CaseNumberCounter.court_id == court_id, CaseNumberCounter.year == year)
        .values(last_serial=CaseNumberCounter.last_serial + 1)
        .returning(CaseNumberCounter.last_serial)
    )
    assert serial is not None
    return int(serial)


async def accept(
    session: AsyncSession, actor: Actor, case_id: int, judge_id: int, now: dt.datetime
) -> Case:
    case = await load_case(session, actor, case_id)
    advance(State(case.state), Step.ACCEPT, actor.role)
    judge = await session.get(Account, judge_id)
    if judge is None or judge.role != Role.JUDGE.value or judge.court_id != case.court_id:
        raise ValidationError(
            [("judge_id", "须指定本院的审判员。 / Choose a judge of this court.")]
        )
    court = await session.get(Court, case.court_id)
    assert court is not None
    year = court_date(now).year
    serial = await _next_serial(session, court.id, year)
    number = CaseNumber(year, court.code, serial)
    case.number_year, case.number_serial, case.case_number = year, serial, str(number)
    case.judge_id, case.clerk_id, case.accepted_at = judge.id, actor.account_id, now
    await _take_step(
        session,
        actor,
        case,
        Step.ACCEPT,
        now,
        {"case_number": str(number), "judge": judge.username},
    )
    return case


async def decline(
    session: AsyncSession, actor: Actor, case_id: int, ground: str, note: str, now: dt.datetime
) -> Case:
    case = await load_case(session, actor, case_id)
    advance(State(case.state), Step.DECLINE, actor.role)
    try:
        reason = DeclineGround(ground)
    except ValueError:
        raise ValidationError([("ground", refusals.one_of(DeclineGround))]) from None
    if len(note) > 2000:
        raise ValidationError([("note", refusals.too_long(2000))])
    case.decline_ground, case.state_note, case.clerk_id = reason.value, note, actor.account_id
    await _take_step(session, actor, case, Step.DECLINE, now, {"ground": reason.value})
    return case


async def return_for_materials(
    session: AsyncSession, actor: Actor, case_id: int, note: str, now: dt.datetime
) -> Case:
    case = await load_case(session, actor, case_id)
    advance(State(case.state), Step.RETURN, actor.role)
    if not note.strip() or len(note) > 2000:
        raise ValidationError([("note", refusals.MISSING_MATERIALS)])
    case.state_note = note.strip()
    await _take_step(session, actor, case, Step.RETURN, now)
    return case


async def rooms_of_court(session: AsyncSession, court_id: int) -> list[Room]:
    rows = await session.execute(
        select(Room)
        .join(Hall, Room.hall_id == Hall.id)
        .join(Committee, Hall.committee_id == Committee.id)
        .where(Committee.court_id == court_id)
        .order_by(Room.id)
    )
    return list(rows.scalars())


async def schedule(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    room_id: int,
    at: dt.datetime,
    now: dt.datetime,
) -> Case:
    case = await load_case(session, actor, case_id)
    advance(State(case.state), Step.SCHEDULE, actor.role)
    if room_id not in {r.id for r in await rooms_of_court(session, case.court_id)}:
        raise ValidationError(
            [("room_id", "须选择本院辖区的确认室。 / Choose a room of this court.")]
        )
    if at.tzinfo is None:
        raise ValidationError([("scheduled_at", refusals.NEEDS_OFFSET)])
    if at <= now:
        raise ValidationError([("scheduled_at", "须为将来的时间。 / Must be in the future.")])
    if at - now > BOOKING_HORIZON:
        raise ValidationError(
            [("scheduled_at", "须在一年之内。 / Must be within a year from now.")]
        )
    if await room_booked(session, room_id, at, but=case.id):
        raise Conflict("该确认室此时段已有安排。 / The room is booked at that time.")
    case.room_id, case.scheduled_at = room_id, at
    await _take_step(
        session,
        actor,
        case,
        Step.SCHEDULE,
        now,
        {"room_id": room_id, "at": at.isoformat()},
    )
    return case


async def room_booked(session: AsyncSession, room_id: int, at: dt.datetime, *, but: int) -> bool:
    """Another case than `but` holds the room within a session's slot of `at`."""
    clash = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.room_id == room_id,
            Case.id != but,
            Case.state.in_([State.SCHEDULED.value, State.IN_SESSION.value]),
            Case.scheduled_at > at - ROOM_SLOT,
            Case.scheduled_at < at + ROOM_SLOT,
        )
    )
    return bool(clash)


async def list_cases(
    session: AsyncSession, actor: Actor, *, states: list[State] | None = None, limit: int = 200
) -> list[Case]:
    query = visible_cases(actor)
    if states:
        query = query.where(Case.state.in_([s.value for s in states]))
    query = query.order_by(Case.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class Names:
    """Display names the case view needs, looked up once."""

    court: str
    committee: str
    accounts: dict[int, str]
    room: str | None


async def names_for(session: AsyncSession, case: Case) -> Names:
    court = await session.get(Court, case.court_id)
    committee = await session.get(Committee, case.committee_id)
    ids = [i for i in (case.mediator_id, case.judge_id, case.clerk_id) if i is not None]
    accounts = {
        a.id: a.display_name
        for a in (await session.execute(select(Account).where(Account.id.in_(ids)))).scalars()
    }
    room = await session.get(Room, case.room_id) if case.room_id else None
    assert court is not None and committee is not None
    return Names(court.name, committee.name, accounts, room.name if room else None)


async def reveal_id_number(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    position: int,
    cipher: FieldCipher,
    now: dt.datetime,
) -> str:
    """Show one ID number in full: allowed to the case's people, and always audited."""
    case = await load_case(session, actor, case_id)
    if actor.role not in (Role.JUDGE, Role.CLERK, Role.MEDIATOR):
        raise NotPermitted("无权查看完整证件号码。 / Not allowed to see full ID numbers.")
    party = next((p for p in case.parties if p.position == position), None)
    if party is None or party.id_number_enc is None:
        raise NotFound("没有该当事人的证件号码。 / No ID number for that party.")
    await _record(session, actor, case, "party.id_revealed", {"party": position}, now)
    return cipher.decrypt(party.id_number_enc, purpose="party.id_number")
