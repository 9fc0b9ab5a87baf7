"""The video room as a record's handler sees it, fetched before the record's transaction."""

from __future__ import annotations

from aiohttp import web

from app.services.presence import Look, look
from signaling.server import SERVER_KEY


async def room_look(request: web.Request, case_id: int) -> Look:
    return await look(request.app.get(SERVER_KEY), case_id)
