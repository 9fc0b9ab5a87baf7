"""Per-seat numbered outbox: what a resuming participant missed. Pure, time passed in."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
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
    __slots__ = ("_buffer", "_bytes", "limits", "seq", "sink")

    def __init__(self, limits: ReplayLimits) -> None:
        self.limits = limits
        self.seq = 0
        self.sink: Sink | None = None
        # Created on first use: most idle seats never need one.
        self._buffer: deque[tuple[int, float, str]] | None = None
        self._bytes = 0

    def deliver(self, body: str, now: float) -> None:
        self.seq += 1
        text = seal(body, self.seq)
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = deque()
        buffer.append((self.seq, now, text))
        self._bytes += len(text)
        self._trim(now)
        if self.sink is not None:
            self.sink.write(text)

    def _trim(self, now: float) -> None:
        buffer = self._buffer
        if not buffer:
            return
        limits = self.limits
        horizon = now - limits.window_seconds if self.sink is not None else None
        while buffer and (
            len(buffer) > limits.max_messages
            or self._bytes > limits.max_bytes
            or (horizon is not None and buffer[0][1] < horizon)
        ):
            self._bytes -= len(buffer.popleft()[2])

    def missed_since(self, last_seq: int) -> tuple[list[str], bool]:
        """Messages after last_seq still held, and whether they are all of them."""
        if last_seq >= self.seq or not self._buffer:
            return [], last_seq >= self.seq
        held = [text for seq, _, text in self._buffer if seq > last_seq]
        complete = self._buffer[0][0] <= last_seq + 1
        return held, complete

    @property
    def held(self) -> int:
        return len(self._buffer) if self._buffer else 0
