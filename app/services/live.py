"""The app's side of signaling: which cases (and mediations) have a live room, whom it lets in
again, and the room's audit trail (under the room's key: signaling/room_keys.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attendance import RoomEvent, readmitted, removed_from_room
from app.domain.cases import State
from app.domain.live import LIVE_STATES, judge_participant
from app.keys import Clock
from app.services import audit, mediation_room
from app.store.db import Database
from app.store.models import AuditEvent, Case, Room
from signaling.authority import RoomInfo
from signaling.room_keys import mediation_of

# What says who the judge let into the room, and where the current session began: a further
# session (另行开庭) verifies identity again, and lets nobody in on an earlier admission.
_ADMISSIONS = ("room.admit", "room.remove", "session.opened")


class CaseRoomAuthority:
    """Answers signaling from the database; implements signaling.authority.RoomAuthority."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def room_for(self, case_id: int) -> RoomInfo | None:
        async with self._db.transaction() as session:
            mediation_id = mediation_of(case_id)
            if mediation_id is not None:
                earlier = await session_room_events(session, case_id)
                return await mediation_room.room_info(session, mediation_id, earlier)
            case = await session.get(Case, case_id)
            if case is None or State(case.state) not in LIVE_STATES:
                return None
            if case.room_id is None or case.judge_id is None:
                return None
            room = await session.get(Room, case.room_id)
            assert room is not None
            earlier = await session_room_events(session, case.id)
            return RoomInfo(
                case.id,
                room.name,
                judge_participant(case.judge_id),
                readmit=readmitted(earlier),
                removed=removed_from_room(earlier),
            )

    async def record(
        self,
        case_id: int,
        action: str,
        participant_id: str,
        role: str,
        details: dict[str, object],
    ) -> None:
        now: dt.datetime = self._clock()
        async with self._db.transaction() as session:
            await audit.append(
                session,
                actor=participant_id,
                action=f"room.{action}",
                case_id=case_id,
                details={"role": role, **details},
                now=now,
            )


async def session_room_events(session: AsyncSession, case_id: int) -> list[RoomEvent]:
    """The judge's admissions and removals in the case's current session, from the audit log
    every node shares, so a room that forms again after a restart lets in whom the judge let
    in and refuses whom the judge removed (asked on every join: one indexed read, and a
    removal takes effect at once)."""
    rows = (
        await session.execute(
            select(AuditEvent.at, AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.case_id == case_id, AuditEvent.action.in_(_ADMISSIONS))
            .order_by(AuditEvent.seq)
        )
    ).all()
    events: list[RoomEvent] = []
    for at, action, actor in rows:
        if action == "session.opened":
            events.clear()
        else:
            events.append(RoomEvent(at, action.removeprefix("room."), actor, ""))
    return events
