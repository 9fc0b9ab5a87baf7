"""A session's recording as a timeline: segments per participant, and every gap between them.

Pure: rows come in as plain values, time is passed in. A gap is never hidden: between two
segments of one participant, and between two recorder runs (a failure and its restart).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

SEGMENT = "segment"
GAP = "gap"
RECORDER_GAP = "recorder_gap"


@dataclass(frozen=True, slots=True)
class RunSpan:
    run_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    state: str


@dataclass(frozen=True, slots=True)
class SegmentSpan:
    segment_id: int
    run_id: int
    participant_id: str
    role: str
    name: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    state: str

    def __post_init__(self) -> None:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError(f"segment {self.segment_id} ends before it starts")


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str  # segment, gap (one participant), recorder_gap (everyone)
    start: dt.datetime
    end: dt.datetime
    participant_id: str | None = None
    segment_id: int | None = None
    open: bool = False  # still recording: end is "now"

    @property
    def seconds(self) -> float:
        return round((self.end - self.start).total_seconds(), 3)


@dataclass(frozen=True, slots=True)
class Timeline:
    entries: tuple[Entry, ...]

    @property
    def gaps(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind != SEGMENT)

    def for_participant(self, participant_id: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.participant_id == participant_id)


def build(runs: Iterable[RunSpan], segments: Iterable[SegmentSpan], now: dt.datetime) -> Timeline:
    entries: list[Entry] = []
    ordered_runs = sorted(runs, key=lambda r: (r.started_at, r.run_id))
    for before, after in itertools.pairwise(ordered_runs):
        stopped = before.ended_at or after.started_at
        if after.started_at > stopped:
            entries.append(Entry(RECORDER_GAP, stopped, after.started_at))
    by_participant: dict[str, list[SegmentSpan]] = {}
    for segment in segments:
        by_participant.setdefault(segment.participant_id, []).append(segment)
    for participant_id, own in by_participant.items():
        own.sort(key=lambda s: (s.started_at, s.segment_id))
        previous_end: dt.datetime | None = None
        for segment in own:
            if previous_end is not None and segment.started_at > previous_end:
                entries.append(Entry(GAP, previous_end, segment.started_at, participant_id))
            end = segment.ended_at or max(now, segment.started_at)
            entries.append(
                Entry(
                    SEGMENT,
                    segment.started_at,
                    end,
                    participant_id,
                    segment.segment_id,
                    open=segment.ended_at is None,
                )
            )
            previous_end = end if previous_end is None else max(previous_end, end)
    entries.sort(key=lambda e: (e.start, e.kind != RECORDER_GAP, e.participant_id or ""))
    return Timeline(tuple(entries))
