"""What signaling asks of the application: is there a live room, and write this to the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from signaling.roles import JUDGE


@dataclass(frozen=True, slots=True)
class RoomInfo:
    case_id: int
    room_name: str
    host_participant_id: str
    # Seats the judge admitted earlier in the case's current session (the application keeps
    # that record): such a seat joining again, after a server restart lost the room, comes in
    # admitted, whether or not the judge is there to let it in again.
    readmit: frozenset[str] = frozenset()
    # Seats the judge removed in that session: refused as the room they were removed from did.
    removed: frozenset[str] = frozenset()
    # Who hosts it: the judge in a confirmation room, the mediator in a mediation room.
    host_role: str = JUDGE


class RoomAuthority(Protocol):
    async def room_for(self, case_id: int) -> RoomInfo | None: ...

    async def record(
        self,
        case_id: int,
        action: str,
        participant_id: str,
        role: str,
        details: dict[str, object],
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditRecord:
    case_id: int
    action: str
    participant_id: str
    role: str
    details: dict[str, object]


@dataclass
class MemoryAuthority:
    """In-process authority for tests and the benchmark."""

    rooms: dict[int, RoomInfo] = field(default_factory=dict)
    events: list[AuditRecord] = field(default_factory=list)

    def open_room(
        self, case_id: int, room_name: str, host_participant_id: str, host_role: str = JUDGE
    ) -> RoomInfo:
        info = RoomInfo(case_id, room_name, host_participant_id, host_role=host_role)
        self.rooms[case_id] = info
        return info

    async def room_for(self, case_id: int) -> RoomInfo | None:
        return self.rooms.get(case_id)

    async def record(
        self,
        case_id: int,
        action: str,
        participant_id: str,
        role: str,
        details: dict[str, object],
    ) -> None:
        self.events.append(AuditRecord(case_id, action, participant_id, role, dict(details)))

    def actions(self, case_id: int) -> list[tuple[str, str]]:
        return [(e.action, e.participant_id) for e in self.events if e.case_id == case_id]
