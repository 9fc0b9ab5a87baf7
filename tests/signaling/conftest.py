"""Fixtures for the signaling tests: a real aiohttp server on 127.0.0.1 and token helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import aioice.ice
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from signaling.authority import MemoryAuthority
from signaling.server import SignalingConfig, setup_signaling

from signaling_helpers import CASE, JUDGE_ID, SECRET, Stack, StackFactory


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice leaves out 127.0.0.1; on loopback-only tests that leaves no candidate at all.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def make_stack() -> AsyncIterator[StackFactory]:
    servers: list[TestServer] = []

    async def build(
        config: SignalingConfig | None = None,
        extra: Callable[[web.Application], None] | None = None,
        **overrides: object,
    ) -> Stack:
        authority = MemoryAuthority()
        authority.open_room(CASE, "第三调解室", JUDGE_ID)
        config = config or SignalingConfig(secret=SECRET)
        if overrides:
            config = replace(config, **overrides)  # type: ignore[arg-type]
        app = web.Application()
        signaling = setup_signaling(app, config, authority)
        if extra is not None:
            extra(app)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return Stack(server, signaling, authority)

    yield build
    for server in servers:
        await server.close()


@pytest.fixture
async def stack(make_stack: StackFactory) -> Stack:
    return await make_stack()
