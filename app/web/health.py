"""/healthz (is the process alive) and /readyz (should it be given new work).

The balancer asks /readyz every second and takes a node out while it answers 503; a process
supervisor asks /healthz, which fails only when the process no longer answers at all.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from sqlalchemy import select, text

from app.config import Settings
from app.keys import Services, services
from app.ruling.court_keys import Court
from app.store.models import Court as CourtRow
from signaling.cluster import ClusterNode
from signaling.server import SERVER_KEY, SignalingServer

DATABASE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: dict[str, object] = field(default_factory=dict)

    def view(self) -> dict[str, object]:
        return {"ok": self.ok, **self.detail}


def verdict(checks: Iterable[Check], *, stopping: bool) -> tuple[str, int]:
    """Ready only when every check passes and the node is not on its way out."""
    if stopping:
        return "draining", 503
    failed = [c.name for c in checks if not c.ok]
    return ("not_ready", 503) if failed else ("ready", 200)


def liveness(settings: Settings, server: SignalingServer) -> dict[str, object]:
    """What /healthz says: the node, its mode and, with several nodes, Redis as last seen."""
    cluster = server.cluster
    body: dict[str, object] = {
        "status": "ok",
        "node": settings.node_name,
        "redis": "off",
        "rooms": len(server.rooms),
    }
    if cluster is not None:
        body["redis"] = "ok" if cluster.healthy else "down"
        # A node that lost Redis still serves the rooms it hosts: degraded, not dead.
        if not cluster.healthy:
            body["status"] = "degraded"
    if stopping(server):
        body["status"] = "draining"
    return body


def stopping(server: SignalingServer) -> bool:
    return server.stopping or (server.cluster is not None and server.cluster.draining)


def disk_checks(settings: Settings) -> list[Check]:
    """Free space where documents and recordings are written, one check per file system."""
    folders = {
        "rulings": settings.rulings_dir,
        "materials": settings.materials_dir,
        "recordings": settings.recordings_dir,
    }
    by_device: dict[int, tuple[list[str], Path]] = {}
    for name, folder in folders.items():
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
        names, _ = by_device.setdefault(existing.stat().st_dev, ([], existing))
        names.append(name)
    checks = []
    for names, folder in by_device.values():
        free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
        checks.append(
            Check(
                "disk:" + "+".join(names),
                free_mb >= settings.min_free_mb,
                {"free_mb": free_mb, "min_free_mb": settings.min_free_mb},
            )
        )
    return checks


async def database_check(svc: Services) -> tuple[Check, list[CourtRow]]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            async with svc.db.transaction() as session:
                await session.execute(text("SELECT 1"))
                courts = list(await session.scalars(select(CourtRow)))
    except Exception as exc:  # any failure to answer is "not ready", named by its kind only
        return Check("database", False, {"error": type(exc).__name__}), []
    ms = round((time.perf_counter() - started) * 1000, 1)
    return Check("database", True, {"dialect": svc.db.dialect, "ms": ms}), courts


async def signing_check(svc: Services, courts: list[CourtRow]) -> Check:
    """The configured court must be able to sign; other courts without a key are named (they
    are refused one by one when they issue) but do not take the whole node out."""
    settings = svc.settings
    keys = svc.desk.keys
    loop = asyncio.get_running_loop()
    own = Court(settings.court_code, settings.court_name)
    wanted = {own.code: own, **{c.code: Court(c.code, c.name) for c in courts}}
    answers = await asyncio.gather(
        *(loop.run_in_executor(None, keys.can_sign, court) for court in wanted.values())
    )
    missing = sorted(code for code, ok in zip(wanted, answers, strict=True) if not ok)
    return Check("signing", own.code not in missing, {"courts_without_key": missing})


def redis_check(cluster: ClusterNode) -> Check:
    return Check("redis", cluster.healthy, {})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response(liveness(services(request).settings, request.app[SERVER_KEY]))


async def readyz(request: web.Request) -> web.Response:
    svc = services(request)
    server = request.app[SERVER_KEY]
    database, courts = await database_check(svc)
    checks = [database, *disk_checks(svc.settings)]
    if database.ok:
        checks.append(await signing_check(svc, courts))
    if server.cluster is not None:
        checks.append(redis_check(server.cluster))
    status, code = verdict(checks, stopping=stopping(server))
    body = {
        "status": status,
        "node": svc.settings.node_name,
        "checks": {c.name: c.view() for c in checks},
    }
    return web.json_response(body, status=code)


def routes() -> list[web.RouteDef]:
    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
