"""/healthz (alive) and /readyz (ready for new work): each readiness check can fail on its own,
and a failing check answers 503 naming it, while /healthz stays 200."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.main import create_app
from app.web.health import Check, verdict
from signaling.server import SERVER_KEY

from integration.conftest import Clock, make_settings, prepare


async def client_for(
    tmp_path: Path, aiohttp_client: Callable[..., Any], **overrides: str
) -> tuple[Any, Any]:
    clock = Clock()
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}", **overrides)
    await prepare(settings, clock.now)
    app = create_app(settings, clock=clock)
    return await aiohttp_client(app), app


async def ready(client: Any) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    return response.status, await response.json()


async def test_a_fresh_node_is_ready_and_says_why(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    client, app = await client_for(tmp_path, aiohttp_client)
    status, body = await ready(client)
    assert status == 200 and body["status"] == "ready", body
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["database"]["dialect"] == "sqlite"
    assert checks["signing"] == {"ok": True, "courts_without_key": []}
    disks = [v for k, v in checks.items() if k.startswith("disk:")]
    # The three folders share tmp_path's file system: one check naming all three.
    assert [k for k in checks if k.startswith("disk:")] == ["disk:rulings+materials+recordings"]
    assert disks[0]["ok"] and disks[0]["free_mb"] >= disks[0]["min_free_mb"] == 512
    assert "redis" not in checks  # one node: no Redis to ask

    # Stopping (SIGTERM on one node): not ready, but alive and saying so.
    app[SERVER_KEY].stopping = True
    status, body = await ready(client)
    assert (status, body["status"]) == (503, "draining")
    alive = await client.get("/healthz")
    assert alive.status == 200 and (await alive.json())["status"] == "draining"


async def test_too_little_disk_space_is_not_ready(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    client, _ = await client_for(tmp_path, aiohttp_client, SIFA_MIN_FREE_MB="10000000")
    status, body = await ready(client)
    assert status == 503 and body["status"] == "not_ready"
    (disk,) = [v for k, v in body["checks"].items() if k.startswith("disk:")]
    assert not disk["ok"] and disk["free_mb"] < disk["min_free_mb"] == 10_000_000
    assert (await client.get("/healthz")).status == 200


async def test_no_signing_key_for_the_court_is_not_ready(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    keys = tmp_path / "p12"  # production keys configured, but none for any court
    keys.mkdir()
    client, _ = await client_for(tmp_path, aiohttp_client, SIFA_SIGNING_P12_DIR=str(keys))
    status, body = await ready(client)
    assert status == 503, body
    signing = body["checks"]["signing"]
    assert not signing["ok"]
    assert "粤0311" in signing["courts_without_key"]  # the configured (demo) court


def test_the_verdict_rule() -> None:
    good, bad = Check("a", True), Check("b", False)
    assert verdict([good], stopping=False) == ("ready", 200)
    assert verdict([good, bad], stopping=False) == ("not_ready", 503)
    assert verdict([good], stopping=True) == ("draining", 503)
