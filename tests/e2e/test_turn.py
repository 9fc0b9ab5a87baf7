"""TURN that really relays: a real coturn from deploy/turnserver.conf, Sifa's REST credentials,
and SIFA_ICE_TRANSPORT_POLICY=relay carried to Chromium and to the server's recorder."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection
from turn_support import TURNSERVER, Coturn, Refused, allocate

from app.main import create_app, utc_now
from app.recording.ice import rtc_configuration
from app.recording.peer import RECORDER_ID
from app.recording.service import RECORDINGS_KEY
from signaling.ice import IceSettings, turn_credentials

from e2e.session_helpers import (
    api_headers,
    assert_video_plays,
    base_of,
    judge_admits,
    kiosk_consents,
    kiosk_into_lobby,
    login,
    record_answers,
    verify_identities,
)
from e2e.test_ruling_pages import booked_case
from e2e.test_session_flow import issue_and_serve, review_all_absent
from integration.conftest import make_settings, prepare
from realdeps import require

RELAY_PORTS = range(49152, 65536)  # min-port..max-port of deploy/turnserver.conf


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    """One turnserver for the module: every test adds its own usernames to its log."""
    require(os.path.exists(TURNSERVER), "coturn (Debian package coturn) at /usr/bin/turnserver")
    server = Coturn(tmp_path_factory.mktemp("coturn")).start()
    yield server
    server.stop()


def relay_env(coturn: Coturn) -> dict[str, str]:
    return {
        "SIFA_TURN_URLS": coturn.url,
        "SIFA_TURN_SECRET": coturn.secret,
        "SIFA_ICE_TRANSPORT_POLICY": "relay",
    }


@pytest.fixture
async def relay_server(coturn: Coturn, tmp_path: Path) -> AsyncIterator[TestServer]:
    """The whole app (recorder included) on a real clock, configured for relay-only ICE."""
    settings = make_settings(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}", **relay_env(coturn)
    )
    await prepare(settings, utc_now())
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    server.certs_dir = settings.certs_dir  # type: ignore[attr-defined]
    yield server
    await server.close()


# -- credentials -------------------------------------------------------------------------


async def test_coturn_allocates_only_for_valid_sifa_credentials(coturn: Coturn) -> None:
    now = int(time.time())
    username, password = coturn.credentials("kiosk-7", now + 600)
    host, port = await allocate(coturn.address, username, password)
    assert host == "127.0.0.1" and port in RELAY_PORTS

    expired = coturn.credentials("kiosk-7", now - 60)
    forged = turn_credentials(b"not the court's secret", "kiosk-7", now + 600)
    # A valid password with the expiry pushed later in the username: the HMAC no longer fits.
    stretched = (f"{now + 86_400}:kiosk-7", password)
    for name, (user, secret) in {
        "expired": expired,
        "forged": forged,
        "stretched": stretched,
    }.items():
        with pytest.raises(Refused) as refused:
            await allocate(coturn.address, user, secret)
        assert refused.value.code == 401, (name, refused.value)
    log = coturn.log()
    assert f"username=<{username}>" in log and "ALLOCATE processed, success" in log
    for user, _ in (expired, forged, stretched):
        assert f"user <{user}>: incoming packet message processed, error 401" in log, user


# -- the recorder ---------------------------------------------------------------------------


async def test_recorder_offers_only_relay_candidates(coturn: Coturn) -> None:
    ice = IceSettings(
        turn_urls=(coturn.url,), turn_secret=coturn.secret.encode(), transport_policy="relay"
    )
    pc = RTCPeerConnection(rtc_configuration(ice, time.time()))
    try:
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        candidates = re.findall(r"a=candidate:(.*)", pc.localDescription.sdp)
    finally:
        await pc.close()
    assert candidates, pc.localDescription.sdp
    for line in candidates:
        fields = line.split()
        assert fields[6:8] == ["typ", "relay"], line
        assert fields[4] == "127.0.0.1" and int(fields[5]) in RELAY_PORTS, line
        # RFC 9429: relay-only hides the host address behind the relayed candidate.
        assert fields[8:12] == ["raddr", "0.0.0.0", "rport", "9"], line


# -- a whole session through the relay --------------------------------------------------

SELECTED_PAIRS = """async () => {
  const out = [];
  for (const [id, peer] of window.sifaCall.peers) {
    const report = await peer.pc.getStats();
    let pair = null;
    report.forEach((s) => {
      const id = s.type === "transport" && s.selectedCandidatePairId;
      if (id) pair = report.get(id);
    });
    if (!pair) report.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
    });
    out.push(pair ? {
      id, policy: peer.pc.getConfiguration().iceTransportPolicy,
      local: report.get(pair.localCandidateId).candidateType,
      remote: report.get(pair.remoteCandidateId).candidateType,
      sent: pair.bytesSent, received: pair.bytesReceived,
    } : { id, policy: peer.pc.getConfiguration().iceTransportPolicy });
  }
  return out;
}"""


async def relay_pairs(page: Any, expected: set[str]) -> list[dict[str, Any]]:
    """The selected pair of every link of the page, once each of `expected` has one."""
    deadline = time.monotonic() + 15
    while True:
        pairs: list[dict[str, Any]] = await page.evaluate(SELECTED_PAIRS)
        if {p["id"] for p in pairs if "local" in p} >= expected or time.monotonic() > deadline:
            return pairs
        await asyncio.sleep(0.3)


async def recorder_captures(server: TestServer, case_id: int, who: set[str]) -> dict[str, Any]:
    """The recorder's captures of `who`, once each is connected and has video frames."""
    run = server.app[RECORDINGS_KEY].runs[case_id]
    deadline = time.monotonic() + 15
    while True:
        captures = {pid: run.peer.captures.get(pid) for pid in who}
        ready = all(c is not None and c.route and c.frames["video"] > 0 for c in captures.values())
        if ready or time.monotonic() > deadline:
            return captures
        await asyncio.sleep(0.3)


@pytest.mark.browser
@pytest.mark.slow
async def test_session_through_coturn_relay_only(
    browser: Any, coturn: Coturn, relay_server: TestServer
) -> None:
    """Judge and kiosk in Chromium, relay-only: every link (to each other and to the recorder)
    runs relay to relay, the session ends in a served ruling, and coturn counted the media."""
    base = base_of(relay_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "turn")
    await judge_admits(judge, base, case_id, "turn")
    await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
    await assert_video_plays(kiosk, "#remote-video")

    judge_id = str(await judge.evaluate("window.sifaCall.me.id"))
    kiosk_id = str(await kiosk.evaluate("window.sifaCall.me.id"))
    for page, other in ((judge, kiosk_id), (kiosk, judge_id)):
        pairs = await relay_pairs(page, {other, RECORDER_ID})
        assert {p["id"] for p in pairs} == {other, RECORDER_ID}, pairs
        for pair in pairs:
            assert pair["policy"] == "relay", pairs
            assert (pair.get("local"), pair.get("remote")) == ("relay", "relay"), pairs
        # Media both ways between judge and kiosk over that pair.
        (link,) = [p for p in pairs if p["id"] == other]
        assert link["sent"] > 50_000 and link["received"] > 50_000, link

    captures = await recorder_captures(relay_server, case_id, {judge_id, kiosk_id})
    for pid, capture in captures.items():
        assert capture is not None, (pid, captures)
        assert capture.route == ("relay", "relay"), (pid, capture.route)
        assert capture.frames["video"] > 0 and capture.frames["audio"] > 0, (pid, capture.frames)

    await verify_identities(judge)
    await kiosk_consents(kiosk)
    await record_answers(judge)
    await review_all_absent(judge)
    await judge.click("#decide")
    await issue_and_serve(judge, kiosk, "turn", ("调解协议有效",))

    async with aiohttp.ClientSession() as s:
        headers = await api_headers(s, base, "judge")
        url = f"{base}/api/cases/{case_id}/recording"
        async with s.post(f"{url}/stop", json={}, headers=headers) as r:
            assert r.status in (200, 409), await r.text()
        async with s.get(url, headers=headers) as r:
            view = await r.json()
    segments = [seg for seg in view["segments"] if seg["state"] == "closed"]
    assert {seg["participant_id"] for seg in segments} >= {judge_id, kiosk_id}, view
    assert all(seg["has_video"] for seg in segments), view

    for page in (kiosk, judge):
        await page.context.close()
    # coturn logs what each allocation relayed when it is gone: the pages are closed and the
    # recorder stopped. Everyone received media through a relay; judge and kiosk also sent.
    wanted = {judge_id: (100_000, 100_000), kiosk_id: (100_000, 100_000), RECORDER_ID: (100_000, 0)}
    deadline = time.monotonic() + 20
    while True:
        relayed = {u.split(":", 1)[1]: v for u, v in coturn.peer_usage().items() if ":" in u}
        short = {
            pid: relayed.get(pid)
            for pid, (rb, sb) in wanted.items()
            if not (relayed.get(pid, (0, 0))[0] > rb and relayed.get(pid, (0, 0))[1] > sb)
        }
        if not short or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert not short, (short, relayed)
