"""Delivery of serialised messages to seats, wherever their socket lives.

`publish` is synchronous and never waits: a relay must not stall the sender's
read loop on a slow recipient. A room and all its mailboxes live on the node that
hosts it, so delivery stays local even with several nodes: a seat whose socket is
on another node has a RemotePeer as its mailbox's sink (signaling/cluster.py).
"""

from __future__ import annotations

from typing import Protocol


class Inbox(Protocol):
    def deliver(self, body: str, now: float) -> None: ...


class Hub(Protocol):
    def attach(self, case_id: int, participant_id: str, inbox: Inbox) -> None: ...

    def detach(self, case_id: int, participant_id: str, inbox: Inbox) -> None: ...

    def publish(self, case_id: int, participant_id: str, body: str, now: float) -> bool: ...

    async def close(self) -> None: ...


class LocalHub:
    """All seats in this process."""

    def __init__(self) -> None:
        self._inboxes: dict[tuple[int, str], Inbox] = {}

    def attach(self, case_id: int, participant_id: str, inbox: Inbox) -> None:
        self._inboxes[(case_id, participant_id)] = inbox

    def detach(self, case_id: int, participant_id: str, inbox: Inbox) -> None:
        # Only the inbox that is attached may detach: a late detach from a
        # replaced seat must not cut off its successor.
        key = (case_id, participant_id)
        if self._inboxes.get(key) is inbox:
            del self._inboxes[key]

    def publish(self, case_id: int, participant_id: str, body: str, now: float) -> bool:
        inbox = self._inboxes.get((case_id, participant_id))
        if inbox is None:
            return False
        inbox.deliver(body, now)
        return True

    async def close(self) -> None:
        self._inboxes.clear()

    def __len__(self) -> int:
        return len(self._inboxes)
