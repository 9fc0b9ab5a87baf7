"""Per-seat numbered outbox: what a resuming participant missed. Pure, time passed in."""

from __future__ import annotations

from array import array
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
    # Characters held for resumes by every seat of a node together (docs/protocol.md,
    # Memory): a node under a heavy load keeps less of the recent past for each seat
    # instead of growing without bound.
    node_chars: int = 64 * 1024 * 1024


class ReplayBudget:
    """What every mailbox of one node holds, counted in characters."""

    __slots__ = ("held", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0


class Mailbox:
    """Held messages live in a list of strings and an array of their times. Neither holds
    an object per message that the cyclic garbage collector tracks, so a full window of
    held messages adds little to its scans (a tuple per message did, and full collections
    stalled every room for 50-100 ms), and an idle seat costs two small containers.
    Sequence numbers are implicit: the held messages are always the last len(texts)."""

    __slots__ = ("_budget", "_chars", "_texts", "_times", "limits", "seq", "sink")

    def __init__(self, limits: ReplayLimits, budget: ReplayBudget | None = None) -> None:
        self.limits = limits
        self.seq = 0
        self.sink: Sink | None = None
        self._budget = budget or ReplayBudget(limits.node_chars)
        self._texts: list[str] = []
        self._times = array("d")
        self._chars = 0

    def deliver(self, body: str, now: float) -> None:
        self.seq += 1
        text = seal(body, self.seq)
        texts, times = self._texts, self._times
        texts.append(text)
        times.append(now)
        size = len(text)
        self._chars += size
        budget = self._budget
        budget.held += size
        limits = self.limits
        sink = self.sink
        if (
            len(texts) > limits.max_messages
            or self._chars > limits.max_bytes
            or budget.held > budget.limit
            or (sink is not None and times[0] < now - limits.window_seconds)
        ):
            self._trim(now)
        if sink is not None:
            sink.write(text)

    def _trim(self, now: float) -> None:
        texts, times, limits = self._texts, self._times, self.limits
        horizon = now - limits.window_seconds if self.sink is not None else None
        budget = self._budget
        drop, chars = 0, self._chars
        held = budget.held
        # The newest message always stays: it is the one being delivered.
        while drop < len(texts) - 1 and (
            len(texts) - drop > limits.max_messages
            or chars > limits.max_bytes
            or held > budget.limit
            or (horizon is not None and times[drop] < horizon)
        ):
            size = len(texts[drop])
            chars -= size
            held -= size
            drop += 1
        if drop:
            del texts[:drop]
            del times[:drop]
            self._chars, budget.held = chars, held

    def release(self) -> None:
        """The seat is gone: what it held no longer counts against the node's budget."""
        self._budget.held -= self._chars
        self._texts, self._times, self._chars = [], array("d"), 0

    def missed_since(self, last_seq: int) -> tuple[list[str], bool]:
        """Messages after last_seq still held, and whether they are all of them."""
        texts = self._texts
        if last_seq >= self.seq or not texts:
            return [], last_seq >= self.seq
        first_held = self.seq - len(texts) + 1
        skip = max(0, last_seq + 1 - first_held)
        return texts[skip:], first_held <= last_seq + 1

    @property
    def held(self) -> int:
        return len(self._texts)
