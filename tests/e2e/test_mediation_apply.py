"""A party applies for mediation on their own phone (390x844), with no account: the code comes
by SMS (read here from the outbox the gateway sends from), and the filing is confirmed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from app.keys import SERVICES
from app.store.models import SmsOutbox

from e2e.conftest import screenshot_path
from e2e.intake_flow import PEOPLE

pytestmark = [pytest.mark.browser]


async def test_a_party_applies_on_their_phone(browser: Any, live_server: Any) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    context = await browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone = await context.new_page()
    await phone.goto(f"{base}/mediation/apply")
    await phone.get_by_label("案由").fill("邻里纠纷")
    await phone.get_by_label("纠纷的主要事实").fill("楼上住户装修漏水，致楼下天花板受损。")
    await phone.get_by_label("您的请求").fill("要求赔偿维修费人民币5000元。")
    for legend, (name, sex, born, number), mobile in zip(
        ("您本人（当事人）", "对方当事人"), PEOPLE, ("13800000001", "13800000002"), strict=True
    ):
        party = phone.get_by_role("group", name=legend)
        await party.get_by_label("姓名或名称").fill(name)
        await party.get_by_label("性别").select_option(sex)
        await party.get_by_label("出生日期").fill(born)
        await party.get_by_label("民族").fill("汉族")
        await party.get_by_label("证件号码").fill(number)
        await party.get_by_label("住址").fill("深圳市光明区光明街道")
        await party.get_by_label("联系电话").fill(mobile)
    await phone.get_by_label("您本人的手机号码").fill("13800000001")
    await phone.get_by_role("button", name="获取短信验证码").click()
    await phone.get_by_role("status").filter(has_text="验证码已发送至 138****0001").wait_for()
    await phone.screenshot(path=screenshot_path("mediation-apply-1-code-390x844"))

    db = live_server.app[SERVICES].db
    async with db.transaction() as session:
        text = await session.scalar(select(SmsOutbox.body).order_by(SmsOutbox.id.desc()))
    code = re.search(r"验证码为(\d{6})", text or "")
    assert code is not None, text
    await phone.get_by_label("短信验证码").fill(code.group(1))
    await phone.get_by_role("button", name="提交调解申请").click()
    done = phone.get_by_role("status").filter(has_text="申请已提交")
    await done.wait_for()
    await phone.screenshot(path=screenshot_path("mediation-apply-2-filed-390x844"))
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
