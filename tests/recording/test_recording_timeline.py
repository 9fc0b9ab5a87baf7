"""The pure parts: placing frames on the clock, and the timeline with its gaps."""

from __future__ import annotations

import datetime as dt

import pytest

from app.recording import timeline
from app.recording.clock import StreamClock

T0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_clock_follows_rtp_across_the_wrap_and_ignores_jitter() -> None:
    clock = StreamClock(90000)
    start = (1 << 32) - 45000  # half a second before the 32-bit wrap
    assert clock.place(start, 100.0) == 100.0
    # arrives late (jitter), but belongs 1/15 s after the first frame
    assert clock.place(start + 6000, 100.5) == pytest.approx(100.0 + 6000 / 90000)
    assert clock.place((start + 90000) % (1 << 32), 101.2) == pytest.approx(101.0)
    # a reordered (earlier) frame steps back instead of jumping 13 hours ahead
    assert clock.place((start + 84000) % (1 << 32), 101.3) == pytest.approx(101.0 - 6000 / 90000)


def segment(
    sid: int, who: str, start: float, end: float | None, run: int = 1
) -> timeline.SegmentSpan:
    return timeline.SegmentSpan(
        sid, run, who, "kiosk", who, at(start), None if end is None else at(end), "closed"
    )


def test_gaps_between_segments_and_runs_are_listed() -> None:
    runs = [
        timeline.RunSpan(1, at(0), at(30), "failed"),
        timeline.RunSpan(2, at(40), None, "recording"),
    ]
    segments = [
        segment(1, "judge-1", 0.2, 30),
        segment(2, "kiosk-1", 0.5, 10),
        segment(3, "kiosk-1", 12.5, 30),
        segment(4, "judge-1", 40.3, None, run=2),
        segment(5, "kiosk-1", 40.4, 50, run=2),
    ]
    line = timeline.build(runs, segments, now=at(60))
    kinds = [(e.kind, e.participant_id, e.seconds) for e in line.gaps]
    assert ("recorder_gap", None, 10.0) in kinds
    assert ("gap", "kiosk-1", 2.5) in kinds
    assert ("gap", "kiosk-1", 10.4) in kinds  # across the recorder's failure
    assert ("gap", "judge-1", 10.3) in kinds
    assert len(kinds) == 4
    open_ = [e for e in line.entries if e.open]
    assert [(e.segment_id, e.end) for e in open_] == [(4, at(60))]
    assert [e.start for e in line.entries] == sorted(e.start for e in line.entries)


def test_a_segment_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before"):
        segment(1, "judge-1", 5, 4)
