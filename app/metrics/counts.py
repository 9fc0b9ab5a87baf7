"""Plain counters kept by the recorder, read at scrape time (no Prometheus code here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RecordingStats:
    segments_opened: int = 0
    segments_closed: int = 0
    segments_failed: int = 0
    runs_failed: int = 0
    # Frames the encoders dropped in runs that have ended; live runs' writers are summed
    # at scrape time.
    frames_lost_ended: int = 0

    @property
    def segments_live(self) -> int:
        return max(self.segments_opened - self.segments_closed, 0)

    def segment_closed(self, error: str | None) -> None:
        self.segments_closed += 1
        if error is not None:
            self.segments_failed += 1
