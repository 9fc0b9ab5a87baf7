"""The accounts console in real Chromium: the administrator adds a clerk, resets its password and
deactivates it, each change felt at once by the clerk's own browser; English; and a user
changing their own password from the header link."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.session_helpers import LOCALE, base_of, login, screenshot_path, session_server

pytestmark = [pytest.mark.browser]
__all__ = ["session_server"]

ROW = "tr[data-username='clerk_new']"


async def submit(page: Any, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_the_administrator_manages_a_clerk_account(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    admin = await login(browser, base, "admin")
    assert admin.url == f"{base}/admin/accounts", admin.url
    assert await admin.inner_text("h1") == "账户管理"
    assert "确认室终端" in await admin.inner_text("table.accounts")
    # the administrator's own row offers neither deactivation nor a reset
    assert await admin.locator("tr[data-username='admin'] form").count() == 0
    await admin.screenshot(path=screenshot_path("admin-accounts-1-list"), full_page=True)

    # Only the binding the chosen role needs is shown.
    await admin.select_option("#new-account select[name=role]", "kiosk")
    assert await admin.is_visible("#new-account select[name=room]")
    assert not await admin.is_visible("#new-account select[name=court]")
    await admin.select_option("#new-account select[name=role]", "clerk")
    assert await admin.is_visible("#new-account select[name=court]")
    assert not await admin.is_visible("#new-account select[name=room]")
    assert not await admin.is_visible("#new-account select[name=committee]")
    # two courts: none is chosen for the administrator
    assert await admin.input_value("#new-account select[name=court]") == ""
    await admin.select_option("#new-account select[name=court]", "粤0311")
    await admin.fill("#new-account input[name=username]", "clerk_new")
    await admin.fill("#new-account input[name=display_name]", "赵敏")
    await admin.fill("#new-account input[name=password]", "clerk-new-first")
    await admin.fill("#new-account input[name=password_repeat]", "clerk-new-first")
    await admin.locator("#new-account").screenshot(path=screenshot_path("admin-accounts-2-form"))
    await submit(admin, "#new-account button.primary")
    assert "已添加账户 clerk_new" in await admin.inner_text(".notice")
    row = await admin.inner_text(ROW)
    assert "赵敏" in row and "书记员" in row and "深圳市光明区人民法院" in row and "启用" in row
    await admin.screenshot(path=screenshot_path("admin-accounts-3-added"), full_page=True)

    clerk = await login(browser, base, "clerk_new", password="clerk-new-first")
    assert clerk.url == f"{base}/intake", clerk.url
    assert "赵敏" in await clerk.inner_text("header .who")

    # A reset with two different passwords is refused and says so, the row's form open.
    await admin.click(f"{ROW} details.reset summary")
    await admin.fill(f"{ROW} input[name=password]", "clerk-new-second")
    await admin.fill(f"{ROW} input[name=password_repeat]", "clerk-new-typo")
    await submit(admin, f"{ROW} details.reset button")
    assert "两次输入的密码不一致" in await admin.inner_text(".alert")
    assert await admin.is_visible(f"{ROW} input[name=password]")
    await admin.fill(f"{ROW} input[name=password]", "clerk-new-second")
    await admin.fill(f"{ROW} input[name=password_repeat]", "clerk-new-second")
    await submit(admin, f"{ROW} details.reset button")
    assert "已重置 clerk_new 的密码" in await admin.inner_text(".notice")
    await admin.screenshot(path=screenshot_path("admin-accounts-4-reset"), full_page=True)
    await clerk.reload()
    assert "/login" in clerk.url, clerk.url  # the old session ended with the reset
    clerk = await login(browser, base, "clerk_new", password="clerk-new-second")
    assert clerk.url == f"{base}/intake", clerk.url

    await submit(admin, f"{ROW} button.deactivate")
    assert "已停用账户 clerk_new" in await admin.inner_text(".notice")
    assert "已停用" in await admin.inner_text(ROW)
    assert await admin.locator(f"{ROW} button.reactivate").count() == 1
    await admin.screenshot(path=screenshot_path("admin-accounts-5-deactivated"), full_page=True)
    await clerk.reload()
    assert "/login" in clerk.url, clerk.url
    refused = await login(browser, base, "clerk_new", password="clerk-new-second")
    assert "/login" in refused.url and "用户名或密码错误" in await refused.inner_text(".alert")

    english = await login(browser, base, "admin", LOCALE["en"])
    await english.goto(f"{base}/admin/accounts?role=clerk")
    assert await english.inner_text("h1") == "Accounts"
    row = await english.inner_text(ROW)
    assert "Clerk" in row and "Deactivated" in row
    await english.screenshot(path=screenshot_path("admin-accounts-6-en"), full_page=True)

    for page in (admin, clerk, refused, english):
        assert page.errors == [], page.errors


async def test_a_user_changes_their_own_password(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    judge = await login(browser, base, "judge")
    await judge.click("header a[href='/account/password']")
    await judge.wait_for_load_state()
    assert judge.url == f"{base}/account/password"
    assert not await judge.is_visible("input[name=username]")  # kept for password managers only
    await judge.fill("input[name=current_password]", "demo")
    await judge.fill("input[name=new_password]", "judge-own-new")
    await judge.fill("input[name=new_password_repeat]", "judge-own-new")
    await submit(judge, "form.account-password button.primary")
    assert "密码已修改" in await judge.inner_text(".notice")
    await judge.screenshot(path=screenshot_path("account-password-changed"), full_page=True)
    await judge.goto(f"{base}/docket")  # this session stays
    assert judge.url == f"{base}/docket"

    again = await login(browser, base, "judge", password="judge-own-new")
    assert again.url == f"{base}/docket", again.url
    kiosk = await login(browser, base, "kiosk1")
    assert await kiosk.locator("header a[href='/account/password']").count() == 0
    for page in (judge, again, kiosk):
        assert page.errors == [], page.errors
