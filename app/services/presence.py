"""The shell of the presence rule: what the room and the recorder show, gathered for a record.

The room's seats come from the signaling node that hosts the room (`snapshot_anywhere`: this
process with one node, an RPC to the host with several), taken before the record's
transaction so no lock waits on the network. When each seat was admitted, and the recorder's
live segments, come from the database every node shares. app/domain/presence.py decides.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import presence as rule
from app.domain.attendance import RoomEvent, admitted_since
from app.domain.live import judge_participant, party_participant
from app.recording.settings import RECORDING
from app.store.models import AuditEvent, Case, RecordingSegment
from signaling.server import SignalingServer

log = logging.getLogger(__name__)
ROOM_ACTIONS = tuple(
    f"room.{a}" for a in ("join", "admit", "drop", "resume", "leave", "remove", "expire")
)


@dataclass(frozen=True)
class Look:
    """The room as its host showed it. `snapshot` None with `reachable`: no live room."""

    snapshot: Mapping[str, Any] | None
    reachable: bool


async def look(server: SignalingServer | None, case_id: int) -> Look:
    if server is None:
        return Look(None, reachable=False)
    try:
        snap = await server.snapshot_anywhere(case_id)
    except Exception:  # the host is moving or unreachable: refuse the record, do not guess
        log.warning("presence: no view of the room of case %s", case_id, exc_info=True)
        return Look(None, reachable=False)
    return Look(snap if isinstance(snap, dict) else None, reachable=True)


def room_events(rows: Iterable[AuditEvent]) -> list[RoomEvent]:
    out = []
    for row in rows:
        details = json.loads(row.details)
        out.append(
            RoomEvent(
                row.at,
                row.action.removeprefix("room."),
                row.actor,
                str(details.get("role", "")),
                bool(details.get("admitted", False)),
            )
        )
    return out


async def room_history(
    session: AsyncSession, case_id: int, participants: Sequence[str] | None = None
) -> list[RoomEvent]:
    query = select(AuditEvent).where(
        AuditEvent.case_id == case_id, AuditEvent.action.in_(ROOM_ACTIONS)
    )
    if participants is not None:
        query = query.where(AuditEvent.actor.in_(list(participants)))
    return room_events((await session.execute(query.order_by(AuditEvent.seq))).scalars())


async def gather(
    session: AsyncSession, case_id: int, seen: Look, now: dt.datetime
) -> rule.RoomPresence:
    if not seen.reachable:
        return rule.RoomPresence(now, {}, reachable=False)
    snap = seen.snapshot or {}
    people = [p for p in snap.get("participants", []) if p.get("role") != "recorder"]
    ids = [str(p["id"]) for p in people]
    ages: Mapping[str, float] = snap.get("stats_age", {})
    history: dict[str, list[RoomEvent]] = {}
    for e in await room_history(session, case_id, ids) if ids else []:
        history.setdefault(e.participant, []).append(e)
    live = (
        dict(
            (
                await session.execute(
                    select(RecordingSegment.participant_id, func.max(RecordingSegment.id))
                    .where(
                        RecordingSegment.case_id == case_id,
                        RecordingSegment.state == RECORDING,
                        RecordingSegment.participant_id.in_(ids),
                    )
                    .group_by(RecordingSegment.participant_id)
                )
            ).all()
        )
        if ids
        else {}
    )
    seats = {}
    for p in people:
        pid = str(p["id"])
        age = ages.get(pid)
        seats[pid] = rule.SeatPresence(
            participant_id=pid,
            role=str(p["role"]),
            connected=bool(p.get("connected")),
            admitted=bool(p.get("admitted")),
            admitted_since=admitted_since(history.get(pid, [])),
            segment_id=live.get(pid),
            stats_at=None if age is None else now - dt.timedelta(seconds=float(age)),
        )
    return rule.RoomPresence(now, seats)


async def party_present(
    session: AsyncSession,
    case: Case,
    seen: Look,
    position: int,
    name: str,
    what: tuple[str, str],
    now: dt.datetime,
) -> dict[str, Any]:
    """Party `position` in the room with media (at the kiosk or on own device): the evidence."""
    room = await gather(session, case.id, seen, now)
    return rule.require_party(room, party_participant(case.id, position), name, what)


async def hearing_present(
    session: AsyncSession, case: Case, seen: Look, now: dt.datetime
) -> dict[str, Any]:
    """The decision: the judge and every party in the room with media."""
    room = await gather(session, case.id, seen, now)
    parties = [(party_participant(case.id, p.position), p.name) for p in case.parties]
    judge = judge_participant(case.judge_id or 0)
    what = ("尚不能作出裁定", "Cannot decide yet")
    return rule.require_hearing(room, judge, parties, what)


async def lobby_ready(
    session: AsyncSession, case: Case, seen: Look, now: dt.datetime
) -> dict[str, Any]:
    """Admission: the judge seated and someone waiting to be let in."""
    room = await gather(session, case.id, seen, now)
    what = ("尚不能准许入室", "Cannot admit yet")
    return rule.require_lobby(room, judge_participant(case.judge_id or 0), what)
