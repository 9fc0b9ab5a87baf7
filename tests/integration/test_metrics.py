"""GET /metrics on a real app after real requests, a real signaling exchange, a recording and a
whole confirmation session: values move as they should, access is refused as configured, and
no label carries personal data."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aioice.ice
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from recording.recording_support import Sender, wait_for

from app.main import create_app
from app.services.demo import sample_application, with_check_digit
from signaling.server import SERVER_KEY

from integration.conftest import Clock, Sifa, make_settings, prepare
from integration.ruling_flow import (
    ALL_ABSENT,
    PASSED,
    ok,
    review_transcript,
    scheduled_case,
    seat_room,
    sign_for,
)
from signaling_helpers import Client

TOKEN = "metrics-token-0123456789abcdef"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ID_NUMBERS = (with_check_digit("44031119800512001"), with_check_digit("44031119750903002"))
NAMES = ("张三", "赵六")


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice leaves out 127.0.0.1; on loopback-only tests that leaves no candidate at all.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data once per module (hashing the demo passwords is most of an app's cost)."""
    folder = tmp_path_factory.mktemp("metrics-template")
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'sifa.db'}")
    asyncio.run(prepare(settings, dt.datetime.now(dt.UTC)))
    return folder


async def serve(prepared: Path, tmp_path: Path, **env: str) -> tuple[Sifa, TestServer]:
    folder = tmp_path / "sifa"
    shutil.copytree(prepared, folder)
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'sifa.db'}", **env)
    clock = Clock()
    app = create_app(settings, clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    clients: list[TestClient] = []

    async def client(_app: Any) -> TestClient:
        test_client = TestClient(server)
        await test_client.start_server()
        clients.append(test_client)
        return test_client

    close = server.close

    async def close_all() -> None:
        for test_client in clients:
            await test_client.session.close()
        await close()

    server.close = close_all  # type: ignore[method-assign]
    return Sifa(app, settings, clock, client), server


@pytest.fixture
async def served(prepared: Path, tmp_path: Path) -> AsyncIterator[tuple[Sifa, TestServer]]:
    running = await serve(prepared, tmp_path)
    yield running
    await running[1].close()


async def scrape(client: TestClient) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples) -> set[str]:
    return {v for _name, labels in samples for _k, v in labels}


def tick(sifa: Sifa, seconds: int) -> None:
    sifa.clock.now += dt.timedelta(seconds=seconds)


async def test_metrics_follow_requests_signaling_recording_and_a_session(
    served: tuple[Sifa, TestServer],
) -> None:
    sifa, server = served
    anonymous = await sifa.make_client(sifa.app)
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    judge, kiosk = await sifa.as_user("judge"), await sifa.as_user("kiosk1")
    _, before = await scrape(anonymous)
    case_id = await scheduled_case(mediator, clerk)

    # HTTP: counted by route template and status, never by the path with its ids.
    case = await ok(await clerk.get(f"/api/cases/{case_id}"))
    assert (await clerk.get("/api/cases/987654")).status == 404
    _, after = await scrape(anonymous)
    route = "/api/cases/{case_id}"
    assert value(after, "sifa_http_requests_total", method="GET", route=route, status="200") == 1
    assert value(after, "sifa_http_requests_total", method="GET", route=route, status="404") == 1
    timed = value(after, "sifa_http_request_duration_seconds_count", method="GET", route=route)
    assert timed == 2
    assert not any(re.search(r"/\d", v) for v in label_values(after))
    # Every request touched the database: statements are timed by operation.
    selects = "sifa_db_statement_duration_seconds_count"
    assert value(after, selects, operation="SELECT") > value(before, selects, operation="SELECT")
    assert value(after, selects, operation="INSERT") > value(before, selects, operation="INSERT")
    assert value(after, "sifa_session_target_seconds") == 1200

    # Signaling: sockets and rooms while they are open, each relayed signal counted once.
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    # Opening the session started the recorder, a participant that offers to everyone: it is
    # stopped here so that what is relayed is only what this test sends (it returns below).
    _, opened = await scrape(anonymous)
    await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
    judge_door = await ok(await judge.post(f"/api/cases/{case_id}/room-token"))
    kiosk_door = await ok(await kiosk.post(f"/api/cases/{case_id}/room-token"))
    ws_url = str(server.make_url("/ws"))
    async with aiohttp.ClientSession() as session:
        judge_ws, kiosk_ws = Client(session, ws_url), Client(session, ws_url)
        await judge_ws.connect_and_join(judge_door["token"], case_id)
        await kiosk_ws.connect_and_join(kiosk_door["token"], case_id)
        await judge_ws.expect("presence", event="joined")
        await judge_ws.send({"type": "admit", "participant": kiosk_door["participant_id"]})
        await kiosk_ws.expect("admitted")
        _, open_room = await scrape(anonymous)
        for n in range(5):
            line = f"candidate:{n} 1 udp 1 127.0.0.1 {9000 + n} typ host"
            candidate = {"candidate": line, "sdpMid": "0"}
            await judge_ws.send(
                {"type": "signal", "to": kiosk_door["participant_id"], "candidate": candidate}
            )
        for _ in range(5):
            await kiosk_ws.expect("signal")
        _, relayed = await scrape(anonymous)
        for socket in (kiosk_ws, judge_ws):
            await socket.send({"type": "leave"})
            await socket.close()
    assert value(opened, "sifa_recording_runs") == 1
    assert value(open_room, "sifa_recording_runs") == 0
    assert value(open_room, "sifa_signaling_connections") == 2
    assert value(open_room, "sifa_signaling_rooms") == 1
    assert value(open_room, "sifa_signaling_participants") == 2
    signals = "sifa_signaling_messages_total"
    assert value(relayed, signals, kind="signal") - value(open_room, signals, kind="signal") == 5
    assert value(relayed, signals, kind="presence") >= 1
    assert value(relayed, signals, kind="admitted") == 1
    await wait_for(lambda: not sifa.app[SERVER_KEY].rooms, 5, "the room to close")
    _, closed = await scrape(anonymous)
    assert value(closed, "sifa_signaling_connections") == 0
    assert value(closed, "sifa_signaling_rooms") == 0

    # Recording: a live run with one segment, then none; nothing failed or dropped.
    await ok(await judge.post(f"/api/cases/{case_id}/recording/start", json={}))
    async with aiohttp.ClientSession() as session:
        sender = Sender(session, ws_url, judge_door["participant_id"])
        await sender.join(
            (await ok(await judge.post(f"/api/cases/{case_id}/room-token")))["token"], case_id
        )

        async def one_segment() -> bool:
            _, now = await scrape(anonymous)
            return value(now, "sifa_recording_segments") == 1

        for _ in range(100):
            if await one_segment():
                break
            await asyncio.sleep(0.1)
        _, recording = await scrape(anonymous)
        await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
        await sender.close()
    _, stopped = await scrape(anonymous)
    assert value(recording, "sifa_recording_runs") == 1
    assert value(recording, "sifa_recording_segments") == 1
    assert value(stopped, "sifa_recording_runs") == 0
    assert value(stopped, "sifa_recording_segments") == 0
    assert value(stopped, "sifa_recording_failures_total", what="run") == 0
    assert value(stopped, "sifa_recording_failures_total", what="segment") == 0
    assert value(stopped, "sifa_recording_frames_lost_total") == 0

    # A whole session on the app's clock: each step's time, the whole, the ruling's signing.
    # The hearing is recorded whole, so the recording runs again first.
    await ok(await judge.post(f"/api/cases/{case_id}/recording/restart", json={}))
    session_url = f"/api/cases/{case_id}/session"
    checks = {"camera": True, "microphone": True, "network": True}
    await ok(await kiosk.post(f"{session_url}/check-in", json=checks))
    await seat_room(judge, kiosk, case_id)
    await ok(await judge.post(f"{session_url}/admit", json={}))
    tick(sifa, 120)
    for party in (0, 1):
        await ok(await judge.post(f"{session_url}/identity", json={"party": party, **PASSED}))
    tick(sifa, 300)
    for party in (0, 1):
        await ok(await kiosk.post(f"{session_url}/warning-ack", json={"party": party}))
        await ok(await kiosk.post(f"{session_url}/consent", json={"party": party}))
        answers = {"party": party, "agreed_freely": True, "understands": True}
        await ok(await judge.post(f"{session_url}/answers", json=answers))
    tick(sifa, 240)
    await ok(await judge.post(f"{session_url}/review", json=ALL_ABSENT))
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"}))
    await review_transcript(kiosk, case_id)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    tick(sifa, 60)
    for party in (0, 1):
        await ok(await sign_for(kiosk, case_id, party), 201)
    text, served_session = await scrape(anonymous)
    assert value(served_session, "sifa_ruling_issue_duration_seconds_count") == 1
    assert value(served_session, "sifa_ruling_issue_duration_seconds_sum") > 0
    steps = "sifa_session_step_duration_seconds_sum"
    assert value(served_session, steps, step="identity") == 120
    assert value(served_session, steps, step="inquiry") == 300
    assert value(served_session, steps, step="review") == 240
    assert value(served_session, steps, step="service") == 60
    whole = "sifa_session_duration_seconds"
    assert value(served_session, f"{whole}_count") == 1
    assert value(served_session, f"{whole}_sum") == 720
    assert value(served_session, f"{whole}_bucket", le="1200.0") == 1
    assert value(served_session, f"{whole}_bucket", le="600.0") == 0
    assert value(served_session, "sifa_sessions_over_target_total") == 0

    # No personal data in any label: names, ID numbers, the case number, tokens.
    labels = " ".join(label_values(served_session))
    secrets_seen = [
        *NAMES,
        *ID_NUMBERS,
        *(n[i : i + 6] for n in ID_NUMBERS for i in range(len(n) - 5)),
        case["case_number"],
        judge_door["token"],
        kiosk_door["token"],
        issued["verify_url"].rsplit("/", 1)[-1],
        judge.session.headers["Authorization"][7:],
    ]
    assert [s for s in secrets_seen if s in labels] == []
    assert [s for s in (*NAMES, *ID_NUMBERS) if s in text] == []


async def test_access_only_from_configured_networks_or_with_the_token(
    prepared: Path, tmp_path: Path
) -> None:
    sifa, server = await serve(
        prepared,
        tmp_path,
        SIFA_METRICS_ADDRESSES="192.0.2.0/24",
        SIFA_METRICS_TOKEN=TOKEN,
        SIFA_TRUSTED_PROXIES="127.0.0.1",
    )
    try:
        client = await sifa.make_client(sifa.app)
        refused = await client.get("/metrics")
        assert refused.status == 403
        body = await refused.text()
        assert body.startswith("指标仅对") and "Metrics are open only" in body
        for token in ("wrong-token-0123456789", TOKEN + "x", ""):
            response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert response.status == 403, token
        assert (await client.get("/metrics", headers={"Authorization": TOKEN})).status == 403
        good = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status == 200 and "sifa_http_requests_total" in await good.text()
        # The peer 127.0.0.1 is a trusted proxy here: its client's address decides.
        inside = await client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"})
        assert inside.status == 200
        outside = await client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
        assert outside.status == 403
    finally:
        await server.close()

    # Without trusted proxies X-Forwarded-For proves nothing; loopback is the default network.
    sifa, server = await serve(prepared, tmp_path / "second", SIFA_METRICS_ADDRESSES="192.0.2.0/24")
    try:
        client = await sifa.make_client(sifa.app)
        forged = await client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.7"})
        assert forged.status == 403
        # No token configured: a bearer opens nothing.
        assert (await client.get("/metrics", headers={"Authorization": "Bearer "})).status == 403
    finally:
        await server.close()
    sifa, server = await serve(prepared, tmp_path / "third")
    try:
        client = await sifa.make_client(sifa.app)
        assert (await client.get("/metrics")).status == 200
    finally:
        await server.close()


def test_sample_application_is_the_one_checked() -> None:
    # The personal data looked for above is the demo's: if the demo changes, so must this.
    parties = sample_application(dt.date(2026, 1, 1))["applicants"]
    assert tuple(p["name"] for p in parties) == NAMES
    assert tuple(p["id_number"] for p in parties) == ID_NUMBERS
