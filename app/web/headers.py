"""Security headers on every response: pages, API answers, errors, 404s and redirects alike."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping

from aiohttp import web

from app.web.tls import HSTS, as_seen_by_browser, request_wants_hsts

log = logging.getLogger("sifa.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A host as a browser writes it in a URL: a name or address and a port, nothing that could end
# a CSP directive. Anything else gets 'self' alone, which CSP 3 browsers extend to ws(s) anyway.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
NO_STORE = (
    "/api/",
    "/cases",
    "/intake",
    "/docket",
    "/kiosk",
    "/judge",
    "/board",
    "/figures",
    "/party",
    "/rulings",
    "/admin",
    "/account",
)


def content_security_policy(socket_origin: str | None, *, blob_frames: bool = False) -> str:
    """The site's policy. socket_origin: our own ws:// or wss:// origin, the one place scripts
    may open a WebSocket to besides 'self'. blob_frames: a page that shows bytes it fetched
    itself in a frame (the party's device fetches the ruling with its token header, which a
    frame cannot send)."""
    frames = "'self' blob:" if blob_frames else "'self'"
    connect = f"'self' {socket_origin}" if socket_origin else "'self'"
    return (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        f"connect-src {connect}; frame-src {frames}; object-src 'none'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
    )


def socket_origin(request: web.Request) -> str | None:
    """The WebSocket origin of the address the browser used, if it is a plain host."""
    if not _HOST.fullmatch(request.host):
        return None
    return f"{'wss' if request.secure else 'ws'}://{request.host}"


def csp_for(request: web.Request, *, blob_frames: bool = False) -> str:
    return content_security_policy(socket_origin(request), blob_frames=blob_frames)


def _secure(request: web.Request, headers: MutableMapping[str, str]) -> None:
    if request_wants_hsts(request):
        headers.setdefault("Strict-Transport-Security", HSTS)
    headers.setdefault("Content-Security-Policy", csp_for(request))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if request.path.startswith(NO_STORE):
        headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Outermost: every later check (Origin, cookies, ws URLs) sees the browser's scheme.
    request = as_seen_by_browser(request)
    try:
        response = await handler(request)
    except web.HTTPException as raised:  # 404s and redirects are raised, not returned
        _secure(request, raised.headers)
        raise
    except Exception:
        # The error middleware answers everything inside it; this is for a failure before it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = web.Response(
            status=500, text="服务器内部错误 / Internal error", content_type="text/plain"
        )
    _secure(request, response.headers)
    return response
