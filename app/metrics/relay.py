"""Counting what signaling delivers, by message type, without slowing the relay.

A Hub that wraps the server's own: one dict increment and a prefix test per delivered
message, read at scrape time. The type is read from the front of the serialised body: the
relay never parses what it forwards.
"""

from __future__ import annotations

from signaling.hub import Hub, Inbox

KINDS = frozenset(
    {"signal", "presence", "quality", "admitted", "removed", "recording", "error", "welcome"}
)
# Only a relayed signal begins with the sender ({"from":...}, signaling.messages.signal_body);
# what the server writes itself begins with its type.
_SIGNAL_HEAD = '{"from":'
_TYPE_HEAD = '{"type":"'


def kind_of(body: str) -> str:
    if body.startswith(_SIGNAL_HEAD):
        return "signal"
    if body.startswith(_TYPE_HEAD):
        end = body.find('"', 9, 30)
        kind = body[9:end] if end > 0 else ""
        return kind if kind in KINDS else "other"
    return "other"


class CountingHub:
    """Implements signaling.hub.Hub around another hub."""

    def __init__(self, inner: Hub) -> None:
        self.inner = inner
        self.delivered: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.delivered["other"] = 0
        self.undelivered = 0

    def attach(self, case_id: int, participant_id: str, inbox: Inbox) -> None:
        self.inner.attach(case_id, participant_id, inbox)

    def detach(self, case_id: int, participant_id: str, inbox: Inbox) -> None:
        self.inner.detach(case_id, participant_id, inbox)

    def publish(self, case_id: int, participant_id: str, body: str, now: float) -> bool:
        if self.inner.publish(case_id, participant_id, body, now):
            self.delivered[kind_of(body)] += 1
            return True
        self.undelivered += 1
        return False

    async def close(self) -> None:
        await self.inner.close()
