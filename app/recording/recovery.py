"""What the start-up sweep makes of what a killed process left "recording". Pure.

The shell (service.recover_interrupted) reads the file (probe.py) and the database; these
functions decide. A segment sealed by the sweep is "recovered", never "closed": its writer
never finished it, and a court must be able to tell the two apart. Times are never stretched
to "now": a run ends at the last instant something shows the recorder was still alive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

RECOVERED = "recovered"  # sealed after an interruption: playable up to where the file ends
FAILED = "failed"
# Segment states whose file may be played back and put in a case bundle.
PLAYABLE = ("closed", RECOVERED)
INTERRUPTED = "interrupted"  # a run's end_reason
RUN_FAILURE = "interrupted: the server process ended while recording (found at start-up)"
LOST_FAILURE = (
    "interrupted: the server recording it was lost (settled by the server that took the room over)"
)


@dataclass(frozen=True, slots=True)
class Media:
    """What reading the file's packets showed."""

    duration_seconds: float
    audio_packets: int
    video_frames: int
    decodes: bool  # each kind of track with packets gave a decoded frame
    cut_short: str | None = None  # the demuxer's complaint where the readable part ends


@dataclass(frozen=True, slots=True)
class Found:
    """One segment's file as the sweep found it."""

    exists: bool
    size_bytes: int = 0
    modified_at: dt.datetime | None = None
    media: Media | None = None
    unreadable: str | None = None  # why the container would not open


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # RECOVERED or FAILED
    reason: str


def settle_segment(found: Found) -> Verdict:
    """The state of a segment whose process died while writing it, from what its file holds."""
    if not found.exists:
        return Verdict(FAILED, "interrupted: no file was written")
    if found.size_bytes == 0:
        return Verdict(FAILED, "interrupted: the file is empty")
    media = found.media
    if media is None:
        return Verdict(FAILED, f"interrupted: the file is unreadable ({found.unreadable})")
    if media.audio_packets == 0 and media.video_frames == 0:
        return Verdict(FAILED, "interrupted: the file holds no media")
    if not media.decodes:
        return Verdict(FAILED, "interrupted: the media in the file does not decode")
    if media.duration_seconds <= 0:
        return Verdict(FAILED, "interrupted: the media in the file has no duration")
    reason = (
        f"interrupted: the server process ended while recording; "
        f"{media.duration_seconds:.3f} s readable"
    )
    if media.cut_short:
        reason += f", the last fragment is cut short ({media.cut_short})"
    return Verdict(RECOVERED, reason)


def _within(value: dt.datetime, started_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    # A file's time can be off (a restored backup, a clock step): never before the start,
    # never after the sweep.
    return max(started_at, min(value, max(started_at, now)))


def segment_end(
    started_at: dt.datetime, found: Found, verdict: Verdict, now: dt.datetime
) -> dt.datetime:
    """Where the segment ends on the timeline: its readable media, else the last write."""
    if verdict.state == RECOVERED and found.media is not None:
        end = started_at + dt.timedelta(seconds=found.media.duration_seconds)
    elif found.modified_at is not None:
        end = found.modified_at
    else:
        end = started_at
    return _within(end, started_at, now)


def run_end(
    started_at: dt.datetime, evidence: Iterable[dt.datetime | None], now: dt.datetime
) -> dt.datetime:
    """A run's last known instant: its latest segment end or file write, else its start."""
    known = [instant for instant in evidence if instant is not None]
    return _within(max(known, default=started_at), started_at, now)
