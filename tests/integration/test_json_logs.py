"""A real `sifa serve` with SIFA_LOG_FORMAT=json, taken through a whole confirmation session
(API, signaling and media with aiortc peers, the server's recorder, the ruling and its
service): every line of its log is one JSON object, requests carry their ids, and nothing
personal or secret is in it."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aioice.ice
import pytest
from cluster.cluster_support import Installation, free_port, sifa_command

from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from integration.conftest import _shared_pki
from integration.ruling_flow import (
    ALL_ABSENT,
    PASSED,
    ok,
    review_transcript,
    scheduled_case,
    sign_for,
)
from integration.test_metrics import ID_NUMBERS, NAMES
from signaling_helpers import MediaPeer

pytestmark = pytest.mark.slow

PASSWORD = "Demo-Pw-" + secrets.token_hex(6)
WRONG_PASSWORD = "Wrong-Pw-" + secrets.token_hex(6)
OUR_REQUEST_ID = "test-request-0001"


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice leaves out 127.0.0.1; on loopback-only tests that leaves no candidate at all.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@dataclass
class Served:
    url: str
    stderr: Path
    stdout: Path
    popen: subprocess.Popen[bytes]

    def stop(self) -> int:
        # SIGINT: aiohttp's own graceful exit. (SIGTERM's drain prints its notice to stderr.)
        self.popen.send_signal(signal.SIGINT)
        return self.popen.wait(timeout=30)

    def lines(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    shutil.copytree(_shared_pki(), tmp_path / "certs")
    env = {
        **Installation.environment(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}"),
        "SIFA_DEMO_PASSWORD": PASSWORD,
        "SIFA_PORT": str(port),
        "SIFA_RECORDER_ADDRESSES": "127.0.0.1",
        "SIFA_LOG_FORMAT": "json",
    }
    for command in ("init", "demo"):
        done = subprocess.run(
            [*sifa_command(), command], env=env, cwd=tmp_path, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr.decode()
    stderr, stdout = tmp_path / "serve.err", tmp_path / "serve.out"
    with stderr.open("wb") as err, stdout.open("wb") as out:
        popen = subprocess.Popen(
            [*sifa_command(), "serve"], env=env, cwd=tmp_path, stdout=out, stderr=err
        )
    running = Served(f"http://127.0.0.1:{port}", stderr, stdout, popen)
    try:
        wait_until_up(running)
        yield running
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait()


def wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert served.popen.poll() is None, served.stderr.read_text()
        try:
            with urllib.request.urlopen(served.url + "/login", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise AssertionError(f"sifa serve did not answer\n{served.stderr.read_text()}")


@pytest.fixture
async def http() -> AsyncIterator[list[aiohttp.ClientSession]]:
    sessions: list[aiohttp.ClientSession] = []
    yield sessions
    for session in sessions:
        await session.close()


async def test_a_whole_session_logs_json_with_ids_and_nothing_personal(
    served: Served, http: list[aiohttp.ClientSession]
) -> None:
    bearers: list[str] = []

    async def as_user(username: str) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(base_url=served.url)
        http.append(session)
        login = {"username": username, "password": PASSWORD}
        token = (await ok(await session.post("/api/login", json=login)))["token"]
        bearers.append(token)
        session.cookie_jar.clear()
        session.headers["Authorization"] = f"Bearer {token}"
        return session

    mediator, clerk = await as_user("mediator"), await as_user("clerk")
    judge, kiosk = await as_user("judge"), await as_user("kiosk1")
    # A failed login, a browser's login (a session cookie), a search by a party's name.
    browser = aiohttp.ClientSession(base_url=served.url)
    http.append(browser)
    wrong = await browser.post("/api/login", json={"username": "judge", "password": WRONG_PASSWORD})
    assert wrong.status == 401
    form = {"username": "judge", "password": PASSWORD}
    logged_in = await browser.post("/login", data=form, allow_redirects=False)
    assert logged_in.status == 303
    cookie = logged_in.cookies["sifa_session"].value
    page = await browser.get("/docket", cookies={"sifa_session": cookie})
    assert page.status == 200

    case_id = await scheduled_case(mediator, clerk, application=sample_application(today()))
    ours = await clerk.get(f"/api/cases/{case_id}", headers={"X-Request-Id": OUR_REQUEST_ID})
    case = await ok(ours)
    assert ours.headers["X-Request-Id"] == OUR_REQUEST_ID
    forged = await clerk.get("/api/cases", headers={"X-Request-Id": "bad id\u00e9{}"})
    generated = forged.headers["X-Request-Id"]
    assert generated != "bad id\u00e9{}" and len(generated) >= 8
    await ok(await clerk.get("/api/rulings", params={"party": NAMES[0]}))

    # The hearing: open (the recorder starts), judge and kiosk meet with media.
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    judge_door = await ok(await judge.post(f"/api/cases/{case_id}/room-token"))
    kiosk_door = await ok(await kiosk.post(f"/api/cases/{case_id}/room-token"))
    ws_url = served.url.replace("http://", "ws://") + "/ws"
    async with aiohttp.ClientSession() as session:
        judge_peer = MediaPeer(session, ws_url, judge_door["participant_id"])
        kiosk_peer = MediaPeer(session, ws_url, kiosk_door["participant_id"])
        try:
            await judge_peer.join(judge_door["token"], case_id)
            await judge_peer.admits(kiosk_peer, kiosk_door["token"])
            await judge_peer.wait_frames(kiosk_peer.id, video=10, audio=10, within=20)
            await kiosk_peer.wait_frames(judge_peer.id, video=10, audio=10, within=20)
            resume_tokens = [judge_peer.resume_token, kiosk_peer.resume_token]

            session_url = f"/api/cases/{case_id}/session"
            checks = {"camera": True, "microphone": True, "network": True}
            await ok(await kiosk.post(f"{session_url}/check-in", json=checks))
            await ok(await judge.post(f"{session_url}/admit", json={}))
            for party in (0, 1):
                body = {"party": party, **PASSED}
                await ok(await judge.post(f"{session_url}/identity", json=body))
                await ok(await kiosk.post(f"{session_url}/warning-ack", json={"party": party}))
                await ok(await kiosk.post(f"{session_url}/consent", json={"party": party}))
                answers = {"party": party, "agreed_freely": True, "understands": True}
                await ok(await judge.post(f"{session_url}/answers", json=answers))
            await ok(await judge.post(f"{session_url}/review", json=ALL_ABSENT))
            decision = {"decision": "confirm"}
            await ok(await judge.post(f"/api/cases/{case_id}/decision", json=decision))
            await review_transcript(kiosk, case_id)
            issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
            for party in (0, 1):
                await ok(await sign_for(kiosk, case_id, party), 201)
        finally:
            for peer in (kiosk_peer, judge_peer):
                if peer.client.ws is not None and not peer.client.ws.closed:
                    await peer.client.send({"type": "leave"})
                await peer.close()
    verify_token = issued["verify_url"].rstrip("/").rsplit("/", 1)[-1]
    public = aiohttp.ClientSession(base_url=served.url)
    http.append(public)
    assert (await public.get(f"/verify/{verify_token}")).status == 200
    assert (await ok(await clerk.get(f"/api/cases/{case_id}")))["state"] == "served"

    assert served.stop() == 0, served.lines()[-20:]
    lines = served.lines()
    records = [parse(line) for line in lines]

    # Request lines: each has its request id, and the case id on the case's routes.
    access = [r for r in records if r["logger"] == "aiohttp.access"]
    assert len(access) > 30
    assert all(r.get("request_id") for r in access)
    on_case = [r for r in access if "{case_id}" in r["route"]]
    assert on_case and all(r.get("case_id") == int(r["path"].split("/")[3]) for r in on_case)
    assert any(
        r["request_id"] == OUR_REQUEST_ID and r["route"] == "/api/cases/{case_id}" for r in access
    )
    assert any(r["request_id"] == generated for r in access)
    assert all("?" not in r["path"] for r in access)
    ws = [r for r in access if r["route"] == "/ws"]
    assert ws and all(r["status"] == 101 for r in ws)
    # The recorder's own work carries its case: its capture connected to both participants.
    recorder = [r for r in records if r["logger"] == "app.recording.peer"]
    assert recorder and all(r.get("case_id") == case_id for r in recorder), recorder

    # Nothing personal or secret anywhere in the log.
    text = "\n".join(lines)
    forbidden = {
        "name": list(NAMES),
        "ID number": [*ID_NUMBERS, *(n[i : i + 6] for n in ID_NUMBERS for i in range(13))],
        "phone": ["13800000001", "13800000002"],
        "password": [PASSWORD, WRONG_PASSWORD, '"demo"'],
        "bearer": bearers,
        "cookie": [cookie],
        "room token": [judge_door["token"], kiosk_door["token"]],
        "resume token": [t for t in resume_tokens if t],
        "verification token": [verify_token],
        "case number": [case["case_number"]],
    }
    found = {kind: [s for s in values if s in text] for kind, values in forbidden.items()}
    assert {kind: hits for kind, hits in found.items() if hits} == {}


def parse(line: str) -> dict[str, Any]:
    record = json.loads(line)
    assert isinstance(record, dict), line
    assert {"time", "level", "logger", "message"} <= record.keys(), line
    dt.datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return record


def today() -> dt.date:
    return dt.datetime.now(COURT_TZ).date()
