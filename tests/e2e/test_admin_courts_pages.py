"""Courts and rooms in real Chromium: the administrator adds a court, its committee, hall and
room, moves a kiosk account into the room, is told plainly what is wrong with a court code,
and reads it all in English too. Screenshots at 1366x768 and 1920x1080."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.session_helpers import base_of, screenshot_path, session_server

pytestmark = [pytest.mark.browser]
__all__ = ["session_server"]

SIZES = ((1366, 768), (1920, 1080))


async def admin_page(browser: Any, base: str, width: int, height: int, locale: str) -> Any:
    context = await browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(f"{base}/login")
    await page.get_by_label("用户名" if locale == "zh-CN" else "User name").fill("admin")
    await page.get_by_label("密码" if locale == "zh-CN" else "Password").fill("demo")
    async with page.expect_navigation():
        await page.get_by_role("button", name="登录" if locale == "zh-CN" else "Log in").click()
    return page


async def press(page: Any, scope: Any, name: str) -> None:
    async with page.expect_navigation():
        await scope.get_by_role("button", name=name).click()


async def test_the_administrator_builds_a_court(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    page = await admin_page(browser, base, *SIZES[0], "zh-CN")
    async with page.expect_navigation():
        await page.get_by_role("link", name="法院与确认室").click()
    assert page.url == f"{base}/admin/courts"
    await page.get_by_role("heading", name="法院与确认室").wait_for()
    courts = page.get_by_role("table")
    assert "深圳市南山区人民法院" in await courts.inner_text()
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=screenshot_path(f"admin-courts-list-{width}x{height}"))

    new_court = page.locator("#new-court")
    await new_court.get_by_label("法院名称").fill("深圳市宝安区人民法院")
    await new_court.get_by_label("法院代字").fill("粤0306")
    await press(page, new_court, "添加法院")
    assert "已添加法院 深圳市宝安区人民法院" in await page.get_by_role("status").inner_text()
    await page.get_by_role("heading", name="深圳市宝安区人民法院（粤0306）").wait_for()

    for form, name, button in (
        ("#new-committee", "新安街道人民调解委员会", "添加调解委员会"),
        ("#new-hall", "新安社区", "添加服务大厅"),
        ("#new-room", "新安社区在线司法确认室", "添加确认室"),
    ):
        scope = page.locator(form)
        await scope.get_by_label("名称").fill(name)
        await press(page, scope, button)
        assert name in await page.get_by_role("status").inner_text()
    # the court's only committee and hall were chosen for the new hall and room
    rooms = page.get_by_role("table").filter(has_text="终端账户")
    row = rooms.get_by_role("row").filter(has_text="新安社区在线司法确认室")
    assert "新安社区" in await row.inner_text() and "—" in await row.inner_text()

    bind = page.locator("#bind-kiosk")
    await bind.get_by_label("终端账户（现在的确认室）").select_option(
        label="kiosk_ns1（南头社区在线司法确认室）"
    )
    await bind.get_by_label("绑定到确认室").select_option(label="新安社区在线司法确认室")
    await press(page, bind, "绑定终端")
    assert (
        "已将终端 kiosk_ns1 绑定到 新安社区在线司法确认室"
        in await page.get_by_role("status").inner_text()
    )
    assert "kiosk_ns1" in await row.inner_text()

    # A wrong code is refused and said so, the edit form open with what was typed.
    await page.get_by_text("修改名称或代字").click()
    edit = page.locator("details[open]")
    await edit.get_by_label("法院代字").fill("粤03")
    await press(page, edit, "保存")
    assert "法院代字须为省级简称加四位数字" in await page.get_by_role("alert").inner_text()
    assert await page.locator("details[open]").get_by_label("法院代字").input_value() == "粤03"
    await page.screenshot(path=screenshot_path("admin-court-code-refused"))

    await page.goto(f"{base}/admin/courts")
    async with page.expect_navigation():
        await page.get_by_role("link", name="深圳市光明区人民法院").click()
    await page.get_by_role("heading", name="深圳市光明区人民法院（粤0311）").wait_for()
    assert await page.get_by_role("row").filter(has_text="kiosk8").count() == 1
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=screenshot_path(f"admin-court-rooms-{width}x{height}"))
        await page.screenshot(
            path=screenshot_path(f"admin-court-rooms-{width}x{height}-full"), full_page=True
        )
    await page.get_by_role("row").filter(has_text="kiosk1").get_by_text("修改").click()
    await page.screenshot(path=screenshot_path("admin-court-rooms-edit-open"), full_page=True)

    english = await admin_page(browser, base, *SIZES[0], "en-US")
    await english.goto(f"{base}/admin/courts")
    await english.get_by_role("heading", name="Courts and rooms").wait_for()
    await english.get_by_role("link", name="深圳市宝安区人民法院").click()
    await english.get_by_role("heading", name="Confirmation rooms").wait_for()
    await english.screenshot(path=screenshot_path("admin-court-rooms-en"), full_page=True)

    for each in (page, english):
        assert each.errors == [], each.errors
