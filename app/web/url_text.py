"""The URL's text: no control character in a path parameter or in any query name or value.

Path parameters (a verification token) and search fields (a party's name, a case number)
reach SQL as text, and PostgreSQL cannot hold a NUL: refused here with 400, on every request,
rather than failing there with 500. Invalid UTF-8 needs no check: the URL parser decodes it to
U+FFFD.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.web.body import require_safe_text

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def safe_url_text(request: web.Request, handler: Handler) -> web.StreamResponse:
    require_safe_text(*request.match_info.values(), *request.query.keys(), *request.query.values())
    return await handler(request)
