"""SIGTERM on a one-node installation (a real `sifa serve`, SQLite, no Redis): the hearing under
way goes on to its end, no new hearing starts, /readyz says draining, and the node exits 0 once
the last room is empty."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cluster.cluster_api import Clients, ok
from cluster.cluster_support import Process, get_json
from cluster.one_node import one_node, wait_for

from integration.ruling_flow import scheduled_case


@pytest.fixture
async def solo(tmp_path: Path) -> AsyncIterator[tuple[Process, str]]:
    async with one_node(tmp_path) as running:
        yield running


async def join(
    session: aiohttp.ClientSession, base: str, case_id: int, door: dict[str, Any]
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await session.ws_connect(f"{base.replace('http', 'ws', 1)}/ws")
    await ws.send_json({"type": "join", "case_id": case_id, "token": door["token"]})
    return ws, await ws.receive_json(timeout=10)


@pytest.mark.slow
async def test_sigterm_lets_the_hearing_finish_and_starts_no_new_one(
    solo: tuple[Process, str], clients: Clients
) -> None:
    node, base = solo
    mediator, clerk = await clients.as_user(base, "mediator"), await clients.as_user(base, "clerk")
    judge = await clients.as_user(base, "judge")
    under_way = await scheduled_case(mediator, clerk, room_index=0)
    later = await scheduled_case(mediator, clerk, room_index=1)
    async with aiohttp.ClientSession() as session:
        door = await ok(await judge.post(f"/api/cases/{under_way}/room-token"))
        ws, welcome = await join(session, base, under_way, door)
        assert welcome["type"] == "welcome", welcome

        node.popen.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        wait_for(lambda: get_json(f"{base}/readyz")[0] == 503, "/readyz to say 503", node)
        status, ready = get_json(f"{base}/readyz")
        assert ready["status"] == "draining", ready
        status, alive = get_json(f"{base}/healthz")
        assert status == 200 and alive["status"] == "draining" and alive["rooms"] == 1

        # A hearing that has not begun is told to come back: this server is restarting.
        other_door = await ok(await judge.post(f"/api/cases/{later}/room-token"))
        refused_ws, refused = await join(session, base, later, other_door)
        assert refused["type"] == "error" and refused["code"] == "server_stopping", refused
        closing = await refused_ws.receive(timeout=5)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1013
        await refused_ws.close()

        # The hearing under way is still served, and the node waits for it.
        await asyncio.sleep(1.5)
        assert node.running and not ws.closed
        await ws.send_json({"type": "leave"})
        left = await ws.receive(timeout=5)
        assert left.type is aiohttp.WSMsgType.CLOSE and left.data == 4009
        code = await asyncio.to_thread(node.popen.wait, 20)  # type: ignore[union-attr]
        assert code == 0, node.logs()[-3000:]
    assert "no new one starts" in node.logs()
