"""Kiosk mode: the room's public screen offers no log-out and no language link; the
administrator logs a kiosk out from the accounts console (audited), and nobody else can."""

from __future__ import annotations

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import ok
from integration.test_admin_accounts import account_events, cookie_login, page_csrf


async def test_the_kiosk_header_offers_neither_log_out_nor_language(sifa: Sifa) -> None:
    kiosk = await cookie_login(sifa, "kiosk1")
    page = await (await kiosk.get("/kiosk")).text()
    header = page.split("</header>")[0]
    assert 'action="/logout"' not in header and "/lang?to=" not in header
    # The language is chosen on the idle screen, before a session starts.
    assert 'href="/lang?to=en&amp;next=/kiosk"' in page
    clerk = await cookie_login(sifa, "clerk")
    header = (await (await clerk.get("/intake")).text()).split("</header>")[0]
    assert 'action="/logout"' in header and "/lang?to=" in header


async def test_the_administrator_logs_a_kiosk_out(sifa: Sifa) -> None:
    kiosk = await cookie_login(sifa, "kiosk1")
    assert (await kiosk.get("/kiosk", allow_redirects=False)).status == 200
    admin = await cookie_login(sifa, "admin")
    page, csrf = await page_csrf(admin, "/admin/accounts?role=kiosk")
    accounts = await ok(await (await sifa.as_user("admin")).get("/api/admin/accounts"))
    kiosk_id = next(a["id"] for a in accounts["accounts"] if a["username"] == "kiosk1")
    assert f'action="/admin/accounts/{kiosk_id}/logout"' in page and "退出其登录" in page
    done = await admin.post(
        f"/admin/accounts/{kiosk_id}/logout", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert done.status == 303
    shown = await (await admin.get(done.headers["Location"])).text()
    assert "已退出 kiosk1 的所有登录" in shown
    gone = await kiosk.get("/kiosk", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"].startswith("/login")
    # The account itself is untouched: it logs in again with its password.
    again = await cookie_login(sifa, "kiosk1")
    assert (await again.get("/kiosk", allow_redirects=False)).status == 200
    events = [e for e in await account_events(sifa) if e.action == "account.logged_out"]
    assert len(events) == 1 and '"sessions_ended":1' in events[0].details


async def test_only_an_administrator_logs_anyone_out(sifa: Sifa) -> None:
    admin = await sifa.as_user("admin")
    me = await ok(await admin.get("/api/me"))
    await error_of(
        await admin.post(f"/api/admin/accounts/{me['id']}/logout", json={}), 403, "own_account"
    )
    clerk = await sifa.as_user("clerk")
    assert (await clerk.post(f"/api/admin/accounts/{me['id']}/logout", json={})).status == 403
    await error_of(await admin.post("/api/admin/accounts/99999/logout", json={}), 404, "not_found")
