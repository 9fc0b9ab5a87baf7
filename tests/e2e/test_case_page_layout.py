"""The case page's actions card as a browser lays it out: the heading above the forms, each
form on its own line (the card once shared the kiosk's row layout, heading beside the forms)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest

from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from e2e.session_helpers import api_headers, base_of, login, screenshot_path, session_server
from integration.ruling_flow import small_pdf

pytestmark = [pytest.mark.browser]
__all__ = ["session_server"]


async def submitted_case(base: str) -> int:
    async with aiohttp.ClientSession() as s:
        mediator = await api_headers(s, base, "mediator")
        payload = sample_application(dt.datetime.now(COURT_TZ).date())
        async with s.post(f"{base}/api/cases", json=payload, headers=mediator) as r:
            assert r.status == 201, await r.text()
            case_id = int((await r.json())["id"])
        form = aiohttp.FormData()
        form.add_field("category", "agreement")
        form.add_field("file", small_pdf(), filename="agreement.pdf")
        await s.post(f"{base}/api/cases/{case_id}/materials", data=form, headers=mediator)
        async with s.post(f"{base}/api/cases/{case_id}/submit", json={}, headers=mediator) as r:
            assert r.status == 200, await r.text()
    return case_id


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_the_actions_heading_sits_above_its_forms(
    browser: Any, session_server: Any, locale: str
) -> None:
    base = base_of(session_server)
    case_id = await submitted_case(base)
    clerk = await login(browser, base, "clerk", locale=locale)
    await clerk.goto(f"{base}/cases/{case_id}")
    heading = await clerk.locator("#case-actions h2").bounding_box()
    forms = [await f.bounding_box() for f in await clerk.locator("#case-actions form").all()]
    assert len(forms) >= 3  # accept, decline, return
    for box in forms:
        assert box["y"] >= heading["y"] + heading["height"] - 1, (heading, box)
    tops = [box["y"] for box in forms]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # one form per line
    who = await clerk.inner_text("header .who")
    assert who == ("陈静（书记员）" if locale == "zh-CN" else "陈静 (Clerk)")
    await clerk.screenshot(path=screenshot_path(f"case-actions-{locale}"), full_page=True)
