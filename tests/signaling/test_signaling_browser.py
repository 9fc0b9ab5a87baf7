"""Headless Chromium running app/static/call.js, through the server, to an aiortc peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from realdeps import CHROMIUM, CHROMIUM_ARGS, require
from signaling_helpers import CASE, JUDGE_ID, MediaPeer, StackFactory, token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>call.js test</title>
<video id="remote" autoplay playsinline muted></video>
<script type="module">
import { SifaCall } from "/static/call.js";
const q = new URLSearchParams(location.search);
const call = new SifaCall({
  wsUrl: `ws://${location.host}/ws`,
  caseId: Number(q.get("case")),
  token: q.get("token"),
  iceServers: [],
  statsIntervalMs: 500,
});
window.call = call;
window.events = [];
for (const type of ["state", "welcome", "lobby", "admitted", "presence", "track",
                    "peerstate", "stats", "error", "ended"]) {
  call.addEventListener(type, (e) => {
    const d = e.detail;
    window.events.push([type, type === "track" ? d.track.kind : JSON.stringify(d)]);
  });
}
// The judge page of this test lets everyone in at once.
call.addEventListener("lobby", (e) => {
  if (!e.detail.self) for (const p of e.detail.waiting) call.admit(p.id);
});
call.addEventListener("track", (e) => {
  const video = document.getElementById("remote");
  if (e.detail.track.kind === "video") video.srcObject = e.detail.stream;
});
await call.start();
</script>
"""


def chromium_or_skip() -> None:
    require(Path(CHROMIUM).exists(), f"Debian's chromium at {CHROMIUM}")


def with_page(app: web.Application) -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app.router.add_get("/call-test.html", page)
    app.router.add_static("/static", STATIC)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


async def test_chromium_judge_and_aiortc_kiosk_exchange_video(
    make_stack: StackFactory, browser: Any
) -> None:
    stack = await make_stack(extra=with_page)
    page = await browser.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    judge_token = token(JUDGE_ID, "judge")
    await page.goto(f"{stack.origin}/call-test.html?case={CASE}&token={judge_token}")
    await page.wait_for_function(
        "() => window.call && window.call.state === 'admitted'", timeout=10_000
    )

    async with aiohttp.ClientSession() as session:
        # aiortc cannot restart ICE or roll back: it lets the browser offer.
        kiosk = MediaPeer(session, stack.ws_url, "kiosk-1", offer_on_admit=False)
        try:
            welcome = await kiosk.join(token("kiosk-1", "kiosk"), CASE)
            assert welcome["you"]["admitted"] is False
            await kiosk.client.expect("admitted", within=10)  # the page admitted us

            got = await kiosk.wait_frames(JUDGE_ID, video=30, audio=30, within=20)
            assert got["video"] >= 30

            await page.wait_for_function(
                "() => { const v = document.getElementById('remote');"
                " return v.videoWidth > 0 && v.currentTime > 0.5; }",
                timeout=15_000,
            )
            first = await page.evaluate("document.getElementById('remote').currentTime")
            await asyncio.sleep(1.0)
            later = await page.evaluate("document.getElementById('remote').currentTime")
            width = await page.evaluate("document.getElementById('remote').videoWidth")
            assert later > first + 0.5 and width == 160

            # The page reports getStats figures; the room keeps the latest.
            for _ in range(40):
                snapshot = stack.signaling.snapshot(CASE)
                if snapshot and JUDGE_ID in snapshot["quality"]:  # type: ignore[operator]
                    break
                await asyncio.sleep(0.1)
            assert snapshot is not None and snapshot["quality"][JUDGE_ID] == "ok"  # type: ignore[index]
            events = [e[0] for e in await page.evaluate("window.events")]
            assert {"welcome", "lobby", "presence", "track", "stats"} <= set(events)
            assert "error" not in events, await page.evaluate("window.events")
        finally:
            await kiosk.close()
    assert not page_errors
    await page.close()
    await stack.signaling.audit_flushed()
    assert ("admit", "kiosk-1") in stack.authority.actions(CASE)


UFRAG = (
    "(id) => (window.call.peers.get(id)?.pc.localDescription?.sdp"
    ".match(/a=ice-ufrag:(\\S+)/) || [])[1]"
)
PLAYING = (
    "() => { const v = document.getElementById('remote');"
    " return v.videoWidth > 0 && v.currentTime > 0.5; }"
)


async def test_two_browsers_negotiate_and_resume_with_ice_restart(
    make_stack: StackFactory, browser: Any
) -> None:
    stack = await make_stack(extra=with_page)
    judge, party = await browser.new_page(), await browser.new_page()
    await judge.goto(f"{stack.origin}/call-test.html?case={CASE}&token={token(JUDGE_ID, 'judge')}")
    await judge.wait_for_function("() => window.call && window.call.state === 'admitted'")
    # Both sides offer the moment the party is admitted: perfect negotiation settles it.
    await party.goto(f"{stack.origin}/call-test.html?case={CASE}&token={token('party-1', 'party')}")
    for page in (judge, party):
        await page.wait_for_function(PLAYING, timeout=15_000)

    before = await party.evaluate(UFRAG, JUDGE_ID)
    assert before
    await party.evaluate("window.call.ws.close()")  # the socket drops, the media does not
    await party.wait_for_function(
        "() => window.events.some(([t, d]) => t === 'state' && d.includes('reconnecting'))"
    )
    await party.wait_for_function("() => window.call.state === 'admitted'", timeout=10_000)
    await party.wait_for_function(f"() => ({UFRAG})('{JUDGE_ID}') !== '{before}'", timeout=10_000)
    for page in (judge, party):
        t0 = await page.evaluate("document.getElementById('remote').currentTime")
        await page.wait_for_function(
            f"() => document.getElementById('remote').currentTime > {t0} + 0.5", timeout=10_000
        )
        states = await page.evaluate(
            "[...window.call.peers.values()].map((p) => p.pc.connectionState)"
        )
        assert states == ["connected"]
        errors = [e for e in await page.evaluate("window.events") if e[0] == "error"]
        assert not errors
    judge_presence = [e[1] for e in await judge.evaluate("window.events") if e[0] == "presence"]
    assert any('"dropped"' in p for p in judge_presence)
    assert any('"resumed"' in p for p in judge_presence)
    await stack.signaling.audit_flushed()
    actions = stack.authority.actions(CASE)
    assert ("drop", "party-1") in actions and ("resume", "party-1") in actions


async def test_two_browsers_offering_at_once_settle(make_stack: StackFactory, browser: Any) -> None:
    stack = await make_stack(extra=with_page)
    judge, party = await browser.new_page(), await browser.new_page()
    await judge.goto(f"{stack.origin}/call-test.html?case={CASE}&token={token(JUDGE_ID, 'judge')}")
    await judge.wait_for_function("() => window.call && window.call.state === 'admitted'")
    await party.goto(f"{stack.origin}/call-test.html?case={CASE}&token={token('party-1', 'party')}")
    for page in (judge, party):
        await page.wait_for_function(PLAYING, timeout=15_000)
    before = {
        JUDGE_ID: await judge.evaluate(UFRAG, "party-1"),
        "party-1": await party.evaluate(UFRAG, JUDGE_ID),
    }
    # Both restart ICE in the same instant: two offers cross, the polite side yields.
    await asyncio.gather(
        judge.evaluate("window.call.peers.get('party-1').restartIce()"),
        party.evaluate(f"window.call.peers.get('{JUDGE_ID}').restartIce()"),
    )
    await judge.wait_for_function(
        f"() => ({UFRAG})('party-1') !== '{before[JUDGE_ID]}'", timeout=10_000
    )
    await party.wait_for_function(
        f"() => ({UFRAG})('{JUDGE_ID}') !== '{before['party-1']}'", timeout=10_000
    )
    for page in (judge, party):
        t0 = await page.evaluate("document.getElementById('remote').currentTime")
        await page.wait_for_function(
            f"() => document.getElementById('remote').currentTime > {t0} + 0.5", timeout=10_000
        )
        await page.wait_for_function(
            "() => [...window.call.peers.values()].every("
            "(p) => p.pc.connectionState === 'connected' && p.pc.signalingState === 'stable')",
            timeout=10_000,
        )
        errors = [e for e in await page.evaluate("window.events") if e[0] == "error"]
        assert not errors
    # The judge ("judge-7" < "party-1") is polite: only the party may have ignored an offer.
    assert await judge.evaluate("window.call.peers.get('party-1').counts.ignored") == 0
