"""The clerk's desk: today's rooms (live board) and caseload figures, read from storage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import figures as fig
from app.domain.access import Actor
from app.domain.clock import COURT_TZ, court_date
from app.domain.errors import NotPermitted
from app.domain.mediation import ENDED, MediationState
from app.domain.mediation_figures import MediationFact, held_in
from app.domain.roles import Role
from app.domain.session import PHASE_TEXT, SessionView
from app.services import session_records
from app.services.cases import rooms_of_court
from app.services.serving import paper_awaited
from app.store.models import (
    Account,
    AuditEvent,
    Case,
    Committee,
    Hall,
    MediationCase,
    Room,
    SessionEventRow,
)
from signaling.room_keys import MEDIATION_BASE, mediation_of

NO_HALL = "未排期"


def _court_of(actor: Actor) -> int:
    if actor.role is not Role.CLERK or actor.court_id is None:
        raise NotPermitted("只有书记员可以查看。 / Clerks only.")
    return actor.court_id


@dataclass(frozen=True)
class BoardRow:
    room_id: int
    room: str
    hall: str
    case_id: int | None
    case_number: str | None
    applicants: tuple[str, ...]
    scheduled_at: dt.datetime | None
    state: str | None
    step: str | None
    step_label: str | None
    elapsed_seconds: int | None
    over_target: bool
    later: int  # further cases booked in this room today
    # Parties who declined electronic service and whose signed 送达回证 is not yet recorded.
    paper_pending: tuple[str, ...] = ()


async def board(session: AsyncSession, actor: Actor, now: dt.datetime) -> list[BoardRow]:
    """Every room of the court, with the case that is on now (or next) today."""
    court = _court_of(actor)
    today = court_date(now)
    start = dt.datetime.combine(today, dt.time(), COURT_TZ)
    end = start + dt.timedelta(days=1)
    # A session that is on now belongs on the board whatever day it was booked for (one
    # opened early for a booking after midnight, or one running past it), and so does a ruling
    # still being served: a paper receipt awaited since yesterday is the clerk's work today.
    result = await session.execute(
        select(Case)
        .where(
            Case.court_id == court,
            or_(
                and_(Case.scheduled_at >= start, Case.scheduled_at < end),
                Case.state.in_(("in_session", "ruling_issued")),
            ),
        )
        .order_by(Case.scheduled_at)
    )
    todays = list(result.scalars())
    rows = []
    for room in await rooms_of_court(session, court):
        booked = [c for c in todays if c.room_id == room.id]
        live = [c for c in booked if c.state == "in_session"]
        waiting = [c for c in booked if c.state == "scheduled"]
        picked = live or waiting or booked[-1:]
        if not picked:
            rows.append(
                BoardRow(
                    room.id,
                    room.name,
                    room.hall.name,
                    None,
                    None,
                    (),
                    None,
                    None,
                    None,
                    None,
                    None,
                    False,
                    0,
                )
            )
            continue
        current = picked[0]
        view = await session_records.view_of(session, current, now)
        paper_pending = await _paper_awaited_in(session, booked, now, {current.id: view})
        rows.append(
            BoardRow(
                room.id,
                room.name,
                room.hall.name,
                current.id,
                current.case_number,
                tuple(p.name for p in current.parties),
                current.scheduled_at,
                current.state,
                view.phase.value,
                PHASE_TEXT[view.phase],
                view.elapsed_seconds if view.started_at else None,
                view.over_target,
                sum(1 for c in waiting if c is not current),
                paper_pending,
            )
        )
    return rows


async def _paper_awaited_in(
    session: AsyncSession,
    cases: list[Case],
    now: dt.datetime,
    known: dict[int, SessionView],
) -> tuple[str, ...]:
    """Who, among the room's rulings still being served, has a signed 送达回证 to bring
    (`known`: views already read, the row's own case's)."""
    names: list[str] = []
    for case in cases:
        if case.state == "ruling_issued":
            view = known.get(case.id) or await session_records.view_of(session, case, now)
            names += (p.name for p in await paper_awaited(session, case, view))
    return tuple(names)


async def case_facts(session: AsyncSession, actor: Actor, now: dt.datetime) -> list[fig.CaseFact]:
    """One fact per application received by the court (submitted at least once)."""
    court = _court_of(actor)
    result = await session.execute(
        select(Case).where(Case.court_id == court, Case.submitted_at.is_not(None))
    )
    rooms = {r.id: r for r in (await session.execute(select(Room))).scalars()}
    with_sessions = set(
        (await session.execute(select(SessionEventRow.case_id).distinct())).scalars()
    )
    facts = []
    for case in result.scalars():
        room = rooms.get(case.room_id) if case.room_id else None
        seconds: int | None = None
        steps: dict[str, int] = {}
        if case.id in with_sessions:
            view = await session_records.view_of(session, case, now)
            if view.served_at is not None and view.started_at is not None:
                seconds = view.elapsed_seconds
            steps = {t.phase.value: t.seconds for t in view.timings if t.ended_at is not None}
        decided = case.decided_at is not None and case.decision is not None
        facts.append(
            fig.CaseFact(
                hall=room.hall.name if room else NO_HALL,
                received=court_date(case.submitted_at) if case.submitted_at else None,
                decided=court_date(case.decided_at) if decided and case.decided_at else None,
                decision=case.decision if decided else None,
                session_seconds=seconds,
                step_seconds=steps,
            )
        )
    return facts


async def mediation_facts(session: AsyncSession, actor: Actor) -> list[MediationFact]:
    """One fact per mediation of the court's committees, with the day the court confirmed its
    agreement, if it did, and the hall it was held in (app/domain/mediation_figures.py)."""
    court = _court_of(actor)
    rows = await session.execute(
        select(MediationCase, Committee.name)
        .join(Committee, Committee.id == MediationCase.committee_id)
        .where(Committee.court_id == court)
    )
    confirmed = {
        mediation_id: court_date(decided_at)
        for mediation_id, decided_at in await session.execute(
            select(Case.mediation_id, Case.decided_at).where(
                Case.mediation_id.is_not(None), Case.decision == "confirm"
            )
        )
        if decided_at is not None
    }
    kiosk_halls = await _kiosk_halls(session)
    committee_halls: dict[int, list[str]] = {}
    for committee_id, hall in await session.execute(
        select(Hall.committee_id, Hall.name)
        .join(Committee, Committee.id == Hall.committee_id)
        .where(Committee.court_id == court)
    ):
        committee_halls.setdefault(committee_id, []).append(hall)
    facts = []
    for mediation, committee in rows:
        state = MediationState(mediation.state)
        ended = mediation.ended_at if state in ENDED else None
        facts.append(
            MediationFact(
                committee=committee,
                filed=court_date(mediation.filed_at),
                ended=court_date(ended) if ended is not None else None,
                outcome=state if ended is not None else None,
                confirmed=confirmed.get(mediation.id),
                hall=held_in(
                    kiosk_halls.get(mediation.id), committee_halls.get(mediation.committee_id, [])
                ),
            )
        )
    return facts


async def _kiosk_halls(session: AsyncSession) -> dict[int, str]:
    """Mediation id → the hall of the first kiosk that joined its video room, in one query.

    Every court's mediations are read (rooms are told apart by key, not by court); the caller
    keeps its own. The kiosk's room is the one it is bound to now."""
    kiosk = f"{Role.KIOSK.value}-"  # app/domain/live.py participant_id
    first = (
        select(func.min(AuditEvent.seq).label("seq"))
        .where(
            AuditEvent.action == "room.join",
            AuditEvent.case_id > MEDIATION_BASE,
            AuditEvent.actor.like(f"{kiosk}%"),
        )
        .group_by(AuditEvent.case_id)
        .subquery()
    )
    rows = await session.execute(
        select(AuditEvent.case_id, Hall.name)
        .join(first, first.c.seq == AuditEvent.seq)
        .join(Account, AuditEvent.actor == literal(kiosk) + cast(Account.id, String))
        .join(Room, Room.id == Account.room_id)
        .join(Hall, Hall.id == Room.hall_id)
    )
    halls = {}
    for room_key, hall in rows:
        mediation_id = mediation_of(room_key) if room_key is not None else None
        if mediation_id is not None:
            halls[mediation_id] = hall
    return halls
