"""Chromium joins through call.js, the server records it, and Chromium plays the file back."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from recording.conftest import serve
from recording.test_recording_media import open_room

from integration.ruling_flow import ok
from realdeps import CHROMIUM, CHROMIUM_ARGS, require

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>recorded call</title>
<script type="module">
import { SifaCall } from "/static/call.js";
const q = new URLSearchParams(location.search);
const call = new SifaCall({
  wsUrl: `ws://${location.host}/ws`, caseId: Number(q.get("case")), token: q.get("token"),
  iceServers: [],
});
window.call = call;
window.recording = [];
window.errors = [];
call.addEventListener("recording", (e) => window.recording.push(e.detail.state));
call.addEventListener("error", (e) => window.errors.push(JSON.stringify(e.detail)));
await call.start();
</script>
"""


def with_page(app: web.Application) -> None:
    async def page(_: web.Request) -> web.Response:
        return web.Response(
            text=PAGE,
            content_type="text/html",
            # The app's policy forbids inline scripts; this test page needs one.
            headers={"Content-Security-Policy": "script-src 'self' 'unsafe-inline'"},
        )

    app.router.add_get("/recorded-call.html", page)


def chromium_present() -> bool:
    return os.path.exists(CHROMIUM)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    require(chromium_present(), f"Debian's chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        await instance.close()


async def test_chromium_session_recorded_and_played_back(tmp_path: Path, browser: Any) -> None:
    served = await serve(tmp_path, extra=with_page)
    try:
        origin = f"http://127.0.0.1:{served.server.port}"
        case_id, judge, door = await open_room(served, 0)
        call = await browser.new_page()
        await call.goto(f"{origin}/recorded-call.html?case={case_id}&token={door['token']}")
        await call.wait_for_function(
            "() => [...(window.call?.peers.values() || [])]"
            ".some((p) => p.pc.connectionState === 'connected')",
            timeout=15_000,
        )
        await asyncio.sleep(5)
        view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
        assert await call.evaluate("window.recording") == ["stopped"]
        assert await call.evaluate("window.errors") == []
        await call.close()
        (segment,) = view["segments"]
        assert segment["state"] == "closed" and segment["has_video"] and segment["has_audio"]
        assert segment["duration_seconds"] >= 4.5

        clerk = await browser.new_context()
        page = await clerk.new_page()
        await page.goto(f"{origin}/login")
        await page.fill("input[name=username]", "clerk")
        await page.fill("input[name=password]", "demo")
        await page.click("form button.primary, form button[type=submit], form button")
        await page.wait_for_load_state()
        await page.goto(f"{origin}/cases/{case_id}/recording")
        assert await page.locator("video").count() == 1
        await page.evaluate(
            "() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }"
        )
        await page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return v.videoWidth > 0 && v.currentTime > 0.3; }",
            timeout=10_000,
        )
        first = await page.evaluate("document.querySelector('video').currentTime")
        await asyncio.sleep(1.0)
        later = await page.evaluate("document.querySelector('video').currentTime")
        width = await page.evaluate("document.querySelector('video').videoWidth")
        assert later > first + 0.5 and width > 0
        shown = await page.locator("output.wallclock").text_content()
        assert shown and shown[:10] == segment["started_local"][:10]
        await clerk.close()
    finally:
        await served.server.close()
