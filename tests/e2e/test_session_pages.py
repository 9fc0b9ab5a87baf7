"""The session pages' doors (who may open them), English, a party's own device, the mediator's
join codes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from app.domain.roles import Role
from app.keys import SERVICES
from app.services import accounts

from e2e.session_helpers import (
    api_headers,
    at_step,
    base_of,
    judge_admits,
    kiosk_into_lobby,
    login,
    screenshot_path,
    session_server,
    text_has,
    verify_identities,
)
from e2e.test_ruling_pages import booked_case

pytestmark = [pytest.mark.browser]
__all__ = ["session_server"]


async def status_of(base: str, path: str, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{base}{path}", headers=headers, allow_redirects=False) as r,
    ):
        return r.status


async def test_pages_refuse_the_wrong_people(session_server: Any) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)  # booked into room 1
    async with session_server.app[SERVICES].db.transaction() as session:
        await accounts.add_account(
            session,
            username="judge2",
            password="demo-demo-demo",
            role=Role.JUDGE,
            display_name="李法官",
            binding=accounts.Binding(court="粤0311"),
            now=session_server.app[SERVICES].clock(),
            check_strength=False,
        )
    async with aiohttp.ClientSession() as s:
        kiosk2 = await api_headers(s, base, "kiosk2")
        mediator = await api_headers(s, base, "mediator")
        kiosk1 = await api_headers(s, base, "kiosk1")
        clerk = await api_headers(s, base, "clerk")
        judge = await api_headers(s, base, "judge")
        async with s.post(
            f"{base}/api/login", json={"username": "judge2", "password": "demo-demo-demo"}
        ) as r:
            judge2 = {"Authorization": f"Bearer {(await r.json())['token']}"}
    kiosk_page, judge_page = f"/kiosk/session/{case_id}", f"/judge/session/{case_id}"
    assert await status_of(base, kiosk_page, kiosk1) == 200
    assert await status_of(base, judge_page, judge) == 200
    assert await status_of(base, kiosk_page, kiosk2) == 404  # another room's kiosk
    assert await status_of(base, kiosk_page, mediator) == 403
    assert await status_of(base, judge_page, mediator) == 403
    assert await status_of(base, judge_page, judge2) == 404  # not the assigned judge
    assert await status_of(base, judge_page, kiosk1) == 403
    assert await status_of(base, "/board", judge) == 403
    assert await status_of(base, "/api/board", mediator) == 403
    assert await status_of(base, "/figures", kiosk1) == 403
    assert await status_of(base, f"/cases/{case_id}/codes", clerk) == 403
    assert await status_of(base, f"/cases/{case_id}/timeline", kiosk2) == 404
    assert await status_of(base, "/board", clerk) == 200
    assert await status_of(base, kiosk_page, {}) == 303  # to the login page


async def test_english_pages(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1", locale="en-US")
    await kiosk.goto(f"{base}/kiosk/session/{case_id}")
    await kiosk.wait_for_selector("#checkin:not([disabled])", timeout=45_000)
    text = await kiosk.inner_text("main")
    assert "Device check: the camera" in text and "Identity" in text and "设备自检" not in text
    await kiosk.screenshot(path=screenshot_path("en-kiosk-selftest"), full_page=True)
    await kiosk.click("#checkin")
    judge = await login(browser, base, "judge", locale="en-US")
    await judge.goto(f"{base}/judge/session/{case_id}")
    text = await judge.inner_text("main")
    assert "Identity check" in text and "Review (Interp 358)" in text
    await judge.wait_for_selector("button.admit", timeout=45_000)
    await judge.screenshot(path=screenshot_path("en-judge-lobby"), full_page=True)
    clerk = await login(browser, base, "clerk", locale="en-US")
    await clerk.goto(f"{base}/board")
    await clerk.wait_for_selector("#board tr[data-room]")
    assert "Confirmation rooms today" in await clerk.inner_text("h1")
    await clerk.goto(f"{base}/figures")
    assert "By week (Monday to Sunday)" in await clerk.inner_text("main")
    await clerk.screenshot(path=screenshot_path("en-clerk-figures"), full_page=True)


async def test_party_confirms_on_own_device(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "party")
    await judge_admits(judge, base, case_id, "party")
    await verify_identities(judge)

    mediator = await login(browser, base, "mediator")
    await mediator.goto(f"{base}/cases/{case_id}/codes")
    await mediator.click("button.issue-code[data-party='1']")
    await text_has(mediator, "#code-1", "-")  # XXXXX-XXXXX
    code = await mediator.inner_text("#code-1")
    await mediator.screenshot(path=screenshot_path("mediator-codes"), full_page=True)

    phone = await (
        await browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 900})
    ).new_page()
    await phone.goto(f"{base}/join")
    await phone.fill("#code", code)
    await phone.click("#join-form button")
    await phone.wait_for_url(f"**/party/session/{case_id}")
    # The device tests its camera and microphone and enters the room's lobby first.
    await phone.wait_for_selector("#checkin:not([disabled])", timeout=45_000)
    await phone.click("#checkin")
    await phone.wait_for_selector(".party-box[data-party='1'] button.consent", timeout=60_000)
    assert await phone.locator(".party-box").count() == 1  # only this party
    await phone.screenshot(path=screenshot_path("party-own-device"), full_page=True)
    await phone.click(".party-box[data-party='1'] button.consent")
    await phone.wait_for_selector(".party-box[data-party='1'] .consented")
    await phone.screenshot(path=screenshot_path("party-own-device-confirmed"), full_page=True)
    # The kiosk sees it too: party 1 confirmed elsewhere.
    await kiosk.wait_for_selector(".party-box[data-party='1'] .consented", timeout=10_000)
    await at_step(kiosk, "inquiry")  # answers are not recorded yet
