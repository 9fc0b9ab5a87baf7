"""Presence is evidence, in real Chromium: the kiosk's browser goes away mid-inquiry, the
judge's console shows the answer refused because the kiosk's connection dropped, the kiosk comes
back, the hearing completes, and the archived transcript says when the kiosk was away."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from e2e.session_helpers import (
    api_headers,
    assert_video_plays,
    base_of,
    judge_admits,
    kiosk_consents,
    kiosk_into_lobby,
    login,
    screenshot_path,
    session_server,
    verify_identities,
)
from e2e.test_ruling_pages import booked_case
from e2e.test_session_flow import issue_and_serve, review_all_absent
from realdeps import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]


async def answer_until_recorded(judge: Any, party: int) -> None:
    """The judge presses until the server sees the returned kiosk's media and takes the record."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    form = f".answers-form[data-party='{party}']"
    for _attempt in range(6):
        await judge.click(f"{form} button[type=submit]")
        try:
            await judge.wait_for_selector(f"{form} .answers-status:has-text('✓')", timeout=5_000)
            return
        except PlaywrightTimeout:  # refused as not present yet: press again
            continue
    raise AssertionError(await judge.inner_text("#error"))


async def test_a_kiosk_that_drops_is_refused_then_shown_in_the_transcript(
    browser: Any, session_server: Any
) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "drop")
    await judge_admits(judge, base, case_id, "drop")
    await assert_video_plays(kiosk, "#remote-video")
    await verify_identities(judge)
    await kiosk_consents(kiosk)

    # The kiosk's browser goes away: the judge's record of an answer is refused, saying why.
    await kiosk.context.close()
    form = ".answers-form[data-party='0']"
    refusal = ""
    for _attempt in range(20):
        await judge.click(f"{form} button[type=submit]")
        await judge.wait_for_selector("#error:not(.hidden)", timeout=5_000)
        refusal = await judge.inner_text("#error")
        if "连接已中断" in refusal:
            break
        await judge.wait_for_timeout(500)
    assert "确认室终端" in refusal and "连接已中断" in refusal, refusal
    assert await judge.locator(f"{form} .answers-status:has-text('✓')").count() == 0
    await judge.screenshot(path=screenshot_path("drop-judge-refused"), full_page=False)

    # The kiosk comes back (a new browser on the same room's account): its home page finds the
    # session under way and goes back in by itself (a goto of our own would race that
    # navigation and be aborted by it), and the hearing goes on.
    kiosk = await login(browser, base, "kiosk1")
    await kiosk.wait_for_url(f"{base}/kiosk/session/{case_id}", timeout=30_000)
    await assert_video_plays(kiosk, "#remote-video")
    await answers_to_the_ruling(judge, kiosk, "drop")

    # The archived transcript says when the kiosk was away.
    text = await archived_transcript(base, case_id)
    assert "确认室终端（光明社区在线司法确认室一）：" in text
    assert "（视频连接中断）" in text, text
    assert not judge.errors, judge.errors


async def answers_to_the_ruling(judge: Any, kiosk: Any, shot: str) -> None:
    """Both parties' answers (pressed until the server takes them), the review, the decision,
    the transcript's review, the ruling and its service."""
    for party in (0, 1):
        await answer_until_recorded(judge, party)
    await review_all_absent(judge)
    await judge.click("#decide")
    await issue_and_serve(judge, kiosk, shot, ("调解协议有效",))


async def archived_transcript(base: str, case_id: int) -> str:
    """The archived transcript's text, as the clerk downloads it."""
    async with aiohttp.ClientSession() as s:
        clerk = await api_headers(s, base, "clerk")
        async with s.get(f"{base}/api/cases/{case_id}/transcript.pdf", headers=clerk) as r:
            assert r.headers["X-Sifa-Transcript"] == "archived"
            return await pdf_text(await r.read())


async def pdf_text(pdf: bytes) -> str:
    """pdftotext's words, joined: it breaks lines where the PDF does."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transcript.pdf"
        path.write_bytes(pdf)
        done = await asyncio.to_thread(
            subprocess.run,
            [require_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    return "".join(done.stdout.split())
