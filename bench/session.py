"""Benchmark: the machine time of a whole confirmation session, driven through the API.

Run: .venv/bin/python -m bench.session [--runs 10]

The app runs in-process on 127.0.0.1 (SQLite, development PKI). Per run a case is filed,
accepted and scheduled (not timed); then, timed: the kiosk checks in, the judge opens the
session, judge and kiosk join the room as aiortc peers over /ws and the judge admits the kiosk
until media flows both ways, identities, warnings, consents and answers are recorded, the
review and the decision, the ruling is rendered, signed and issued, both parties sign for it.
Prints median and p95 per step and for the whole, in milliseconds: what the platform costs,
not the people (a real session is about 20 minutes of talk).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "signaling")]

import aiohttp  # noqa: E402
import aioice.ice  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from app.domain.clock import COURT_TZ  # noqa: E402
from app.domain.grounds import RejectGround  # noqa: E402
from app.main import create_app, utc_now  # noqa: E402
from app.services.demo import sample_application  # noqa: E402

from integration.conftest import make_settings, prepare  # noqa: E402
from integration.ruling_flow import small_pdf  # noqa: E402
from signaling_helpers import MediaPeer  # noqa: E402

STEPS = (
    "check_in",
    "open_session",
    "room_media",
    "identity",
    "inquiry",
    "review_decision",
    "transcript",
    "issue",
    "service",
)


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str, headers: dict[str, str]):
        self.session, self.base, self.headers = session, base, headers

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        async with self.session.request(
            method, f"{self.base}{path}", json=body, headers=self.headers
        ) as r:
            if r.status not in (status, 201, 200):
                raise RuntimeError(f"{method} {path}: {r.status} {await r.text()}")
            return await r.json()


async def login(session: aiohttp.ClientSession, base: str, username: str) -> Api:
    async with session.post(
        f"{base}/api/login", json={"username": username, "password": "demo"}
    ) as r:
        token = (await r.json())["token"]
    return Api(session, base, {"Authorization": f"Bearer {token}"})


@asynccontextmanager
async def served_app() -> AsyncIterator[TestServer]:
    """The app with demo data, in-process on 127.0.0.1 (SQLite, development PKI)."""
    # aioice leaves out 127.0.0.1: on a loopback-only benchmark there is no candidate else.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    with tempfile.TemporaryDirectory(prefix="sifa-bench-") as tmp:
        folder = Path(tmp)
        settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'sifa.db'}")
        await prepare(settings, utc_now())
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        try:
            yield server
        finally:
            await server.close()


@asynccontextmanager
async def served() -> AsyncIterator[str]:
    async with served_app() as server:
        yield str(server.make_url("")).rstrip("/")


async def booked(s: aiohttp.ClientSession, base: str, mediator: Api, clerk: Api) -> int:
    payload = sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = int((await mediator.call("POST", "/api/cases", payload, 201))["id"])
    form = aiohttp.FormData()
    form.add_field("category", "agreement")
    form.add_field("file", small_pdf(), filename="a.pdf", content_type="application/pdf")
    async with s.post(
        f"{base}/api/cases/{case_id}/materials", data=form, headers=mediator.headers
    ) as r:
        assert r.status == 201, await r.text()
    await mediator.call("POST", f"/api/cases/{case_id}/submit", {})
    people = await clerk.call("GET", "/api/court/people")
    await clerk.call(
        "POST", f"/api/cases/{case_id}/accept", {"judge_id": people["judges"][0]["id"]}
    )
    when = dt.datetime.now(COURT_TZ) + dt.timedelta(hours=1)
    await clerk.call(
        "POST",
        f"/api/cases/{case_id}/schedule",
        {"room_id": people["rooms"][0]["id"], "scheduled_at": when.isoformat()},
    )
    return case_id


async def one_session(
    s: aiohttp.ClientSession, base: str, judge: Api, kiosk: Api, case_id: int
) -> dict[str, float]:
    times: dict[str, float] = {}
    session = f"/api/cases/{case_id}/session"
    mark = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        times[step] = (now - mark) * 1000
        mark = now

    await kiosk.call(
        "POST", f"{session}/check-in", {"camera": True, "microphone": True, "network": True}
    )
    lap("check_in")
    await judge.call("POST", f"/api/cases/{case_id}/open-session", {})
    lap("open_session")
    judge_door = await judge.call("POST", f"/api/cases/{case_id}/room-token", {})
    kiosk_door = await kiosk.call("POST", f"/api/cases/{case_id}/room-token", {})
    ws_url = judge_door["ws_url"]
    judge_peer = MediaPeer(s, ws_url, judge_door["participant_id"], offer_on_admit=False)
    kiosk_peer = MediaPeer(s, ws_url, kiosk_door["participant_id"])
    try:
        await judge_peer.join(judge_door["token"], case_id)
        await kiosk_peer.join(kiosk_door["token"], case_id)
        await judge_peer.client.expect("presence", event="joined", within=5)
        await judge_peer.client.send({"type": "admit", "participant": kiosk_peer.id})
        await judge.call("POST", f"{session}/admit", {})
        await kiosk_peer.client.expect("admitted")
        await judge_peer.wait_frames(kiosk_peer.id, video=1, audio=1, within=20)
        await kiosk_peer.wait_frames(judge_peer.id, video=1, audio=1, within=20)
        # As call.js does every 5 s: the media evidence the records need (presence). A ping
        # after it comes back once the server has taken the report.
        for peer in (judge_peer, kiosk_peer):
            stats = {"type": "stats", "packet_loss": 0.0, "rtt_ms": 20, "bitrate_kbps": 800}
            await peer.client.send(stats)
            await peer.client.send({"type": "ping"})
            await peer.client.expect("pong", within=5)
        lap("room_media")
        for party in (0, 1):
            await judge.call(
                "POST",
                f"{session}/identity",
                {"party": party, "method": "id_card_camera", "result": "passed"},
            )
        lap("identity")
        for party in (0, 1):
            await kiosk.call("POST", f"{session}/warning-ack", {"party": party})
            await kiosk.call("POST", f"{session}/consent", {"party": party})
            await judge.call(
                "POST",
                f"{session}/answers",
                {"party": party, "agreed_freely": True, "understands": True},
            )
        lap("inquiry")
        await judge.call(
            "POST",
            f"{session}/review",
            {"items": {g.value: {"present": False} for g in RejectGround}},
        )
        await judge.call("POST", f"/api/cases/{case_id}/decision", {"decision": "confirm"})
        lap("review_decision")
        # Each party reads the transcript at the kiosk and confirms it.
        draft = await kiosk.call("GET", f"/api/cases/{case_id}/transcript/draft")
        for party in (0, 1):
            confirm = {"party": party, "draft_sha256": draft["sha256"]}
            await kiosk.call("POST", f"/api/cases/{case_id}/transcript/confirm", confirm)
        lap("transcript")
        await judge.call("POST", f"/api/cases/{case_id}/ruling", {}, 201)
        lap("issue")
        for party in (0, 1):
            # Two taps: yes to electronic service, then the receipt.
            choice = {"party": party, "electronic": True}
            await kiosk.call("POST", f"/api/cases/{case_id}/service/choice", choice)
            await kiosk.call("POST", f"/api/cases/{case_id}/receipts", {"party": party}, 201)
        state = await kiosk.call("GET", session)
        assert state["step"] == "closed", state["step"]
        lap("service")
    finally:
        await kiosk_peer.close()
        await judge_peer.close()
    times["total"] = sum(times[k] for k in STEPS)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered) + 0.5) - 1)]


async def main(runs: int) -> None:
    async with served() as base, aiohttp.ClientSession() as s:
        mediator, clerk = await login(s, base, "mediator"), await login(s, base, "clerk")
        judge, kiosk = await login(s, base, "judge"), await login(s, base, "kiosk1")
        results = []
        for _ in range(runs + 1):  # the first run warms fonts, keys and codecs: not counted
            case_id = await booked(s, base, mediator, clerk)
            results.append(await one_session(s, base, judge, kiosk, case_id))
        results = results[1:]
    print(f"session flow through the API, aiortc peers, {runs} runs (+1 warm-up), ms")
    print(f"{'step':<16}{'median':>10}{'p95':>10}")
    for step in (*STEPS, "total"):
        values = [r[step] for r in results]
        print(f"{step:<16}{statistics.median(values):>10.1f}{p95(values):>10.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
