"""`kill -9` of a one-node installation (a real `sifa serve`, SQLite) mid-inquiry, then a
restart: a resume is told the server holds no such room, the seats come back with fresh room
tokens, the start-up sweep ends the killed run as interrupted, the recording starts again by
itself when the room opens, and the records go on; the timeline names each interruption."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cluster.cluster_api import Clients
from cluster.cluster_support import Installation, Process, free_port, get_json, sifa_command
from cluster.test_one_node_stop import wait_for

from integration.ruling_flow import PASSED, Room, leave_all_rooms, ok, scheduled_case, seat_room


async def resume_after_restart(base: str, case_id: int, room: Room) -> dict[str, object]:
    """The judge's old seat tries to resume on the restarted server."""
    seat = room.judge
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{base.replace('http', 'ws', 1)}/ws")
        await ws.send_json(
            {
                "type": "resume",
                "v": 1,
                "case_id": case_id,
                "participant": seat.id,
                "resume_token": seat.resume_token,
                "last_seq": 0,
            }
        )
        answer: dict[str, object] = await ws.receive_json(timeout=10)
        await ws.close()
    return answer


@pytest.mark.slow
async def test_kill_9_mid_inquiry_the_recording_starts_again(
    tmp_path: Path, clients: Clients
) -> None:
    installation = Installation.create(tmp_path / "one", f"sqlite+aiosqlite:///{tmp_path}/s.db")
    port = free_port()
    env = {**installation.env, "SIFA_PORT": str(port), "SIFA_NODE_NAME": "solo"}
    node = Process("solo", [*sifa_command(), "serve"], env, installation.root, tmp_path / "n.log")
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return get_json(f"{base}/readyz")[0] == 200

    node.spawn()
    try:
        wait_for(ready, "the node to be ready", node)
        mediator, clerk = (
            await clients.as_user(base, "mediator"),
            await clients.as_user(base, "clerk"),
        )
        judge, kiosk = await clients.as_user(base, "judge"), await clients.as_user(base, "kiosk1")
        case_id = await scheduled_case(mediator, clerk)
        path = f"/api/cases/{case_id}"
        await ok(await judge.post(f"{path}/open-session", json={}))
        checks = {"camera": True, "microphone": True, "network": True}
        await ok(await kiosk.post(f"{path}/session/check-in", json=checks))
        room = await seat_room(judge, kiosk, case_id)
        await ok(await judge.post(f"{path}/session/admit", json={}))
        await ok(await judge.post(f"{path}/session/identity", json={"party": 0, **PASSED}))

        node.stop(signal.SIGKILL)
        node.spawn()
        wait_for(ready, "the node to be ready again", node)

        # The old seat's resume says what happened: this server holds no such room.
        refused = await resume_after_restart(base, case_id, room)
        assert refused["type"] == "error" and refused["code"] == "resume_failed", refused
        assert "服务器可能已重新启动" in str(refused["message"])

        # The seats come back with fresh room tokens, as the browsers do by themselves; the
        # room opens afresh and the recording starts again.
        await leave_all_rooms()
        await seat_room(judge, kiosk, case_id)
        recording: dict[str, Any] = {}
        for _ in range(100):
            recording = await ok(await judge.get(f"{path}/recording"))
            if recording["state"] == "recording" and len(recording["runs"]) == 2:
                break
            await asyncio.sleep(0.1)
        runs = recording["runs"]
        assert [(r["state"], r["end_reason"]) for r in runs] == [
            ("failed", "interrupted"),
            ("recording", None),
        ], runs
        assert recording["missing"] is False
        await ok(await judge.post(f"{path}/session/identity", json={"party": 1, **PASSED}))

        timeline = await ok(await clerk.get(f"{path}/timeline"))
        items = {i["kind"]: i for i in timeline["timeline"]}
        assert {"recording.interrupted", "recording.restarted"} <= set(items)
        assert items["recording.restarted"]["label_en"] == "Recording started again"
        assert items["recording.restarted"]["details"]["after"] == "interrupted"
    finally:
        await leave_all_rooms()
        if node.running:
            node.stop(signal.SIGINT)
