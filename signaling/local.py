"""A seat held from inside the server process (the recorder): no socket, same rules.

It joins with a room token like everyone else and its messages go through the same
dispatch as a WebSocket's. What the room sends it is parsed and queued for its owner;
nothing runs inside the sender's relay call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from signaling.dispatch import dispatch
from signaling.live import LiveRoom, Refused
from signaling.messages import Join, parse

if TYPE_CHECKING:
    from signaling.server import SignalingServer

Message = dict[str, Any]


class LocalConnection:
    def __init__(self, server: SignalingServer) -> None:
        self.server = server
        self.live: LiveRoom | None = None
        self.participant_id: str | None = None
        self.from_prefix = ""
        self.inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self.close_code: int | None = None
        self.close_reason = ""

    # -- the room's side (Peer) ---------------------------------------------------------

    def write(self, text: str) -> None:
        if self.close_code is None:
            self.inbox.put_nowait(json.loads(text))

    def close_soon(self, code: int, reason: str) -> None:
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        self.server.peers.discard(self)
        self.inbox.put_nowait(None)

    # -- the owner's side ---------------------------------------------------------------

    async def join(self, case_id: int, token: str) -> Message:
        """Take the seat; the welcome message, or Refused."""
        loop = asyncio.get_running_loop()
        self.server.peers.add(self)
        try:
            await self.server.join(self, Join(case_id, token), loop.time())
        except Refused:
            self.server.peers.discard(self)
            raise
        first = await self.inbox.get()
        if first is None or first.get("type") == "error":
            raise Refused(str((first or {}).get("code", "closed")), "the room refused the seat")
        return first

    def send(self, message: Mapping[str, object]) -> None:
        """Validated like a client's text, then handled as if it came over a socket."""
        if self.close_code is not None:
            return
        parsed = parse(json.dumps(message, ensure_ascii=False))
        dispatch(self.server, self, parsed, asyncio.get_running_loop().time())

    def leave(self) -> None:
        if self.close_code is None and self.live is not None:
            self.send({"type": "leave"})
        self.close_soon(1000, "left")
