"""The video room as a record's handler sees it, fetched before the record's transaction."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from app.services.presence import Look, look
from signaling.server import SERVER_KEY


async def room_look(request: web.Request, case_id: int) -> Look:
    return await look(request.app.get(SERVER_KEY), case_id)


# How long a request waits for the room's pending audit records; past it the records are read
# as they stand (a busy node's queue is rarely empty for long).
SETTLE_SECONDS = 2.0


async def room_records_settled(request: web.Request) -> None:
    """Let the signaling server write the room's pending records (joins, drops) before a
    document is drawn from the audit log: the transcript's attendance must not change under a
    party who has just read it."""
    server = request.app.get(SERVER_KEY)
    if server is None:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.audit_flushed(), SETTLE_SECONDS)
