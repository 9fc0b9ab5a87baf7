"""Per-seat numbered outbox: what a resuming participant missed. Pure, time passed in."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from signaling.messages import seal


class Sink(Protocol):
    def write(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplayLimits:
    # While connected a message only needs keeping until a dead socket would be
    # noticed; while dropped, everything up to the bounds is kept for resume.
    window_seconds: float = 10.0
    max_messages: int = 64
    max_bytes: int = 128 * 1024


class Mailbox:
    """Held messages live in two parallel deques of floats and strings. Neither is a
    container the cyclic garbage collector tracks, so a full window of held messages
    (10 s at 10,000 msg/s is 100,000 of them) adds nothing to its scans; a tuple per
    message did, and full collections of them stalled every room for 50-100 ms. Sequence
    numbers are implicit: the held messages are always the last len(texts) of them."""

    __slots__ = ("_bytes", "_texts", "_times", "limits", "seq", "sink")

    def __init__(self, limits: ReplayLimits) -> None:
        self.limits = limits
        self.seq = 0
        self.sink: Sink | None = None
        # Created on first use: most idle seats never need them.
        self._times: deque[float] | None = None
        self._texts: deque[str] | None = None
        self._bytes = 0

    def deliver(self, body: str, now: float) -> None:
        self.seq += 1
        text = seal(body, self.seq)
        texts, times = self._texts, self._times
        if texts is None or times is None:
            texts, times = self._texts, self._times = deque(), deque()
        texts.append(text)
        times.append(now)
        self._bytes += len(text)
        self._trim(texts, times, now)
        if self.sink is not None:
            self.sink.write(text)

    def _trim(self, texts: deque[str], times: deque[float], now: float) -> None:
        limits = self.limits
        horizon = now - limits.window_seconds if self.sink is not None else None
        while texts and (
            len(texts) > limits.max_messages
            or self._bytes > limits.max_bytes
            or (horizon is not None and times[0] < horizon)
        ):
            self._bytes -= len(texts.popleft())
            times.popleft()

    def missed_since(self, last_seq: int) -> tuple[list[str], bool]:
        """Messages after last_seq still held, and whether they are all of them."""
        texts = self._texts
        if last_seq >= self.seq or not texts:
            return [], last_seq >= self.seq
        first_held = self.seq - len(texts) + 1
        skip = max(0, last_seq + 1 - first_held)
        return list(islice(texts, skip, None)), first_held <= last_seq + 1

    @property
    def held(self) -> int:
        return len(self._texts) if self._texts else 0
