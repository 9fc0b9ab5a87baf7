"""A real `sifa serve` (one node, SQLite) is stopped by SIGTERM mid-inquiry and started again on
the same data and port, with the judge's console and the kiosk open in real Chromium: both say
they are reconnecting and come back by themselves, no click anywhere (the server lets the kiosk
back in on the judge's earlier admission); the recording starts again by itself (a new run,
audited recording.restarted). Then `kill -9`, and the same again: back without a click, a third
run recording. Later in the same hearing the recording stops: the judge's console
raises its alert, the judge's records are refused until the judge decides, with reasons, to go
on without it; the hearing completes to a served ruling, and the archived transcript (pdftotext)
says when the recording stopped and resumed, and why the hearing went on without it."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cluster.one_node import one_node, wait_ready

from e2e.session_helpers import (
    api_headers,
    assert_video_plays,
    judge_admits,
    kiosk_consents,
    kiosk_into_lobby,
    login,
    screenshot_path,
    text_has,
    verify_identities,
)
from e2e.test_presence_pages import answers_to_the_ruling, archived_transcript
from e2e.test_ruling_pages import booked_case

# Two starts of a real `sifa serve` (imports alone take 20 s on a machine loaded tenfold) and a
# whole hearing: more than the suite's 180 s may pass on a busy machine without anything hung.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(360)]

REASON = "录像设备故障，经询问当事人同意继续"


async def as_judge(base: str, method: str, path: str) -> Any:
    """One API call with the judge's bearer token (the browser's session stays untouched)."""
    async with aiohttp.ClientSession() as s:
        headers = await api_headers(s, base, "judge")
        async with s.request(method, f"{base}{path}", json={}, headers=headers) as r:
            assert r.status == 200, await r.text()
            return await r.json()


async def recording_after_restart(base: str, case_id: int, runs: int) -> list[Any]:
    """The recording's runs, as (state, end reason), once the restarted server records again
    (the `runs`-th run)."""
    view: dict[str, Any] = {}
    for _ in range(150):
        view = await as_judge(base, "GET", f"/api/cases/{case_id}/recording")
        if view["state"] == "recording" and len(view["runs"]) == runs:
            break
        await asyncio.sleep(0.2)
    return [(r["state"], r["end_reason"]) for r in view["runs"]]


async def restarted_and_back(node: Any, base: str, kiosk: Any, judge: Any, sig: int) -> None:
    """The node stopped by `sig`: both pages say they are reconnecting; started again, both
    are back in the room with video flowing, and nobody pressed anything."""
    await asyncio.to_thread(node.stop, sig)
    await kiosk.wait_for_selector("#lobby[data-state='reconnecting']", state="attached")
    assert "正在重新连接" in await kiosk.inner_text("#lobby-text")
    await judge.wait_for_selector("#conn-state[data-state='reconnecting']", state="attached")
    assert "正在重连" in await judge.inner_text("#conn-state")
    await kiosk.screenshot(path=screenshot_path(f"restart-kiosk-reconnecting-{sig}"))
    await asyncio.to_thread(node.spawn)
    await asyncio.to_thread(wait_ready, node, base)
    await kiosk.wait_for_selector("#lobby[data-state='admitted']", state="attached", timeout=60_000)
    await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
    await assert_video_plays(kiosk, "#remote-video")
    assert await kiosk.is_hidden("#rejoin") and await judge.is_hidden("#join-room")


async def test_sigterm_and_kill_9_mid_inquiry_everyone_back_recording_on_or_reasoned_without(
    browser: Any, tmp_path: Path
) -> None:
    # One second for the hearings under way after SIGTERM, then the node stops (the default
    # half hour would let this hearing finish first: test_one_node_stop.py).
    async with one_node(tmp_path, SIFA_FINISH_SECONDS="1") as (node, base):
        case_id = await booked_case(base)
        kiosk = await login(browser, base, "kiosk1")
        judge = await login(browser, base, "judge")
        await kiosk_into_lobby(kiosk, base, case_id, "restart")
        await judge_admits(judge, base, case_id, "restart")
        await assert_video_plays(kiosk, "#remote-video")
        await verify_identities(judge)

        # SIGTERM mid-inquiry; nobody presses anything, and the recording starts again by
        # itself: a new run after the one the stop ended.
        await restarted_and_back(node, base, kiosk, judge, signal.SIGTERM)
        assert await recording_after_restart(base, case_id, 2) == [
            ("stopped", "shutdown"),
            ("recording", None),
        ]
        # Then kill -9: the same, and the start-up sweep ends the killed run as interrupted.
        await restarted_and_back(node, base, kiosk, judge, signal.SIGKILL)
        assert await recording_after_restart(base, case_id, 3) == [
            ("stopped", "shutdown"),
            ("failed", "interrupted"),
            ("recording", None),
        ]
        await kiosk_consents(kiosk)

        # The recording stops (the API's stop here; a recorder fault reads the same): the
        # console raises its alert and the judge's record is refused, saying why.
        await as_judge(base, "POST", f"/api/cases/{case_id}/recording/stop")
        alert = judge.get_by_role("alert").filter(has_text="说明理由后决定无录像继续")
        await alert.wait_for(timeout=15_000)
        answers = judge.locator(".answers-form[data-party='0']")
        await answers.get_by_role("button").click()
        await text_has(judge, "#error", "庭审录像未在进行")
        assert await answers.locator(".answers-status:has-text('✓')").count() == 0
        await judge.screenshot(path=screenshot_path("restart-judge-no-recording"), full_page=False)

        # The judge's explicit, reasoned step; then the records are taken again.
        await alert.get_by_label("无录像继续的理由").fill(REASON)
        await alert.get_by_role("button", name="说明理由后无录像继续").click()
        await alert.wait_for(state="hidden", timeout=15_000)
        await answers_to_the_ruling(judge, kiosk, "restart")
        for page in (kiosk, judge):
            assert not page.errors, page.errors

        text = await archived_transcript(base, case_id)
        async with aiohttp.ClientSession() as s:
            clerk = await api_headers(s, base, "clerk")
            async with s.get(f"{base}/api/cases/{case_id}/timeline", headers=clerk) as r:
                items = (await r.json())["timeline"]
    for cause in ("服务器停止运行", "服务器意外中止"):  # SIGTERM, then kill -9
        assert f"因{cause}而中断，于" in text, text
    assert "重新开始录像，其间没有录像。" in text, text
    assert f"决定在无录像的情况下继续，理由：{REASON}。" in text, text
    restarted = [i for i in items if i["kind"] == "recording.restarted"]
    assert [i["details"]["after"] for i in restarted] == ["shutdown", "interrupted"], restarted
    kinds = {i["kind"] for i in items}
    assert {
        "recording.stopped",
        "recording.interrupted",
        "without_recording",
        "case.serve",
    } <= kinds, kinds
