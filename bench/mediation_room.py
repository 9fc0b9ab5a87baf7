"""Benchmark: the video mediation session's live paths, through the API and real sockets.

Run: .venv/bin/python -m bench.mediation_room [--runs 30]

The app runs in-process on 127.0.0.1 (SQLite, development PKI), one mediation in session: the
mediator hosts its room, the kiosk and a party's phone (its pass bought with a texted code) sit
in it, admitted. Timed:
- draft to screens: from the mediator's POST of a new draft until both the kiosk's and the
  phone's sockets have the "mediation" notice (what the issue asks to be under a second);
- a check: one POST of a party's check (identity, consent, …), notice to the room included;
- seal: the committee's seal, agreement and transcript each rendered and PAdES-signed (once per
  mediation, so fewer runs).
Prints median, p95 and throughput for each.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from app.services.demo import sample_application  # noqa: E402
from bench.session import Api, login, served_app  # noqa: E402
from signaling.room_keys import mediation_room  # noqa: E402

from integration.test_mediation_agreement_api import DRAFT, handwriting  # noqa: E402
from integration.test_mediation_api import dispute  # noqa: E402
from integration.test_mediation_filing import texted_code  # noqa: E402

PASS = "X-Mediation-Pass"


def report(name: str, times: list[float]) -> None:
    times = sorted(times)
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{name:<18} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"throughput {len(times) / sum(times):6.1f}/s   (n={len(times)})"
    )


class Socket:
    """One seat in the room: its notices, each with the moment it arrived."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.notices = ws, asyncio.Queue[float]()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = message.json()
            if data.get("type") == "mediation" and data.get("changed") == "agreement":
                self.notices.put_nowait(time.perf_counter())
            elif data.get("type") == "admitted":
                self.notices.put_nowait(-1.0)


async def seat(s: aiohttp.ClientSession, base: str, mid: int, headers: dict[str, str]) -> Any:
    async with s.post(f"{base}/api/mediations/{mid}/room-token", json={}, headers=headers) as r:
        door = await r.json()
    ws = await s.ws_connect(door["ws_url"])
    await ws.send_json(
        {"type": "join", "v": 1, "case_id": mediation_room(mid), "token": door["token"]}
    )
    welcome = await ws.receive_json()
    assert welcome["type"] == "welcome", welcome
    return ws, door["participant_id"]


async def in_session(s: aiohttp.ClientSession, base: str, server: TestServer) -> dict[str, Any]:
    mediator = await login(s, base, "mediator")
    kiosk = await login(s, base, "kiosk1")
    today = dt.date.today()
    mid = int((await mediator.call("POST", "/api/mediations", dispute(today), 201))["id"])
    me = (await mediator.call("GET", "/api/me"))["id"]
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    for step, body in (
        ("accept", {"mediator_id": me}),
        ("schedule", {"scheduled_at": at}),
        ("start", {}),
    ):
        await mediator.call("POST", f"/api/mediations/{mid}/{step}", body)
    await mediator.call("POST", f"/api/mediations/{mid}/join-code", {"party": 1}, 202)
    phone_number = sample_application(today)["applicants"][1]["phone"]
    code = await texted_code(server, phone_number)
    joined = await mediator.call("POST", f"/api/mediations/{mid}/join", {"party": 1, "code": code})
    phone = Api(s, base, {PASS: joined["pass"]})
    host_ws, _ = await seat(s, base, mid, mediator.headers)
    sockets = []
    for who in (kiosk, phone):
        ws, pid = await seat(s, base, mid, who.headers)
        sockets.append(Socket(ws))
        await host_ws.send_json({"type": "admit", "participant": pid})
        assert await sockets[-1].notices.get() == -1.0  # admitted
    return {
        "id": mid,
        "mediator": mediator,
        "kiosk": kiosk,
        "phone": phone,
        "sockets": sockets,
        "host": host_ws,
    }


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


async def run(runs: int) -> None:
    async with served_app() as server, aiohttp.ClientSession() as s:
        base = str(server.make_url("")).rstrip("/")
        room = await in_session(s, base, server)
        mid, mediator = room["id"], room["mediator"]
        one = f"/api/mediations/{mid}"

        reached: list[float] = []
        for version in range(runs):
            started = time.perf_counter()
            await mediator.call(
                "POST", f"{one}/agreement/draft", {**DRAFT, "base_version": version}
            )
            arrivals = [await asyncio.wait_for(sock.notices.get(), 5) for sock in room["sockets"]]
            reached.append(max(arrivals) - started)
        report("draft to screens", reached)

        checks: list[float] = []
        for party in (0, 1):
            who = room["kiosk"] if party == 0 else room["phone"]
            checks.append(
                await timed(
                    lambda p=party: mediator.call(
                        "POST", f"{one}/checks", {"party": p, "check": "identity"}, 201
                    )
                )
            )
            for check in ("consent", "rights", "sham_warning"):
                checks.append(
                    await timed(
                        lambda w=who, p=party, c=check: w.call(
                            "POST", f"{one}/checks", {"party": p, "check": c}, 201
                        )
                    )
                )
        report("one check", checks)

        digest = (await mediator.call("POST", f"{one}/agreement/freeze", {"version": runs}))[
            "digest"
        ]
        for party, who in ((0, room["kiosk"]), (1, room["phone"])):
            body = {
                "party": party,
                "digest": digest,
                "signature": handwriting(party),
                "apply_for_confirmation": True,
            }
            if party == 0:
                await who.call("POST", f"{one}/agreement/sign-code", {"party": 0}, 202)
                body["code"] = await texted_code(
                    server, sample_application(dt.date.today())["applicants"][0]["phone"]
                )
            await who.call("POST", f"{one}/agreement/party-signatures", body, 201)
        mine = {"digest": digest, "signature": handwriting(9)}
        await mediator.call("POST", f"{one}/agreement/mediator-signature", mine, 201)
        sealing = await timed(lambda: mediator.call("POST", f"{one}/agreement/seal", {}, 201))
        report("seal (2 PDFs)", [sealing])
        for sock in room["sockets"]:
            sock.task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
