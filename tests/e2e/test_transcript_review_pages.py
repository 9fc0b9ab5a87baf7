"""The transcript reviewed in real Chromium: after the decision the kiosk shows the draft; one
party asks for a correction, the judge records it from the console, the kiosk asks both parties
to read the corrected draft, they confirm, and only then may the judge issue the ruling."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.session_helpers import base_of, login, screenshot_path, session_server
from e2e.test_party_device import decided_in_the_hall

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]

JUDGE_SCREEN = {"width": 1366, "height": 768}
KIOSK_SIZES = ({"width": 1280, "height": 800}, {"width": 1920, "height": 1080})


async def test_a_correction_then_both_confirm_then_the_ruling(
    browser: Any, session_server: Any
) -> None:
    base = base_of(session_server)
    case_id = await decided_in_the_hall(base)
    kiosk = await login(browser, base, "kiosk1")
    await kiosk.set_viewport_size(KIOSK_SIZES[0])
    await kiosk.goto(f"{base}/kiosk/session/{case_id}")
    box = kiosk.locator("#transcript-box")
    await box.locator(".transcript-text .rt-title").wait_for(timeout=15_000)
    assert "笔录" in await box.locator(".transcript-text").inner_text()
    zhao = box.locator(".transcript-party[data-party='1']")
    zhang = box.locator(".transcript-party[data-party='0']")
    for size in KIOSK_SIZES:
        await kiosk.set_viewport_size(size)
        await zhang.scroll_into_view_if_needed()
        name = f"transcript-kiosk-review-{size['width']}"
        await kiosk.screenshot(path=screenshot_path(name), full_page=True)

    judge = await login(browser, base, "judge")
    await judge.set_viewport_size(JUDGE_SCREEN)
    await judge.goto(f"{base}/judge/session/{case_id}")
    review = judge.locator("#transcript-review")
    await review.locator(".transcript-party[data-party='1']").wait_for(timeout=15_000)
    # The ruling waits for the parties.
    assert await judge.locator("#issue").is_disabled()

    await zhao.get_by_role("button", name="申请补正").click()
    await zhao.get_by_text("已申请补正").wait_for()
    asking = review.locator(".transcript-party[data-party='1']")
    await asking.get_by_text("申请补正：请听取并记录").wait_for(timeout=10_000)
    form = asking.locator("form.t-correction")
    await form.get_by_label("申请补正的内容").fill("我说的是分两期付款")
    await form.get_by_label("补正内容或不予补正的理由").fill("分两期支付")
    await asking.scroll_into_view_if_needed()
    await judge.screenshot(path=screenshot_path("transcript-judge-correction"), full_page=False)
    await form.get_by_role("button", name="记录补正").click()

    # The kiosk shows the corrected draft; both parties confirm it.
    await box.get_by_text("分两期支付").wait_for(timeout=10_000)
    for party in (zhang, zhao):
        await party.get_by_role("button", name="笔录无误，确认签名").click()
        await party.locator(".transcript-confirmed").wait_for()
    await review.locator(".transcript-ready").wait_for(timeout=10_000)
    await judge.screenshot(path=screenshot_path("transcript-judge-ready"), full_page=False)
    await judge.locator("#issue").click()
    await kiosk.locator("#ruling-box:not(.hidden)").wait_for(timeout=20_000)
    assert await box.is_hidden()
    for page in (kiosk, judge):
        assert not page.errors, page.errors
