"""Who attended the hearing, how and from when to when, and what the recording holds. Pure.

Read from the room's audit events (signaling records join, admit, drop, resume, leave,
remove and expire for every seat) and the recorder's segments, so the transcript states only
what the server saw. Time is passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.clock import court_time

# The recorder offers to a participant when they are admitted: a second or two without a
# segment is the connection being set up, not a lost recording.
GAP_TOLERANCE = dt.timedelta(seconds=5)
# Seats that end their stay in the room (a drop keeps the seat, but the media is gone).
_ENDS = {"drop": "dropped", "leave": "left", "remove": "removed", "expire": "timed_out"}


@dataclass(frozen=True)
class RoomEvent:
    at: dt.datetime
    action: str  # join, admit, drop, resume, leave, remove, expire (room.* in the audit log)
    participant: str
    role: str
    admitted: bool = False  # for join: admitted as it joined (the judge)


@dataclass(frozen=True)
class Stretch:
    """A time the seat was admitted and connected: in the hearing."""

    start: dt.datetime
    end: dt.datetime | None  # None: still there
    ended_by: str = ""  # dropped, left, removed, timed_out; "" while there


@dataclass(frozen=True)
class Segment:
    participant: str
    number: int
    state: str  # recording, closed, recovered, failed, empty, purged
    started_at: dt.datetime
    ended_at: dt.datetime | None
    sha256: str | None
    failure: str | None = None


@dataclass(frozen=True)
class Interval:
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class SeatHistory:
    participant: str
    role: str
    stretches: tuple[Stretch, ...]
    segments: tuple[Segment, ...] = ()
    unrecorded: tuple[Interval, ...] = ()  # in the room, but no segment covers it

    @property
    def attended(self) -> bool:
        return bool(self.stretches)


def admitted_since(events: Iterable[RoomEvent]) -> dt.datetime | None:
    """When the seat (one participant's events, in order) was last let in, if it still is."""
    since: dt.datetime | None = None
    for e in events:
        if e.action == "join":
            since = e.at if e.admitted else None
        elif e.action == "admit":
            since = e.at
        elif e.action in ("leave", "remove", "expire"):
            since = None
    return since


def stretches(events: Iterable[RoomEvent]) -> list[Stretch]:
    """One participant's events, in order → the times it was admitted and connected."""
    out: list[Stretch] = []
    admitted = connected = False
    start: dt.datetime | None = None
    for e in events:
        was_in = admitted and connected
        if e.action == "join":
            admitted, connected = e.admitted, True
        elif e.action == "admit":
            admitted = True
        elif e.action == "resume":
            connected = True
        elif e.action == "drop":
            connected = False
        elif e.action in ("leave", "remove", "expire"):
            admitted = connected = False
        now_in = admitted and connected
        if now_in and not was_in:
            start = e.at
        elif was_in and not now_in and start is not None:
            out.append(Stretch(start, e.at, _ENDS.get(e.action, e.action)))
            start = None
    if start is not None:
        out.append(Stretch(start, None))
    return out


def clip(found: Sequence[Stretch], begin: dt.datetime, end: dt.datetime) -> list[Stretch]:
    """The stretches within the hearing [begin, end]; one that touches an end counts."""
    out = []
    for s in found:
        stop = s.end or end
        if stop < begin or s.start > end:
            continue
        # Ended by the record's end (strictly): a leave at the decision's instant or after it
        # belongs to what came after, so the record does not change once the hearing is decided.
        ended_by = s.ended_by if s.end is not None and s.end < end else ""
        out.append(Stretch(max(s.start, begin), min(stop, end), ended_by))
    return out


def unrecorded(
    stays: Sequence[Stretch], segments: Sequence[Segment], now: dt.datetime
) -> list[Interval]:
    """Times in the room that no written segment covers, longer than the tolerance."""
    covered = sorted(
        (s.started_at, s.ended_at or now)
        for s in segments
        if s.state in ("recording", "closed", "recovered")
    )
    gaps: list[Interval] = []
    for stay in stays:
        cursor, stop = stay.start, stay.end or now
        for a, b in covered:
            if b <= cursor or a >= stop:
                continue
            if a - cursor > GAP_TOLERANCE:
                gaps.append(Interval(cursor, a))
            cursor = max(cursor, b)
        if stop - cursor > GAP_TOLERANCE:
            gaps.append(Interval(cursor, stop))
    return gaps


def histories(
    events: Iterable[RoomEvent],
    segments: Iterable[Segment],
    begin: dt.datetime,
    end: dt.datetime,
) -> list[SeatHistory]:
    """Every seat that took part (in the order they first appear), within [begin, end]."""
    by_seat: dict[str, list[RoomEvent]] = {}
    roles: dict[str, str] = {}
    for e in events:
        by_seat.setdefault(e.participant, []).append(e)
        roles.setdefault(e.participant, e.role)
    recorded: dict[str, list[Segment]] = {}
    for s in segments:
        recorded.setdefault(s.participant, []).append(s)
    out = []
    for pid, seat_events in by_seat.items():
        stays = clip(stretches(seat_events), begin, end)
        mine = [
            s for s in recorded.get(pid, []) if (s.ended_at or end) >= begin and s.started_at <= end
        ]
        out.append(
            SeatHistory(
                pid, roles[pid], tuple(stays), tuple(mine), tuple(unrecorded(stays, mine, end))
            )
        )
    return out


def hms(t: dt.datetime) -> str:
    """A time of day in the court's zone, as the transcript prints it."""
    return court_time(t).strftime("%H:%M:%S")


@dataclass(frozen=True)
class HearingFacts:
    """What the transcript may claim: each sentence only where the records show it."""

    judge_attended: bool
    kiosk_attended: bool
    parties_attended: Mapping[int, bool] = field(default_factory=dict)  # by position

    @property
    def video_held(self) -> bool:
        """The judge and every party (at the kiosk or on own device) were in the video room."""
        return (
            self.judge_attended
            and bool(self.parties_attended)
            and all(self.parties_attended.values())
        )


def readmitted(events: Iterable[RoomEvent]) -> frozenset[str]:
    """The seats let in again as they join the room: admitted by the judge in the case's current
    session (the events given, in order) and not removed since. The judge's admission stands
    until the judge's removal: a server restart loses the room's seats, and a seat the judge let
    in comes back in without waiting for the judge, whose console may not be open (leaving,
    reloading a page or a lapsed grace do not undo it either)."""
    admitted: set[str] = set()
    for e in events:
        if e.action == "admit":
            admitted.add(e.participant)
        elif e.action == "remove":
            admitted.discard(e.participant)
    return frozenset(admitted)


def removed_from_room(events: Iterable[RoomEvent]) -> frozenset[str]:
    """The seats the judge removed in the case's current session (the events given). Removal
    is final for the session: a room that forms again after a server restart refuses them as
    the room they were removed from did."""
    return frozenset(e.participant for e in events if e.action == "remove")
