"""A mediator files a dispute for mediation in the browser, the committee accepts it and names
the mediator, and the 30-day limit shows on the list and on the mediation's page; then a party's
refusal ends it. At a court desk's 1366x768, every control reached with Tab."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.conftest import screenshot_path
from e2e.intake_flow import PEOPLE
from e2e.keyboard import unreachable_by_tab
from e2e.session_helpers import login

pytestmark = [pytest.mark.browser]


async def test_a_dispute_filed_accepted_and_refused_in_the_browser(
    browser: Any, live_server: Any
) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    mediator = await login(browser, base, "mediator")
    await mediator.set_viewport_size({"width": 1366, "height": 768})
    await mediator.get_by_role("link", name="调解案件").click()
    await mediator.get_by_role("link", name="登记新纠纷").click()
    await mediator.get_by_label("案由").fill("邻里纠纷")
    await mediator.get_by_label("纠纷的主要事实").fill("楼上住户装修漏水，致楼下天花板受损。")
    await mediator.get_by_label("当事人的请求").fill("要求赔偿维修费人民币5000元。")
    for i, (name, sex, born, number) in enumerate(PEOPLE):
        party = mediator.get_by_role("group", name=f"当事人 {i + 1}")
        await party.get_by_label("姓名或名称").fill(name)
        await party.get_by_label("性别").select_option(sex)
        await party.get_by_label("出生日期").fill(born)
        await party.get_by_label("民族").fill("汉族")
        await party.get_by_label("证件号码").fill(number)
        await party.get_by_label("住址").fill("深圳市光明区光明街道")
        await party.get_by_label("联系电话").fill(f"1380000000{i}")
    await mediator.screenshot(path=screenshot_path("mediation-1-filing"), full_page=True)
    await mediator.get_by_role("button", name="登记", exact=True).click()
    await mediator.wait_for_url("**/mediations/*")
    assert "待受理" in await mediator.inner_text("h1")

    await mediator.get_by_role("button", name="受理并指派").click()
    await mediator.wait_for_load_state()
    assert "已受理" in await mediator.inner_text("h1")
    assert "还剩 30 天" in await mediator.inner_text("dl")
    assert await unreachable_by_tab(mediator) == []
    await mediator.screenshot(path=screenshot_path("mediation-2-accepted-1366x768"))

    await mediator.get_by_role("link", name="调解案件").click()
    row = mediator.get_by_role("row").filter(has_text="邻里纠纷")
    assert "还剩 30 天" in await row.inner_text() and "李华" in await row.inner_text()
    assert await unreachable_by_tab(mediator) == []
    await mediator.screenshot(path=screenshot_path("mediation-3-list-1366x768"))

    await row.get_by_role("link").click()
    refusal = mediator.locator("form[action$='/refuse']")
    await refusal.get_by_label("当事人").select_option(label="赵六")
    await refusal.get_by_label("说明").fill("赵六表示不同意调解")
    await refusal.get_by_role("button", name="当事人拒绝调解").click()
    await mediator.wait_for_load_state()
    assert "当事人拒绝调解" in await mediator.inner_text("h1")
    assert await mediator.locator("#mediation-actions").count() == 0
    await mediator.screenshot(path=screenshot_path("mediation-4-refused"), full_page=True)
    assert not mediator.errors, mediator.errors
