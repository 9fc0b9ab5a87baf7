"""GET /metrics for Prometheus, the request middleware, and wiring the hooks into an app."""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.config import Settings
from app.keys import SERVICES
from app.logs import route_of
from app.metrics import observe
from app.metrics.db import observe_statements
from app.metrics.instruments import AppMetrics, LiveCollector
from app.metrics.relay import CountingHub
from app.recording.service import RECORDINGS_KEY
from app.web.client_address import client_address
from signaling.server import SERVER_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
METRICS_KEY = web.AppKey("metrics", AppMetrics)
REFUSED = (
    "指标仅对配置的地址（SIFA_METRICS_ADDRESSES）或持有令牌（SIFA_METRICS_TOKEN）者开放。\n"
    "Metrics are open only to the configured addresses (SIFA_METRICS_ADDRESSES) or with the "
    "bearer token (SIFA_METRICS_TOKEN).\n"
)


def may_scrape(address: str, authorization: str, settings: Settings) -> bool:
    """The peer (seen through trusted proxies only) is in a metrics network, or it sent the
    metrics token."""
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        peer = None
    if peer is not None and any(peer in network for network in settings.metrics_networks):
        return True
    token = settings.metrics_token
    if not token or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[7:].strip().encode(), token.encode())


async def metrics_page(request: web.Request) -> web.Response:
    settings = request.app[SERVICES].settings
    if not may_scrape(client_address(request), request.headers.get("Authorization", ""), settings):
        return web.Response(status=403, text=REFUSED)
    body = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(
        body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    )


@web.middleware
async def http_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app[METRICS_KEY]
    observe.CURRENT.set(metrics)  # a request task of its own: nothing to reset
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as raised:
        status = raised.status
        raise
    finally:
        metrics.request_done(
            request.method, route_of(request), status, time.perf_counter() - started
        )


def setup_metrics(app: web.Application) -> AppMetrics:
    """Call once the signaling server and the recorder are attached (create_app)."""
    metrics = app[METRICS_KEY] = AppMetrics()
    svc = app[SERVICES]
    observe_statements(svc.db.engine, metrics.db_seconds)
    svc.desk.on_ruling_issued = metrics.ruling_seconds.observe
    server = app[SERVER_KEY]
    hub = CountingHub(server.hub)
    # Before any room opens: every LiveRoom takes the server's hub when it is made.
    server.hub = hub
    metrics.registry.register(LiveCollector(server, hub, app[RECORDINGS_KEY]))
    app.router.add_get("/metrics", metrics_page)
    return metrics
