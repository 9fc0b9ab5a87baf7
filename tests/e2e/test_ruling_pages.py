"""The judge decides and issues in the browser; the clerk finds the ruling; anyone verifies it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from e2e.conftest import screenshot_path
from e2e.session_helpers import login
from integration.ruling_flow import record_session, review_transcript, small_pdf

pytestmark = [pytest.mark.browser]


async def api_login(session: aiohttp.ClientSession, base: str, username: str) -> dict[str, str]:
    async with session.post(
        f"{base}/api/login", json={"username": username, "password": "demo"}
    ) as r:
        token = (await r.json())["token"]
    return {"Authorization": f"Bearer {token}"}


def _within_the_court_day() -> dt.datetime:
    """An hour from now, or just before midnight if that is sooner: the kiosk's schedule and
    the clerk's board show the court's day, and a run after 23:00 in Shenzhen booked into the
    next one."""
    now = dt.datetime.now(COURT_TZ)
    last = now.replace(hour=23, minute=59, second=0, microsecond=0)
    soon = now + dt.timedelta(hours=1)
    return last if now + dt.timedelta(minutes=2) < last < soon else soon


async def booked_case(base: str, at: dt.datetime | None = None) -> int:
    """Filed, accepted and scheduled through the API (in an hour, unless `at` says when): the
    browser part starts at the session."""
    async with aiohttp.ClientSession() as s:
        mediator = await api_login(s, base, "mediator")
        clerk = await api_login(s, base, "clerk")
        payload = sample_application(dt.datetime.now(COURT_TZ).date())
        async with s.post(f"{base}/api/cases", json=payload, headers=mediator) as r:
            case_id = int((await r.json())["id"])
        form = aiohttp.FormData()
        form.add_field("category", "agreement")
        form.add_field("file", small_pdf(), filename="agreement.pdf")
        await s.post(f"{base}/api/cases/{case_id}/materials", data=form, headers=mediator)
        await s.post(f"{base}/api/cases/{case_id}/submit", json={}, headers=mediator)
        async with s.get(f"{base}/api/court/people", headers=clerk) as r:
            people = await r.json()
        judge_id = people["judges"][0]["id"]
        await s.post(
            f"{base}/api/cases/{case_id}/accept", json={"judge_id": judge_id}, headers=clerk
        )
        when = (at or _within_the_court_day()).isoformat()
        async with s.post(
            f"{base}/api/cases/{case_id}/schedule",
            json={"room_id": people["rooms"][0]["id"], "scheduled_at": when},
            headers=clerk,
        ) as r:
            assert r.status == 200, await r.text()
    return case_id


class Api:
    """A bearer-token client with the TestClient's call shape, for the shared flow helpers."""

    def __init__(self, session: aiohttp.ClientSession, base: str, headers: dict[str, str]):
        self.session, self.base, self.headers = session, base, headers

    async def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        sent = {**self.headers, **(headers or {})}
        return await self.session.post(f"{self.base}{path}", json=json, headers=sent)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        return await self.session.get(
            f"{self.base}{path}", headers={**self.headers, **(headers or {})}
        )

    async def ws_connect(self, path: str) -> aiohttp.ClientWebSocketResponse:
        return await self.session.ws_connect(f"{self.base}{path}", headers=self.headers)


async def record_in_session(base: str, case_id: int) -> aiohttp.ClientSession:
    """The records, with the judge and the kiosk seated in the video room (record_session);
    they stay seated, for the decision, until the returned session is closed."""
    s = aiohttp.ClientSession()
    judge = Api(s, base, await api_login(s, base, "judge"))
    kiosk = Api(s, base, await api_login(s, base, "kiosk1"))
    await record_session(judge, kiosk, case_id)  # type: ignore[arg-type]
    return s


async def test_issue_find_and_verify_in_the_browser(
    browser: Any, live_server: Any, tmp_path: Path
) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    case_id = await booked_case(base)
    judge = await login(browser, base, "judge")
    await judge.goto(f"{base}/cases/{case_id}")
    await judge.click("form[action$='/open_session'] button")
    await judge.wait_for_load_state()
    assert "在线确认中" in await judge.inner_text("h1")
    # Identity, consents and review are recorded through the API here; their pages come later.
    seats = await record_in_session(base, case_id)
    await judge.reload()
    await judge.click("form[action$='/decision'] input[value=confirm] + button")
    await judge.wait_for_load_state()
    assert "确认有效" in await judge.inner_text("h1")
    # Both parties confirm the transcript at the kiosk before the ruling is issued.
    await review_transcript(Api(seats, base, await api_login(seats, base, "kiosk1")), case_id)  # type: ignore[arg-type]
    await seats.close()
    await judge.click("form[action$='/issue'] button")
    await judge.wait_for_load_state()
    assert "裁定已出具" in await judge.inner_text("h1"), await judge.inner_text("main")
    await judge.screenshot(path=screenshot_path("judge-ruling-issued"), full_page=True)
    verify_href = await judge.get_attribute("a[href^='/verify/']", "href")
    assert verify_href

    clerk = await login(browser, base, "clerk")
    await clerk.goto(f"{base}/rulings?party=赵六")
    assert "民特" in await clerk.inner_text("table.list")
    await clerk.screenshot(path=screenshot_path("clerk-rulings"), full_page=True)
    async with clerk.expect_download() as download_info:
        await clerk.click("a[href$='/bundle.zip']")
    bundle = await download_info.value
    assert (await bundle.path()).stat().st_size > 10_000

    async with aiohttp.ClientSession() as s:
        headers = await api_login(s, base, "clerk")
        async with s.get(f"{base}/api/cases/{case_id}/ruling.pdf", headers=headers) as r:
            pdf = await r.read()
    held = tmp_path / "ruling.pdf"
    held.write_bytes(pdf)
    public = await (await browser.new_context(locale="zh-CN")).new_page()
    await public.goto(f"{base}{verify_href}")
    assert "张某" in await public.content() and "张三" not in await public.content()
    await public.set_input_files("input[name=file]", str(held))
    await public.click("button.primary")
    await public.wait_for_load_state()
    assert "完全一致" in await public.inner_text("#identical")
    assert "电子签名有效" in await public.inner_text("#signature")
    await public.screenshot(path=screenshot_path("public-verify-valid"), full_page=True)
