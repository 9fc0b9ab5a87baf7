"""A mediator files an application in the browser; the clerk accepts and schedules it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from reportlab.pdfgen import canvas

from app.domain.clock import COURT_TZ
from app.services.demo import with_check_digit

from e2e.conftest import screenshot_path

pytestmark = [pytest.mark.browser]


def agreement_pdf(tmp: Path) -> Path:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "Mediation agreement")
    page.save()
    path = tmp / "agreement.pdf"
    path.write_bytes(buffer.getvalue())
    return path


async def login(context: Any, base: str, username: str) -> Any:
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", "demo")
    await page.click("button.primary")
    await page.wait_for_load_state()
    return page


async def test_application_to_schedule(browser: Any, live_server: Any, tmp_path: Path) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    mediator = await login(await browser.new_context(locale="zh-CN"), base, "mediator")
    await mediator.goto(f"{base}/cases/new")
    today = dt.datetime.now(COURT_TZ).date()
    await mediator.fill("input[name=dispute_type]", "人身损害赔偿纠纷")
    await mediator.fill("input[name=agreement_date]", (today - dt.timedelta(days=2)).isoformat())
    await mediator.fill("textarea[name=terms]", "赵六赔偿张三人民币三万元。\n双方再无争议。")
    people = [
        ("张三", "male", "1980-05-12", with_check_digit("44031119800512001")),
        ("赵六", "female", "1975-09-03", with_check_digit("44031119750903002")),
    ]
    for i, (name, sex, born, number) in enumerate(people):
        await mediator.fill(f"input[name=a{i}_name]", name)
        await mediator.select_option(f"select[name=a{i}_sex]", sex)
        await mediator.fill(f"input[name=a{i}_birth_date]", born)
        await mediator.fill(f"input[name=a{i}_ethnicity]", "汉族")
        await mediator.fill(f"input[name=a{i}_id_number]", number)
        await mediator.fill(f"input[name=a{i}_address]", "深圳市光明区光明街道")
        await mediator.fill(f"input[name=a{i}_phone]", f"1380000000{i}")
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
    await mediator.fill("input[name=a0_id_number]", people[0][3])
    await mediator.fill("input[name=a1_id_number]", people[1][3])
    await mediator.click("button.primary.big")
    await mediator.wait_for_url("**/cases/*")
    case_url = mediator.url
    # The full ID number never reaches the page; its masked form does.
    content = await mediator.content()
    assert people[0][3] not in content
    assert people[0][3][:4] + "*" * 10 + people[0][3][-4:] in content

    await mediator.set_input_files("input[name=file]", str(agreement_pdf(tmp_path)))
    await mediator.click("form[action$='/materials'] button")
    await mediator.wait_for_load_state()
    assert "agreement.pdf" in await mediator.content()
    await mediator.click("form[action$='/submit'] button")
    await mediator.wait_for_load_state()
    assert "已提交" in await mediator.inner_text("h1")
    await mediator.screenshot(path=screenshot_path("mediator-case-submitted"), full_page=True)

    clerk = await login(await browser.new_context(locale="zh-CN"), base, "clerk")
    await clerk.goto(f"{base}/intake")
    await clerk.screenshot(path=screenshot_path("clerk-intake"), full_page=True)
    await clerk.goto(case_url)
    await clerk.click("form[action$='/accept'] button")
    await clerk.wait_for_load_state()
    heading = await clerk.inner_text("h1")
    assert f"（{today.year}）粤0311民特1号" in heading
    when = dt.datetime.now(COURT_TZ) + dt.timedelta(hours=2)
    await clerk.fill("input[name=scheduled_at]", when.strftime("%Y-%m-%dT%H:%M"))
    await clerk.click("form[action$='/schedule'] button")
    await clerk.wait_for_load_state()
    assert "已排期" in await clerk.inner_text("h1")
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
