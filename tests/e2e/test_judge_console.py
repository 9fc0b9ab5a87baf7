"""The judge console in Chromium, in zh-CN and English: connection-quality warnings from the
signaling server, the session clock against its 20-minute target with the time per step, and
the list of what is still missing before a confirmation, each in the page's language. Every
control of the console and of the clerk's pages is reached with the Tab key.

The room's kiosk is a plain WebSocket client here: it joins with a room token from the API,
waits to be admitted by the judge in the browser, then reports the packet loss it chooses.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from e2e.keyboard import unreachable_by_tab
from e2e.session_helpers import (
    LOCALE,
    api_headers,
    at_step,
    base_of,
    login,
    screenshot_path,
    session_server,
    text_has,
    verify_identities,
)
from e2e.test_ruling_pages import booked_case
from signaling_helpers import Client

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]

SELF_TEST = {"camera": True, "microphone": True, "network": True}
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Words:
    """What the console must say, per language."""

    bad: str
    poor: str
    loss: str
    clock: str
    identity_step: str
    missing: str  # party 0's identity not yet checked
    missing_review: str
    checkin_ok: str


WORDS = {
    "zh-CN": Words(
        bad="网络质量很差",
        poor="网络质量较差",
        loss="丢包 20%",
        clock="用时",
        identity_step="身份核验",
        missing="申请人张三尚未核验身份",
        missing_review="审查事项“违背公序良俗”尚未审查",
        checkin_ok="终端自检通过",
    ),
    "en": Words(
        bad="Bad connection",
        poor="Poor connection",
        loss="20% packet loss",
        clock="Time",
        identity_step="Identity",
        missing="Applicant 张三: identity not yet checked",
        missing_review="Review item “Against public order” not yet reviewed",
        checkin_ok="Kiosk self-test passed",
    ),
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def kiosk_in_lobby(
    http: aiohttp.ClientSession, base: str, case_id: int
) -> tuple[Client, str]:
    """The room's kiosk checks in and joins the room's lobby over a raw WebSocket."""
    kiosk = await api_headers(http, base, "kiosk1")
    async with http.post(
        f"{base}/api/cases/{case_id}/session/check-in", json=SELF_TEST, headers=kiosk
    ) as r:
        assert r.status == 200, await r.text()
    async with http.post(f"{base}/api/cases/{case_id}/room-token", json={}, headers=kiosk) as r:
        assert r.status == 200, await r.text()
        door = await r.json()
    client = Client(http, door["ws_url"])
    welcome = await client.connect_and_join(door["token"], case_id)
    assert welcome["you"]["admitted"] is False  # the judge lets the room in
    return client, door["display_name"]


async def stats(client: Client, loss: float) -> None:
    await client.send({"type": "stats", "packet_loss": loss, "rtt_ms": 180, "bitrate_kbps": 600})


async def quality_line(judge: Any, level: str) -> str:
    line = f"#quality-warning:not(.hidden) p[data-level='{level}']"
    await judge.wait_for_selector(line, timeout=10_000)
    return str(await judge.inner_text("#quality-warning"))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_quality_warnings_clock_and_missing_in_the_page_language(
    browser: Any, session_server: Any, http: aiohttp.ClientSession, lang: str
) -> None:
    words = WORDS[lang]
    base = base_of(session_server)
    case_id = await booked_case(base)
    judge = await login(browser, base, "judge", locale=LOCALE[lang])
    await judge.goto(f"{base}/judge/session/{case_id}")
    assert await judge.get_attribute("#app", "data-lang") == lang
    await judge.click("#open-session")
    await judge.wait_for_selector("#open-session.hidden", state="attached")
    # The judge's own seat first: the kiosk's join then reaches the console as a lobby entry.
    await judge.wait_for_function("() => window.sifaCall && window.sifaCall.state === 'admitted'")

    kiosk, kiosk_name = await kiosk_in_lobby(http, base, case_id)
    try:
        await judge.wait_for_selector("button.admit", timeout=15_000)
        # The kiosk checked in just before it came to the lobby: the console says so at once,
        # not "not checked in" until its next poll.
        await text_has(judge, "#checkin-status", words.checkin_ok, within_ms=1_000)
        await judge.click("button.admit")
        await kiosk.expect("admitted", within=10)
        await at_step(judge, "identity")

        # The session clock: running against the 20-minute target, and the time per step.
        clock = await judge.inner_text("#clock")
        assert words.clock in clock and "/ 20:00" in clock
        await judge.wait_for_function(
            "() => document.getElementById('clock-value').textContent !== '0:00'",
            timeout=10_000,
        )
        await text_has(judge, "#timings tbody tr[data-step='identity']", words.identity_step)
        assert "…" in await judge.inner_text("#timings tbody tr[data-step='identity']")
        assert (await judge.inner_text("#timings-total")).endswith("/ 20:00")

        # What is missing before a confirmation, in the page's language.
        missing = await judge.inner_text("#missing")
        assert words.missing in missing and words.missing_review in missing
        assert await judge.locator("#missing li[data-code='identity_pending']").count() == 2
        if lang == "en":
            assert not HAN.search(missing.replace("张三", "").replace("赵六", "")), missing

        # 20% loss is past the 15% "bad" line: the judge is warned, the kiosk named.
        await stats(kiosk, 0.2)
        text = await quality_line(judge, "bad")
        assert words.bad in text and kiosk_name in text and words.loss in text, text
        assert words.poor not in text, text
        if lang == "zh-CN":
            assert not re.search(r"[A-Za-z]{3}", text.replace(kiosk_name, "")), text
        await judge.screenshot(path=screenshot_path(f"console-{lang}-quality-bad"), full_page=True)

        # 12% is only "poor": the warning is downgraded, not stacked.
        await stats(kiosk, 0.12)
        text = await quality_line(judge, "poor")
        assert words.poor in text and words.bad not in text and kiosk_name in text, text
        assert await judge.locator("#quality-warning p").count() == 1

        # Back to no loss: the server says "ok" once and the warning goes away.
        await stats(kiosk, 0.0)
        await judge.wait_for_selector("#quality-warning.hidden", state="attached", timeout=10_000)
        assert await judge.locator("#quality-warning p").count() == 0

        # Records move the clock on to the next step; the first step's time is then fixed.
        await verify_identities(judge)
        await judge.wait_for_function(
            "() => !document.querySelector('#missing li[data-code=\"identity_pending\"]')"
        )
        row = await judge.inner_text("#timings tbody tr[data-step='identity']")
        assert re.search(r"\d+:\d\d", row) and "…" not in row, row
        done = screenshot_path(f"console-{lang}-identity-done")
        await judge.screenshot(path=done, full_page=True)
        # Every control of the live console can be reached without a mouse.
        assert await unreachable_by_tab(judge) == []
        assert not judge.errors, judge.errors
    finally:
        await kiosk.close()

    await clerk_pages_in(browser, base, case_id, lang)


async def clerk_pages_in(browser: Any, base: str, case_id: int, lang: str) -> None:
    """The clerk's board, figures and the case's timeline in the same language, for review."""
    clerk = await login(browser, base, "clerk", locale=LOCALE[lang])
    await clerk.goto(f"{base}/board")
    await clerk.wait_for_selector("#board tr[data-room] a")
    await clerk.screenshot(path=screenshot_path(f"console-{lang}-clerk-board"), full_page=True)
    assert await unreachable_by_tab(clerk) == []
    await clerk.goto(f"{base}/figures")
    await clerk.screenshot(path=screenshot_path(f"console-{lang}-clerk-figures"), full_page=True)
    assert await unreachable_by_tab(clerk) == []
    await clerk.goto(f"{base}/cases/{case_id}/timeline")
    timeline = await clerk.inner_text("#timeline")
    await clerk.screenshot(path=screenshot_path(f"console-{lang}-clerk-timeline"), full_page=True)
    if lang == "en":
        assert "Identity check" in timeline and "(session 1)" in timeline, timeline
        assert "身份核验" not in timeline
    else:
        assert "身份核验" in timeline and "（第1次庭审）" in timeline
    for path in ("/rulings", f"/cases/{case_id}"):
        await clerk.goto(f"{base}{path}")
        assert await unreachable_by_tab(clerk) == [], path
    judge = await login(browser, base, "judge", locale=LOCALE[lang])
    await judge.goto(f"{base}/docket")
    await judge.screenshot(path=screenshot_path(f"console-{lang}-judge-docket"), full_page=True)
    assert await unreachable_by_tab(judge) == []
    for page in (clerk, judge):
        assert not page.errors, page.errors
