"""The kiosk's idle screen in real Chromium: today's schedule kept current without a touch, a
clock, and the session's device check started by itself when the judge opens the session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest

from app.domain.clock import COURT_TZ

from e2e.session_helpers import LOCALE, base_of, login, screenshot_path, session_server
from e2e.test_ruling_pages import Api, api_login, booked_case

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]


def later_today() -> dt.datetime:
    """A time later on the court's day (the schedule shows today only)."""
    now = dt.datetime.now(COURT_TZ)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return now + min(dt.timedelta(minutes=30), (midnight - now) / 2)


async def test_the_idle_kiosk_keeps_its_schedule_and_enters_the_opened_session(
    browser: Any, session_server: Any
) -> None:
    base = base_of(session_server)
    kiosk = await login(browser, base, "kiosk1")
    assert kiosk.url.endswith("/kiosk"), kiosk.url
    first = await kiosk.inner_text("#idle-clock")
    await kiosk.wait_for_function(
        "(t) => document.getElementById('idle-clock').textContent !== t", arg=first
    )
    await kiosk.evaluate("() => { window.sifaSamePage = true; }")  # gone if the page reloads

    # The clerk books a case into this room today: it appears without anyone touching the kiosk.
    case_id = await booked_case(base, later_today())
    row = f"#schedule li[data-case='{case_id}']"
    await kiosk.wait_for_selector(row, timeout=12_000)
    assert await kiosk.is_hidden("#nothing")
    assert "张三" in await kiosk.inner_text(row)
    assert await kiosk.evaluate("() => window.sifaSamePage === true")
    await kiosk.screenshot(path=screenshot_path("kiosk-idle-1-booked"), full_page=True)

    # The judge opens the session: the kiosk goes to its device check by itself.
    async with aiohttp.ClientSession() as s:
        judge = Api(s, base, await api_login(s, base, "judge"))
        opened = await judge.post(f"/api/cases/{case_id}/open-session", {})
        assert opened.status == 200, await opened.text()
    await kiosk.wait_for_url(f"**/kiosk/session/{case_id}", timeout=12_000)
    await kiosk.wait_for_selector("#selftest:not(.hidden)", timeout=15_000)
    await kiosk.screenshot(path=screenshot_path("kiosk-idle-2-entered"), full_page=True)

    # Someone who goes back to the schedule is not sent straight back in.
    await kiosk.goto(f"{base}/kiosk")
    await kiosk.wait_for_selector(f"{row}[data-state='in_session']")
    await kiosk.wait_for_timeout(6_000)  # longer than one refresh
    assert kiosk.url.endswith("/kiosk"), kiosk.url
    assert await kiosk.is_hidden("#starting")
    # ...but is offered the way back, large, and not told the session will start by itself.
    await kiosk.wait_for_selector("#running:not(.hidden)")  # drawn by the page's refresh
    back = kiosk.get_by_role("link", name="返回正在进行的确认").first
    note = await kiosk.inner_text("#idle-note")
    assert "自动进入" not in note and "返回确认室" in note, note
    # Kiosk mode: no log-out and no language link in the header; the language is chosen here.
    header = kiosk.locator("header.top")
    assert await header.get_by_role("button", name="退出").count() == 0
    assert await header.get_by_role("link", name="English").count() == 0
    languages = kiosk.get_by_role("navigation", name="语言")
    await languages.get_by_role("link", name="English").wait_for()
    for width, height in ((1920, 1080), (1280, 800)):
        await kiosk.set_viewport_size({"width": width, "height": height})
        box = await kiosk.locator("#back-in").bounding_box()
        assert box and box["width"] > width * 0.8 and box["height"] >= 80, box
        await kiosk.screenshot(path=screenshot_path(f"kiosk-idle-3-in-session-{width}x{height}"))
    await back.click()
    await kiosk.wait_for_url(f"**/kiosk/session/{case_id}")
    assert not kiosk.errors, kiosk.errors


async def test_the_idle_kiosk_speaks_english_when_asked(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    kiosk = await login(browser, base, "kiosk1", locale=LOCALE["en"])
    await kiosk.wait_for_selector("#nothing:not(.hidden)")
    note = await kiosk.inner_text("#idle-note")
    assert "updates by itself" in note and "本页" not in note
    assert "No confirmation sessions today." in await kiosk.inner_text("#nothing")
    await kiosk.screenshot(path=screenshot_path("kiosk-idle-en"), full_page=True)
    assert not kiosk.errors, kiosk.errors
