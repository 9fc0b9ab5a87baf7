"""The whole app on a real port with the recorder wired in (as the lead wires it in main.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aioice.ice
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.keys import SERVICES
from app.main import create_app
from app.recording.run import WriterFactory
from app.recording.service import RECORDINGS_KEY, Recordings
from signaling.tokens import issue_room_token

from integration.conftest import Clock, Sifa, make_settings, prepare


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice leaves out 127.0.0.1; on loopback-only tests that leaves no candidate at all.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@dataclass
class Served:
    sifa: Sifa
    server: TestServer

    @property
    def app(self) -> web.Application:
        return self.sifa.app

    @property
    def recordings(self) -> Recordings:
        return self.app[RECORDINGS_KEY]

    @property
    def ws_url(self) -> str:
        return str(self.server.make_url("/ws"))

    def token(self, case_id: int, participant_id: str, role: str) -> str:
        return issue_room_token(
            self.app[SERVICES].secret,
            case_id=case_id,
            participant_id=participant_id,
            role=role,
            display_name=participant_id,
            ttl_seconds=120,
            now=time.time(),
        )

    async def as_user(self, username: str, password: str = "demo") -> TestClient:
        return await self.sifa.as_user(username, password)


def build_app(
    tmp_path: Path,
    clock: Clock,
    writer_factory: WriterFactory | None,
    extra: Callable[[web.Application], None] | None = None,
) -> web.Application:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    app = create_app(settings, clock=clock, recording_writers=writer_factory)
    if extra is not None:
        extra(app)
    return app


async def serve(
    tmp_path: Path,
    writer_factory: WriterFactory | None = None,
    extra: Callable[[web.Application], None] | None = None,
    *,
    fresh: bool = True,
) -> Served:
    """fresh=False starts on the database and folders already under tmp_path (a restart)."""
    clock = Clock()
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    if fresh:
        await prepare(settings, clock.now)
    app = build_app(tmp_path, clock, writer_factory, extra)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    async def client(_app: Any) -> Any:
        test_client = TestClient(server)
        await test_client.start_server()
        return test_client

    return Served(Sifa(app, settings, clock, client), server)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    running = await serve(tmp_path)
    yield running
    await running.server.close()
