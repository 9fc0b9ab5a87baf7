"""The app's side of signaling: which cases have a live room, and the room's audit trail."""

from __future__ import annotations

import datetime as dt

from app.domain.cases import State
from app.domain.live import LIVE_STATES, judge_participant
from app.keys import Clock
from app.services import audit
from app.store.db import Database
from app.store.models import Case, Room
from signaling.authority import RoomInfo


class CaseRoomAuthority:
    """Answers signaling from the database; implements signaling.authority.RoomAuthority."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def room_for(self, case_id: int) -> RoomInfo | None:
        async with self._db.transaction() as session:
            case = await session.get(Case, case_id)
            if case is None or State(case.state) not in LIVE_STATES:
                return None
            if case.room_id is None or case.judge_id is None:
                return None
            room = await session.get(Room, case.room_id)
            assert room is not None
            return RoomInfo(case.id, room.name, judge_participant(case.judge_id))

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
