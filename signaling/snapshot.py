"""A room's membership as plain data, so another node can take the room over. Pure.

The owner writes it on every change of membership; a node that adopts the room rebuilds the
Room from it with every seat dropped at the adoption instant, so each participant has the
full grace period to resume on the new node with the resume token it already holds. Loop
times are node-local: a dropped seat's instant travels as wall-clock time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from signaling.roles import JUDGE
from signaling.room import Room, Seat, Thresholds

VERSION = 1


@dataclass(frozen=True, slots=True)
class Restored:
    room: Room
    seqs: dict[str, int]  # each seat's last message number, so numbering carries on


def room_state(
    room: Room, seqs: Mapping[str, int], *, loop_now: float, wall_now: float
) -> dict[str, Any]:
    def dropped_wall(seat: Seat) -> float | None:
        return None if seat.dropped_at is None else wall_now - (loop_now - seat.dropped_at)

    return {
        "v": VERSION,
        "case_id": room.case_id,
        "name": room.room_name,
        "host": room.host_participant_id,
        "host_role": room.host_role,
        "removed": sorted(room.removed),
        "seats": [
            {
                "id": seat.participant_id,
                "role": seat.role,
                "name": seat.display_name,
                "resume_token": seat.resume_token,
                "admitted": seat.admitted,
                "dropped_wall": dropped_wall(seat),
                "seq": seqs.get(seat.participant_id, 0),
            }
            for seat in room.seats.values()
        ],
    }


class BadSnapshot(ValueError):
    pass


def restore_room(
    state: Mapping[str, Any],
    *,
    grace_seconds: float,
    thresholds: Thresholds,
    loop_now: float,
    wall_now: float,
) -> Restored:
    """The room as its last owner left it, every seat dropped (at the latest now)."""
    if state.get("v") != VERSION:
        raise BadSnapshot(f"snapshot version {state.get('v')!r} is not {VERSION}")
    try:
        room = Room(
            int(state["case_id"]),
            str(state["name"]),
            # "judge": what a snapshot said before mediation rooms had other hosts.
            str(state["host"] if "host" in state else state["judge"]),
            grace_seconds=grace_seconds,
            thresholds=thresholds,
            host_role=str(state.get("host_role", JUDGE)),
        )
        room.removed.update(str(pid) for pid in state["removed"])
        seqs: dict[str, int] = {}
        for item in state["seats"]:
            wall = item["dropped_wall"]
            dropped_at = loop_now if wall is None else loop_now - max(0.0, wall_now - float(wall))
            seat = Seat(
                str(item["id"]),
                str(item["role"]),
                str(item["name"]),
                str(item["resume_token"]),
                admitted=bool(item["admitted"]),
                connected=False,
                dropped_at=dropped_at,
            )
            room.seats[seat.participant_id] = seat
            seqs[seat.participant_id] = int(item["seq"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadSnapshot(f"snapshot unreadable: {exc}") from None
    return Restored(room, seqs)
