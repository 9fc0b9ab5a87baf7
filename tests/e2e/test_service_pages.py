"""Service as each party chooses it, in real Chromium: the kiosk asks each party, in its own tap,
whether it agrees to electronic service; one signs on screen, the other asks for paper and the
kiosk prints the 送达回证; the board shows the paper still awaited, and the clerk records it from
the case page, which serves the case."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from e2e.session_helpers import (
    api_headers,
    base_of,
    login,
    screenshot_path,
    serve_electronically,
    session_server,
)
from e2e.test_party_device import COUNT_PRINTS, heard_and_issued

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]

KIOSK_SIZES = ({"width": 1280, "height": 800}, {"width": 1920, "height": 1080})


async def case_state(base: str, case_id: int) -> str:
    async with aiohttp.ClientSession() as s:
        clerk = await api_headers(s, base, "clerk")
        async with s.get(f"{base}/api/cases/{case_id}", headers=clerk) as r:
            return str((await r.json())["state"])


async def test_one_party_signs_on_screen_the_other_is_served_on_paper(
    browser: Any, session_server: Any
) -> None:
    base = base_of(session_server)
    case_id = await heard_and_issued(base)
    kiosk = await login(browser, base, "kiosk1")
    await kiosk.context.add_init_script(COUNT_PRINTS)
    await kiosk.set_viewport_size(KIOSK_SIZES[0])
    await kiosk.goto(f"{base}/kiosk/session/{case_id}")
    await kiosk.wait_for_selector("#ruling-box:not(.hidden)", timeout=15_000)

    # Both parties are asked first; nothing to sign before the answer.
    first, second = (kiosk.locator(f".receipt[data-party='{p}']") for p in (0, 1))
    await first.get_by_role("button", name="同意电子送达").wait_for()
    assert await kiosk.locator(".receipt button.sign").count() == 0
    assert "是否同意人民法院以电子方式向您送达" in await first.inner_text()
    await first.scroll_into_view_if_needed()
    for size in KIOSK_SIZES:
        await kiosk.set_viewport_size(size)
        name = f"service-kiosk-question-{size['width']}"
        await kiosk.screenshot(path=screenshot_path(name), full_page=True)

    await serve_electronically(kiosk, 0)
    await second.get_by_role("button", name="不同意，要纸质文书").click()
    await second.get_by_role("button", name="打印送达回证").click()
    await kiosk.wait_for_function("() => (window.sifaPrints || 0) >= 1", timeout=10_000)
    assert await kiosk.evaluate("window.sifaPrinted") == [f"/api/cases/{case_id}/paper-forms/1.pdf"]
    assert "在送达回证上签名" in await second.inner_text()
    # The hall is done; the case waits for the clerk.
    await kiosk.wait_for_selector("#paper-left:not(.hidden)")
    assert await kiosk.is_hidden("#all-served")
    for size in KIOSK_SIZES:
        await kiosk.set_viewport_size(size)
        await second.scroll_into_view_if_needed()
        name = f"service-kiosk-paper-{size['width']}"
        await kiosk.screenshot(path=screenshot_path(name), full_page=True)
    assert await case_state(base, case_id) == "ruling_issued"
    assert not kiosk.errors, kiosk.errors

    # The clerk's board names whose paper receipt is awaited; the case page records it.
    clerk = await login(browser, base, "clerk")
    await clerk.goto(f"{base}/board")
    await clerk.get_by_text("纸质送达待登记：赵六").wait_for(timeout=10_000)
    await clerk.goto(f"{base}/cases/{case_id}")
    await clerk.get_by_text("不同意电子送达，待登记纸质送达回证").wait_for()
    await clerk.screenshot(path=screenshot_path("service-clerk-paper-pending"), full_page=True)
    await clerk.get_by_role("button", name="登记纸质签收").click()
    await clerk.get_by_text("纸质送达，送达回证签收日期").wait_for()
    assert await case_state(base, case_id) == "served"
    assert not clerk.errors, clerk.errors
