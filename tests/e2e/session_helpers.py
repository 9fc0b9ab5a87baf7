"""Shared pieces of the live-session browser tests: the app with the session pages, logins,
and waiting for video to play."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app.main import create_app, utc_now

from e2e.conftest import screenshot_path
from integration.conftest import make_settings, prepare

__all__ = ["screenshot_path"]

# The page language under test -> the browser locale that asks for it (Accept-Language).
LOCALE = {"zh-CN": "zh-CN", "en": "en-US"}


@pytest.fixture
async def session_server(tmp_path: Path) -> AsyncIterator[TestServer]:
    """The whole app on a real clock, so the session clock and step timings move."""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    await prepare(settings, utc_now())
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    server.certs_dir = settings.certs_dir  # type: ignore[attr-defined]
    yield server
    await server.close()


def base_of(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


async def login(
    browser: Any, base: str, username: str, locale: str = "zh-CN", password: str = "demo"
) -> Any:
    context = await browser.new_context(locale=locale, viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await sign_in(page, base, username, password)
    return page


async def sign_in(page: Any, base: str, username: str, password: str = "demo") -> None:
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    # Wait for the form's own navigation: a goto issued while the login's redirect is still
    # on its way is aborted by it (net::ERR_ABORTED).
    async with page.expect_navigation():
        await page.click("button.primary")
    await page.wait_for_load_state()


PLAYING = """(sel) => { const v = document.querySelector(sel);
  return v && v.videoWidth > 0 && v.currentTime > 0.3; }"""


# The element looked at first is kept: a tile redrawn since (a new element) only has to play
# on its own, the same one has to have moved on.
WATCH = """(sel) => { const v = document.querySelector(sel);
  window.sifaWatched = v; return v ? v.currentTime : 0; }"""
ADVANCING = """([sel, after]) => { const v = document.querySelector(sel);
  if (!v || v.videoWidth === 0) return false;
  return v === window.sifaWatched ? v.currentTime > after : v.currentTime > 0.3; }"""


async def assert_video_plays(page: Any, selector: str) -> None:
    """A picture at `selector`, and its time moving on. Each look finds the element afresh: a
    tile redrawn between two looks (a room coming back after a restart) is a new element."""
    # Generous: the server under test records every stream in this very process, and on a
    # loaded 2-core machine (the suite's other worker busy) a picture took over 20 s to play,
    # as a party's own device took over 15 s to reach the lobby.
    await page.wait_for_function(PLAYING, arg=selector, timeout=40_000)
    first = await page.evaluate(WATCH, selector)
    # At least 0.8 s of playing, as before: callers go on to count the media that flowed.
    await asyncio.sleep(0.8)
    await page.wait_for_function(ADVANCING, arg=[selector, first], timeout=20_000)


async def api_headers(session: aiohttp.ClientSession, base: str, username: str) -> dict[str, str]:
    async with session.post(
        f"{base}/api/login", json={"username": username, "password": "demo"}
    ) as r:
        assert r.status == 200, await r.text()
        token = (await r.json())["token"]
    return {"Authorization": f"Bearer {token}"}


async def kiosk_into_lobby(kiosk: Any, base: str, case_id: int, shot: str) -> None:
    await kiosk.goto(f"{base}/kiosk/session/{case_id}")
    await kiosk.wait_for_selector("#checkin:not([disabled])", timeout=15_000)
    await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-1-selftest"), full_page=True)
    await kiosk.click("#checkin")
    await kiosk.wait_for_selector("#lobby:not(.hidden)")


async def judge_admits(
    judge: Any,
    base: str,
    case_id: int,
    shot: str,
    before_admitting: Callable[[Any], Awaitable[None]] | None = None,
) -> None:
    await judge.goto(f"{base}/judge/session/{case_id}")
    await judge.click("#open-session")
    await judge.wait_for_selector("#open-session.hidden", state="attached")
    await judge.wait_for_selector("button.admit", timeout=15_000)
    await judge.screenshot(path=screenshot_path(f"{shot}-judge-1-lobby"), full_page=True)
    if before_admitting is not None:
        await before_admitting(judge)
    await judge.click("button.admit")
    await at_step(judge, "identity")
    # The whole session is recorded from its opening, and the judge sees that it is.
    await judge.wait_for_selector("#recording[data-state='recording']:not(.hidden)")


async def verify_identities(judge: Any, parties: int = 2) -> None:
    """The judge records each identity check. Just after admitting, the server may not yet see
    the party's media (its first stats report, the recorder's first segment) and refuses the
    record as not present; the judge reads the refusal and presses again, as here."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    for p in range(parties):
        passed = f".party-card[data-party='{p}'] .identity-status[data-result='passed']"
        for attempt in range(4):
            await judge.click(f".identity-form[data-party='{p}'] button[type=submit]")
            try:
                await judge.wait_for_selector(passed, timeout=6_000)
                break
            except PlaywrightTimeout:
                if attempt == 3:
                    raise


async def kiosk_consents(kiosk: Any, parties: int = 2) -> None:
    """Each party's one tap: the warning read and the application made, once identity passed."""
    for p in range(parties):
        await kiosk.wait_for_selector(
            f".party-box[data-party='{p}'] button.consent:not([disabled])", timeout=10_000
        )
        await kiosk.click(f".party-box[data-party='{p}'] button.consent")
        await kiosk.wait_for_selector(f".party-box[data-party='{p}'] .consented")


async def record_answers(
    judge: Any, parties: int = 2, *, refuse: int | None = None, first: int = 0
) -> None:
    for p in range(first, parties):
        form = f".answers-form[data-party='{p}']"
        if refuse == p:
            await judge.check(f"{form} input[name=agreed_freely][value=no]")
            await judge.fill(f"{form} input[name=note]", "称系受对方胁迫签字")
        if refuse != p:
            await judge.wait_for_selector(
                f".party-card[data-party='{p}'] .consent-status[data-done='yes']", timeout=10_000
            )
        await judge.click(f"{form} button[type=submit]")
        await text_has(judge, f"{form} .answers-status", "✓")


async def at_step(page: Any, step: str, within_ms: float = 15_000) -> None:
    await page.wait_for_selector(f"body[data-step='{step}']", state="attached", timeout=within_ms)


async def text_has(page: Any, selector: str, text: str, within_ms: float = 15_000) -> None:
    """Wait until an element's text contains `text` (a function, not a string: the pages' CSP
    forbids eval)."""
    await page.wait_for_function(
        "([s, t]) => { const e = document.querySelector(s);"
        " return !!e && e.textContent.includes(t); }",
        arg=[selector, text],
        timeout=within_ms,
    )


FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
MASKED_ID = re.compile(r"[0-9]{4}\*{10}[0-9X]{4}")


async def assert_ruling_masked_on_screen(
    page: Any, parties: int, selector: str = "#ruling-text"
) -> None:
    """The screen shows every applicant's ID number masked, and no full number anywhere."""
    shown = await page.inner_text(selector)
    assert len(MASKED_ID.findall(shown)) == parties, shown
    assert not FULL_ID.search(await page.inner_text("body"))


async def serve_electronically(kiosk: Any, party: int) -> None:
    """The party's two taps: yes to electronic service, then the receipt."""
    box = kiosk.locator(f".receipt[data-party='{party}']")
    await box.get_by_role("button", name="同意电子送达").click()
    await box.get_by_role("button", name="签收").click()
    await box.locator(".signed").wait_for()


async def kiosk_confirms_transcript(kiosk: Any, parties: int = 2, shot: str | None = None) -> None:
    """After the decision each party reads the transcript at the kiosk and confirms it."""
    await kiosk.wait_for_selector("#transcript-box:not(.hidden) .transcript-text .rt-title")
    if shot:
        await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-4-transcript"), full_page=True)
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    for p in range(parties):
        box = kiosk.locator(f"#transcript-box .transcript-party[data-party='{p}']")
        # A tap the server turns down (the draft changed as it was read) leaves the button
        # there to tap again, as a party would.
        for attempt in range(3):
            await box.get_by_role("button", name="笔录无误，确认签名").click()
            try:
                await box.locator(".transcript-confirmed").wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
