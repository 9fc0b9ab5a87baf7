"""A mediator files an application in the browser; the clerk accepts and schedules it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from app.domain.clock import COURT_TZ

from e2e.conftest import screenshot_path
from e2e.intake_flow import PEOPLE, accept_and_schedule, fill_application, save_upload_submit
from e2e.session_helpers import sign_in

pytestmark = [pytest.mark.browser]


async def login(context: Any, base: str, username: str) -> Any:
    page = await context.new_page()
    await sign_in(page, base, username)
    return page


async def test_application_to_schedule(browser: Any, live_server: Any, tmp_path: Path) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    mediator = await login(await browser.new_context(locale="zh-CN"), base, "mediator")
    await fill_application(mediator, base)
    today = dt.datetime.now(COURT_TZ).date()
    await mediator.screenshot(path=screenshot_path("mediator-new-application"), full_page=True)
    # A character the court's font lacks is refused on the form, in Chinese, data kept.
    await mediator.fill("input[name=a0_name]", "张𪚥")
    await mediator.click("button.primary.big")
    await mediator.wait_for_selector("div.alert")
    alert = await mediator.inner_text("div.alert")
    assert "无法在文书中印出" in alert and "𪚥" in alert and "Cannot be printed" not in alert
    assert await mediator.input_value("input[name=a1_name]") == "赵六"
    await mediator.screenshot(path=screenshot_path("mediator-unprintable-name"), full_page=True)
    await mediator.fill("input[name=a0_name]", "张三")
    await mediator.fill("input[name=a0_id_number]", PEOPLE[0][3])
    await mediator.fill("input[name=a1_id_number]", PEOPLE[1][3])
    case_url = await save_upload_submit(mediator, tmp_path)
    # The full ID number never reaches the page; its masked form does.
    content = await mediator.content()
    assert PEOPLE[0][3] not in content
    assert PEOPLE[0][3][:4] + "*" * 10 + PEOPLE[0][3][-4:] in content
    await mediator.screenshot(path=screenshot_path("mediator-case-submitted"), full_page=True)

    clerk = await login(await browser.new_context(locale="zh-CN"), base, "clerk")
    await clerk.goto(f"{base}/intake")
    await clerk.screenshot(path=screenshot_path("clerk-intake"), full_page=True)
    when = dt.datetime.now(COURT_TZ) + dt.timedelta(hours=2)
    await accept_and_schedule(clerk, case_url, when)
    assert f"（{today.year}）粤0311民特1号" in await clerk.inner_text("h1")
    await clerk.screenshot(path=screenshot_path("clerk-case-scheduled"), full_page=True)

    # The same page in English.
    await clerk.goto(f"{base}/lang?to=en&next=/intake")
    assert "Intake" in await clerk.inner_text("h1")
    await clerk.screenshot(path=screenshot_path("clerk-intake-en"), full_page=True)

    judge = await login(await browser.new_context(locale="zh-CN"), base, "judge")
    assert f"（{today.year}）粤0311民特1号" in await judge.content()
    await judge.screenshot(path=screenshot_path("judge-docket"), full_page=True)

    kiosk = await login(await browser.new_context(locale="zh-CN"), base, "kiosk1")
    await kiosk.screenshot(path=screenshot_path("kiosk-idle"), full_page=True)
    assert "张三" in await kiosk.content() or when.date() != today


async def test_wrong_password_page_in_each_language(browser: Any, live_server: Any) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    for locale, expected in (("zh-CN", "用户名或密码错误"), ("en-US", "Wrong user name")):
        page = await (await browser.new_context(locale=locale)).new_page()
        await page.goto(f"{base}/login")
        await page.fill("input[name=username]", "clerk")
        await page.fill("input[name=password]", "wrong")
        await page.click("button.primary")
        assert expected in await page.inner_text(".alert")
        await page.goto(f"{base}/intake")
        assert "/login" in page.url
