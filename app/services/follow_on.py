"""The confirmation straight after the mediation, in the same room: an application made in one
tap from a video mediation held at a hall's kiosk, whose parties are still in that room, is
accepted by the clerk and given to a judge who is free now, and booked in that very room a few
minutes from now; the kiosk goes into the session as soon as the judge opens it.

Where the parties sit is a record, not a guess: the kiosk that joined the mediation's room (its
audit trail), bound to its confirmation room. A judge is free when no case of theirs is booked
or in session within a room's slot of now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.cases import State
from app.domain.errors import Conflict, WrongState
from app.domain.roles import Role
from app.services import cases
from app.store.models import Account, AuditEvent, Case, Room
from signaling.room_keys import mediation_room

# Long enough for the judge to come to the console and the parties to sit back down.
FOLLOW_ON_AFTER = dt.timedelta(minutes=2)
_BUSY = (State.SCHEDULED.value, State.IN_SESSION.value)


@dataclass(frozen=True)
class FollowOn:
    """What the clerk's page offers: the room the parties are in, and the free judges."""

    room: Room
    judges: list[Account]


async def room_of_mediation(session: AsyncSession, mediation_id: int) -> Room | None:
    """The confirmation room of the kiosk that first joined the mediation's video session."""
    kiosk_join = (
        select(AuditEvent.actor)
        .where(
            AuditEvent.case_id == mediation_room(mediation_id),
            AuditEvent.action == "room.join",
            AuditEvent.actor.like("kiosk-%"),
        )
        .order_by(AuditEvent.seq)
        .limit(1)
    )
    actor = await session.scalar(kiosk_join)
    if actor is None:
        return None
    kiosk = await session.get(Account, int(actor.removeprefix("kiosk-")))
    if kiosk is None or kiosk.room_id is None:
        return None
    return await session.get(Room, kiosk.room_id)


async def free_judges(session: AsyncSession, court_id: int, at: dt.datetime) -> list[Account]:
    busy = (
        select(Case.judge_id)
        .where(
            Case.judge_id.is_not(None),
            Case.state.in_(_BUSY),
            Case.scheduled_at > at - cases.ROOM_SLOT,
            Case.scheduled_at < at + cases.ROOM_SLOT,
        )
        .scalar_subquery()
    )
    in_session = select(Case.judge_id).where(Case.state == State.IN_SESSION.value)
    rows = await session.scalars(
        select(Account)
        .where(
            Account.court_id == court_id,
            Account.role == Role.JUDGE.value,
            Account.active.is_(True),
            Account.id.not_in(busy),
            Account.id.not_in(in_session.scalar_subquery()),
        )
        .order_by(Account.id)
    )
    return list(rows)


async def offer(session: AsyncSession, case: Case, now: dt.datetime) -> FollowOn | None:
    """For a submitted application from a video mediation held in a hall: its room, if free
    now, and the judges free now (possibly none)."""
    if State(case.state) is not State.SUBMITTED or case.mediation_id is None:
        return None
    room = await room_of_mediation(session, case.mediation_id)
    if room is None or await cases.room_booked(
        session, room.id, now + FOLLOW_ON_AFTER, but=case.id
    ):
        return None
    return FollowOn(room, await free_judges(session, case.court_id, now))


async def follow_on(
    session: AsyncSession, clerk: Actor, case_id: int, judge_id: int, now: dt.datetime
) -> Case:
    """Accept (the case number is given) with a judge free now, and book the mediation's room
    a couple of minutes from now: the steps a clerk takes anyway, in one go."""
    case = await cases.load_case(session, clerk, case_id)
    found = await offer(session, case, now)
    if found is None:
        raise WrongState(
            "该申请不能当场接续确认（不是在调解室进行的视频调解，或该调解室此时已有安排），"
            "请按常规受理和排期。 / This application cannot follow on in the same room (its "
            "mediation was not held at a hall's kiosk, or the room is booked now): accept and "
            "schedule it as usual."
        )
    if judge_id not in {j.id for j in found.judges}:
        raise Conflict(
            "该审判员此时不空闲，请选择空闲的审判员，或按常规排期。"
            " / That judge is not free now: choose a free judge, or schedule as usual.",
            code="judge_not_free",
        )
    await cases.accept(session, clerk, case_id, judge_id, now)
    return await cases.schedule(session, clerk, case_id, found.room.id, now + FOLLOW_ON_AFTER, now)
