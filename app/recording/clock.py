"""Where a received frame belongs on the segment's clock. Pure: arrival times are passed in.

Each stream is anchored at the wall-clock arrival of its first frame; after that its own RTP
timestamps (unwrapped across 2**32) place every frame, so network jitter does not shake the
timeline and lost packets leave their true gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_WRAP = 1 << 32
_HALF = 1 << 31


@dataclass(slots=True)
class StreamClock:
    clock_rate: int
    _anchor_rtp: int | None = field(default=None, init=False)
    _anchor_at: float = field(default=0.0, init=False)
    _last_rtp: int = field(default=0, init=False)
    _unwrapped: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.clock_rate <= 0:
            raise ValueError("clock_rate must be positive")

    def place(self, rtp_timestamp: int, arrived_at: float) -> float:
        """Seconds on the wall clock (same origin as arrived_at) at which this frame belongs."""
        rtp = rtp_timestamp % _WRAP
        if self._anchor_rtp is None:
            self._anchor_rtp = self._last_rtp = rtp
            self._anchor_at = arrived_at
            return arrived_at
        step = (rtp - self._last_rtp) % _WRAP
        if step >= _HALF:
            step -= _WRAP  # a late (reordered) frame: a step back, not a wrap forward
        self._unwrapped += step
        self._last_rtp = rtp
        return self._anchor_at + self._unwrapped / self.clock_rate
