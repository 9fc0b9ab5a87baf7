"""A hearing on several real nodes behind HAProxy: real aiortc media, the recorder, and losing
the node that hosts the room (SIGTERM, SIGKILL) in the middle of it."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from cluster.cluster_api import Clients, ok
from cluster.cluster_hearing import Hearing, open_hearing
from cluster.cluster_support import Cluster, Process, get_json, private_redis, redis_url

from app.domain.clock import COURT_TZ

from e2e.conftest import browser
from e2e.session_helpers import (
    kiosk_into_lobby,
    login,
)
from e2e.test_ruling_pages import booked_case
from e2e.test_session_flow import clerk_ruling_validates, hearing_to_ruling
from realdeps import require_tool

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
__all__ = ["browser"]

A, B = "node-a", "node-b"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def other(node: str) -> str:
    return B if node == A else A


async def test_chromium_judge_and_kiosk_through_the_balancer_to_a_signed_ruling(
    browser: Any, cluster: Cluster
) -> None:
    """The browser client through HAProxy, round robin: pages, API calls and sockets land on
    either node; the session runs whole, the clerk's ruling validates."""
    base = cluster.lb_url
    case_id = await booked_case(base, dt.datetime.now(COURT_TZ) + dt.timedelta(hours=3))
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "cluster")
    await hearing_to_ruling(judge, kiosk, base, case_id, "cluster")
    installation = SimpleNamespace(certs_dir=cluster.installation.root / "certs")
    clerk = await login(browser, base, "clerk")
    await clerk_ruling_validates(installation, base, case_id, clerk)
    for page in (kiosk, judge, clerk):
        assert not page.errors, page.errors
    # Both nodes served the hearing's requests.
    log = cluster.logs("haproxy")
    assert all(f"sifa_nodes/{name} " in log for name in (A, B))


async def wait_recording_on(hearing: Hearing, node: str, within: float = 20.0) -> dict:
    deadline = time.monotonic() + within
    while True:
        view = await hearing.recording()
        live = [r for r in view["runs"] if r["state"] == "recording"]
        if live and live[0]["node"] == node:
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"no run recording on {node}: {view['runs']}")
        await asyncio.sleep(0.25)


async def test_judge_and_kiosk_on_two_nodes_one_recording_stopped_from_either(
    cluster: Cluster, clients: Clients, session: aiohttp.ClientSession
) -> None:
    hearing = await open_hearing(
        cluster, clients, session, judge_node=A, kiosk_node=B, room_index=3
    )
    try:
        host = await hearing.host()
        # Asked of either node, and of both at once, start finds the one live run.
        on_a = await clients.as_user(cluster.url(A), "judge")
        on_b = await clients.as_user(cluster.url(B), "judge")
        path = f"/api/cases/{hearing.case_id}/recording"
        views = await asyncio.gather(
            ok(await on_a.post(f"{path}/start", json={})),
            ok(await on_b.post(f"{path}/start", json={})),
        )
        for view in views:
            assert [r["node"] for r in view["runs"] if r["state"] == "recording"] == [host]
        assert len(views[0]["runs"]) == 1
        # Status is the same whichever node answers.
        assert (await hearing.recording(on_a))["runs"] == (await hearing.recording(on_b))["runs"]
        # The clerk's live board shows who is in the room, from the node that does not host it.
        clerk = await clients.as_user(cluster.url(other(host)), "clerk")
        board = await ok(await clerk.get("/api/board"))
        (room,) = [r for r in board["rooms"] if r["case_id"] == hearing.case_id]
        people = room["connection"]["participants"]
        assert {(p["role"], p["admitted"], p["connected"]) for p in people} == {
            ("judge", True, True),
            ("kiosk", True, True),
            ("recorder", True, True),
        }
        await hearing.media_flows()

        # A stop sent to the node that does not record stops the real run.
        away = on_b if host == A else on_a
        stopped = await ok(await away.post(f"{path}/stop", json={}))
        assert stopped["state"] == "stopped", stopped
        (run,) = stopped["runs"]
        assert run["state"] == "stopped" and run["end_reason"] == "judge"
        segments = stopped["segments"]
        assert {s["participant_id"] for s in segments} >= {
            hearing.judge_peer.id,
            hearing.kiosk_peer.id,
        }
        assert all(s["state"] == "closed" and s["sha256"] for s in segments), segments

        # Both nodes asked to start at the same moment, with no run live: one new run.
        views = await asyncio.gather(
            ok(await on_a.post(f"{path}/start", json={})),
            ok(await on_b.post(f"{path}/start", json={})),
        )
        final = await hearing.recording()
        assert [r["state"] for r in final["runs"]] == ["stopped", "recording"], final["runs"]
        assert {v["runs"][-1]["id"] for v in views} == {final["runs"][-1]["id"]}

        # The idle kiosk's poll, on whichever node, sees the session the judge opened.
        for node in (A, B):
            kiosk = await clients.as_user(cluster.url(node), "kiosk4")
            found = await ok(await kiosk.get("/api/cases?state=scheduled&state=in_session"))
            assert {"id": hearing.case_id, "state": "in_session"}.items() <= next(
                c for c in found["cases"] if c["id"] == hearing.case_id
            ).items()
    finally:
        await hearing.close()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_losing_the_rooms_node_mid_session_loses_no_hearing(
    cluster: Cluster, clients: Clients, session: aiohttp.ClientSession, how: signal.Signals
) -> None:
    # The module's cluster: each case ends with the lost node restarted and back in rotation.
    room = 1 if how is signal.SIGTERM else 2  # a room of its own in the shared cluster
    hearing = await open_hearing(
        cluster, clients, session, judge_node=A, kiosk_node=B, room_index=room
    )
    try:
        host = await hearing.host()
        survivor = other(host)
        await asyncio.sleep(2)  # some recording to keep
        lost_at = time.monotonic()
        code = cluster.stop(host, how)
        assert code == (0 if how is signal.SIGTERM else -signal.SIGKILL)

        # Both parties resume by themselves through the balancer; media goes on.
        view = await wait_recording_on(hearing, survivor)
        took = time.monotonic() - lost_at
        assert took < 12, f"the room was taken over after {took:.1f} s"
        await hearing.media_flows()
        # A socket bridged to the lost node from the survivor is closed at its next check
        # (2 s) or message; wait for both resumes, bounded.
        for _ in range(150):
            if hearing.judge_peer.resumes and hearing.kiosk_peer.resumes:
                break
            await asyncio.sleep(0.1)
        assert hearing.judge_peer.resumes and hearing.kiosk_peer.resumes

        first, second = view["runs"]
        assert first["node"] == host and second["node"] == survivor
        if how is signal.SIGTERM:
            assert (first["state"], first["end_reason"]) == ("stopped", "handover")
            kept = {"closed"}
        else:
            assert (first["state"], first["end_reason"]) == ("failed", "interrupted")
            kept = {"recovered"}
        old = [s for s in view["segments"] if s["run"] == first["id"]]
        assert old and {s["state"] for s in old} <= kept, old
        assert all(s["url"] and s["duration_seconds"] > 1 for s in old), old
        gaps = [e for e in view["timeline"] if e["kind"] == "recorder_gap"]
        assert gaps, view["timeline"]

        ruling = await hearing.served()
        assert ruling["sha256"] and ruling["outcome"] == "confirmed"
        final = await hearing.recording()
        assert [r["state"] for r in final["runs"]] == [first["state"], "stopped"]
    finally:
        await hearing.close()

    # The node comes back; its start-up sweep finds nothing of its own left to settle.
    cluster.start(host)
    assert "nothing was left recording" in cluster.logs(host).split("starting")[-1]
    cluster.wait_in_rotation(host)


async def wait_health(cluster: Cluster, status: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while True:
        seen = {name: get_json(f"{cluster.url(name)}/healthz")[1] for name in (A, B)}
        if all(body["status"] == status for body in seen.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"nodes did not become {status}: {seen}")
        await asyncio.sleep(0.2)


@pytest.fixture
def redis_of_its_own(
    make_cluster: Callable[..., Cluster], tmp_path: Path
) -> Iterator[tuple[Process, Cluster]]:
    require_tool("redis-server")
    redis = private_redis(tmp_path)
    try:
        yield redis, make_cluster(redis_url=redis_url(redis))
    finally:
        if redis.running:
            redis.stop(signal.SIGTERM)


async def test_a_redis_restart_mid_session_loses_nothing(
    redis_of_its_own: tuple[Process, Cluster], clients: Clients, session: aiohttp.ClientSession
) -> None:
    redis, cluster = redis_of_its_own
    hearing = await open_hearing(cluster, clients, session, judge_node=A, kiosk_node=B)
    try:
        host = await hearing.host()
        redis.stop(signal.SIGTERM)
        await wait_health(cluster, "degraded")
        body = get_json(f"{cluster.url(host)}/healthz")[1]
        assert body["redis"] == "down" and body["rooms"] == 1
        # Media and the recorder do not pass through Redis: the hearing goes on.
        await hearing.media_flows()
        # No node is ready without Redis, so the balancer's checks take both out; it then
        # fails open to every node (deploy/haproxy.cfg), and pages and the API keep working
        # through it on the database alone.
        for name in (A, B):
            status, ready = get_json(f"{cluster.url(name)}/readyz")
            assert status == 503 and not ready["checks"]["redis"]["ok"], ready
        await asyncio.sleep(3)  # two failed checks a second apart, and some slack
        balancer = cluster.logs("haproxy")
        assert all(f"sifa_nodes/{name} is DOWN" in balancer for name in (A, B)), balancer[-2000:]
        assert (await hearing.recording())["state"] == "recording"

        redis.spawn()  # same port; it comes back empty
        await wait_health(cluster, "ok")
        # The host re-claimed its room: signaling between the nodes works again.
        await hearing.judge_peer.client.send(
            {"type": "stats", "packet_loss": 0.0, "rtt_ms": 10, "bitrate_kbps": 900}
        )
        assert await hearing.host() == host
        await hearing.served()
        final = await hearing.recording()
        (run,) = final["runs"]
        assert run["state"] == "stopped" and run["failure"] is None
        assert all(s["state"] == "closed" for s in final["segments"]), final["segments"]
    finally:
        await hearing.close()
