"""The administrator's accounts console through the real app: adding each role with its binding,
deactivating a leaver, resetting a forgotten password, changing one's own; sessions that end at
once; the audit trail without password material; and everyone else kept out."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from app.keys import SERVICES
from app.services import audit
from app.store.models import Account, AuditEvent, LoginSession

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import ok
from integration.test_transcript_archive import sifa_on

__all__ = ["sifa_on"]

ROOM = "光明社区在线司法确认室一"
COMMITTEE = "光明街道人民调解委员会"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Every password these tests type: none may ever reach the audit log.
PASSWORDS = (
    "judge2-first-pass",
    "clerk2-first-pass",
    "mediator2-first-pass",
    "kiosk9-first-pass",
    "admin2-first-pass",
    "leaver-first-pass",
    "leaver-reset-pass",
    "clerk-own-new-pass",
    "mediator-own-new-pass",
    "page-clerk-pass",
)


async def new_account(admin: TestClient, **body: Any) -> aiohttp.ClientResponse:
    return await admin.post("/api/admin/accounts", json=body)


async def login_status(sifa: Sifa, username: str, password: str) -> int:
    client = await sifa.make_client(sifa.app)
    response = await client.post("/api/login", json={"username": username, "password": password})
    return response.status


async def account_events(sifa: Sifa) -> list[AuditEvent]:
    """Account changes after the demo data was loaded."""
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.like("account.%"), AuditEvent.actor != "demo")
            .order_by(AuditEvent.seq)
        )
        return list(rows)


async def assert_no_password_material(sifa: Sifa) -> None:
    async with sifa.app[SERVICES].db.transaction() as session:
        details = list(await session.scalars(select(AuditEvent.details)))
        report = await audit.verify(session)
    assert report.intact, report
    for text in details:
        assert "argon2" not in text, text
        for password in PASSWORDS:
            assert password not in text, (password, text)


async def sessions_of(sifa: Sifa, username: str) -> int:
    async with sifa.app[SERVICES].db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(LoginSession)
            .join(Account, Account.id == LoginSession.account_id)
            .where(Account.username == username)
        )
    return int(count or 0)


async def cookie_login(sifa: Sifa, username: str, password: str = "demo") -> TestClient:
    """A browser-like client: logged in through the login form, holding the session cookie."""
    client: TestClient = await sifa.make_client(sifa.app)
    response = await client.post(
        "/login", data={"username": username, "password": password}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    return client


async def page_csrf(client: TestClient, path: str) -> tuple[str, str]:
    response = await client.get(path)
    page = await response.text()
    assert response.status == 200, page
    match = CSRF.search(page)
    assert match, page
    return page, match.group(1)


async def test_each_role_is_added_with_the_binding_it_needs(sifa: Sifa) -> None:
    admin = await sifa.as_user("admin")
    listing = await ok(await admin.get("/api/admin/accounts"))
    before = len(listing["accounts"])
    assert {"admin", "clerk", "kiosk8"} <= {a["username"] for a in listing["accounts"]}
    # the demo's two courts, 南山 (粤0305) before 光明 (粤0311)
    assert listing["bindings"]["courts"] == [
        {"code": "粤0305", "name": "深圳市南山区人民法院"},
        {"code": "粤0311", "name": "深圳市光明区人民法院"},
    ]
    assert listing["bindings"]["committees"] == [COMMITTEE, "南头街道人民调解委员会"]
    assert {"name": ROOM, "hall": "光明社区"} in listing["bindings"]["rooms"]

    wanted = [
        ("judge2", "judge", {"court": "粤0311"}, "court_name", "深圳市光明区人民法院"),
        ("clerk2", "clerk", {"court": "粤0311"}, "court_name", "深圳市光明区人民法院"),
        ("mediator2", "mediator", {"committee": COMMITTEE}, "committee", COMMITTEE),
        ("kiosk9", "kiosk", {"room": ROOM}, "room", ROOM),
        ("admin2", "admin", {}, "room", None),
    ]
    for username, role, binding, key, bound_to in wanted:
        created = await ok(
            await new_account(
                admin,
                username=username,
                display_name=f"{username} 新同事",
                role=role,
                password=f"{username}-first-pass",
                **binding,
            ),
            201,
        )
        assert (created["role"], created["active"], created[key]) == (role, True, bound_to)
        assert created["display_name"] == f"{username} 新同事"
        member = await sifa.as_user(username, f"{username}-first-pass")
        me = await ok(await member.get("/api/me"))
        assert (me["username"], me["role"]) == (username, role)

    kiosks = await ok(await admin.get("/api/admin/accounts", params={"role": "kiosk"}))
    assert {a["role"] for a in kiosks["accounts"]} == {"kiosk"}
    assert len(kiosks["accounts"]) == 10  # kiosk1 … kiosk8, 南山's kiosk_ns1, kiosk9
    await error_of(
        await admin.get("/api/admin/accounts", params={"role": "system"}), 422, "validation_failed"
    )

    refused = [
        ({"username": "kiosk10", "role": "kiosk"}, "room"),
        ({"username": "kiosk10", "role": "kiosk", "room": "没有这个确认室"}, "room"),
        ({"username": "judge3", "role": "judge"}, "court"),
        ({"username": "judge3", "role": "judge", "court": "粤9999"}, "court"),
        ({"username": "clerk3", "role": "clerk", "committee": COMMITTEE}, "court"),
        ({"username": "mediator3", "role": "mediator", "court": "粤0311"}, "committee"),
        ({"username": "bad name!", "role": "admin"}, "username"),
        ({"username": "system2", "role": "system"}, "role"),
        ({"username": "short", "role": "admin", "password": "seven77"}, "password"),
    ]
    for body, field in refused:
        error = await error_of(
            await new_account(admin, **{"password": "long-enough-pass", **body}),
            422,
            "validation_failed",
        )
        assert field in {f["field"] for f in error["fields"]}, (body, error)
        assert " / " in error["fields"][0]["problem"], error  # 中文 / English
    error = await error_of(
        await new_account(
            admin, username="clerk", role="clerk", court="粤0311", password="long-enough-pass"
        ),
        409,
        "username_taken",
    )
    assert "clerk" in error["message"]
    await error_of(
        await new_account(admin, username="nopass", role="admin"), 422, "validation_failed"
    )
    after = await ok(await admin.get("/api/admin/accounts"))
    assert len(after["accounts"]) == before + len(wanted)

    created = [e for e in await account_events(sifa) if e.actor == "admin"]
    assert [e.action for e in created] == ["account.created"] * len(wanted)
    assert '"username":"kiosk9"' in created[3].details and '"role":"kiosk"' in created[3].details
    assert all(e.case_id is None for e in created)
    await assert_no_password_material(sifa)


async def test_deactivation_and_reset_end_the_sessions_at_once(sifa_on: Sifa) -> None:
    """On SQLite and PostgreSQL: a leaver's bearer token and cookie stop working with the
    change that deactivates them; a reset password logs everyone out of the account."""
    sifa = sifa_on
    admin = await sifa.as_user("admin")
    leaver = await ok(
        await new_account(
            admin, username="leaver", role="clerk", court="粤0311", password="leaver-first-pass"
        ),
        201,
    )
    bearer = await sifa.as_user("leaver", "leaver-first-pass")
    browser = await cookie_login(sifa, "leaver", "leaver-first-pass")
    assert (await bearer.get("/api/me")).status == 200
    assert (await browser.get("/intake", allow_redirects=False)).status == 200
    assert await sessions_of(sifa, "leaver") == 2

    url = f"/api/admin/accounts/{leaver['id']}"
    off = await ok(await admin.post(f"{url}/active", json={"active": False}))
    assert off["active"] is False
    await error_of(await bearer.get("/api/me"), 401, "unauthenticated")
    page = await browser.get("/intake", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"].startswith("/login")
    assert await sessions_of(sifa, "leaver") == 0
    assert await login_status(sifa, "leaver", "leaver-first-pass") == 401
    # asked again: nothing changes and nothing more is recorded
    assert (await ok(await admin.post(f"{url}/active", json={"active": False})))["active"] is False

    on = await ok(await admin.post(f"{url}/active", json={"active": True}))
    assert on["active"] is True
    again = await sifa.as_user("leaver", "leaver-first-pass")
    assert (await again.get("/api/me")).status == 200

    await error_of(
        await admin.post(f"{url}/password", json={"password": "short"}), 422, "validation_failed"
    )
    assert (await again.get("/api/me")).status == 200  # a refused reset changes nothing
    await ok(await admin.post(f"{url}/password", json={"password": "leaver-reset-pass"}))
    await error_of(await again.get("/api/me"), 401, "unauthenticated")
    assert await login_status(sifa, "leaver", "leaver-first-pass") == 401
    assert await login_status(sifa, "leaver", "leaver-reset-pass") == 200

    await error_of(
        await admin.post("/api/admin/accounts/99999/active", json={"active": False}),
        404,
        "not_found",
    )
    await error_of(
        await admin.post(f"{url}/active", json={"active": "no"}), 422, "validation_failed"
    )

    events = [e for e in await account_events(sifa) if '"username":"leaver"' in e.details]
    assert [(e.actor, e.action) for e in events] == [
        ("admin", "account.created"),
        ("admin", "account.deactivated"),
        ("admin", "account.reactivated"),
        ("admin", "account.password_reset"),
    ]
    assert '"sessions_ended":2' in events[1].details
    assert '"sessions_ended":1' in events[3].details
    assert all('"role":"clerk"' in e.details and e.case_id is None for e in events)
    await assert_no_password_material(sifa)


async def test_the_administrator_cannot_lock_themself_out(sifa: Sifa) -> None:
    admin = await sifa.as_user("admin")
    me = await ok(await admin.get("/api/me"))
    url = f"/api/admin/accounts/{me['id']}"
    await error_of(await admin.post(f"{url}/active", json={"active": False}), 403, "own_account")
    await error_of(
        await admin.post(f"{url}/password", json={"password": "admin-new-pass"}), 403, "own_account"
    )
    # the console's own row offers neither, and a forged form is refused the same way
    page, _ = await page_csrf(await cookie_login(sifa, "admin"), "/admin/accounts")
    assert f'action="/admin/accounts/{me["id"]}/active"' not in page
    forged = await admin.post(f"/admin/accounts/{me['id']}/active", data={"active": "0"})
    assert forged.status == 403 and "不能停用自己的账户" in await forged.text()
    assert (await admin.get("/api/me")).status == 200
    assert await login_status(sifa, "admin", "demo") == 200
    assert await account_events(sifa) == []


async def test_changing_ones_own_password(sifa: Sifa) -> None:
    here = await sifa.as_user("clerk")
    elsewhere = await sifa.as_user("clerk")
    url = "/api/account/password"
    for body, field in (
        (
            {"current_password": "wrong-one", "new_password": "clerk-own-new-pass"},
            "current_password",
        ),
        ({"current_password": "demo", "new_password": "short"}, "new_password"),
        ({"new_password": "clerk-own-new-pass"}, "current_password"),
    ):
        error = await error_of(await here.post(url, json=body), 422, "validation_failed")
        assert [f["field"] for f in error["fields"]] == [field], error
    # A wrong current password counts like a failed login (a stolen session must not become a
    # way to guess it): three are free, the fourth (with the one above) starts the delays. The
    # account's logins are throttled per address and are not locked by it.
    wrong = {"current_password": "guess", "new_password": "clerk-own-new-pass"}
    for _ in range(3):
        await error_of(await here.post(url, json=wrong), 422, "validation_failed")
    await error_of(await here.post(url, json=wrong), 429, "too_many_attempts")
    assert await login_status(sifa, "clerk", "demo") == 200
    assert (await elsewhere.get("/api/me")).status == 200  # nobody is logged out by guessing
    sifa.clock.now += dt.timedelta(seconds=3)

    changed = await ok(
        await here.post(
            url, json={"current_password": "demo", "new_password": "clerk-own-new-pass"}
        )
    )
    assert changed == {"ok": True, "sessions_ended": 2}  # `elsewhere` and the login above
    assert (await here.get("/api/me")).status == 200  # the session that changed it stays
    await error_of(await elsewhere.get("/api/me"), 401, "unauthenticated")
    assert await login_status(sifa, "clerk", "demo") == 401
    assert await login_status(sifa, "clerk", "clerk-own-new-pass") == 200

    # through the page: a cookie session, its CSRF token, the password typed twice
    browser = await cookie_login(sifa, "mediator")
    _, csrf = await page_csrf(browser, "/account/password")
    form = {
        "current_password": "demo",
        "new_password": "mediator-own-new-pass",
        "new_password_repeat": "mediator-own-new-pass",
    }
    forged = await browser.post("/account/password", data=form)
    assert forged.status == 403 and "页面已过期" in await forged.text()
    differ = await browser.post(
        "/account/password",
        data={**form, "csrf_token": csrf, "new_password_repeat": "mediator-typo-pass"},
    )
    page = await differ.text()
    assert differ.status == 422 and "两次输入的密码不一致" in page
    assert "mediator-own-new-pass" not in page  # never typed back into the page
    done = await browser.post(
        "/account/password", data={**form, "csrf_token": csrf}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == "/account/password?done=changed"
    assert "密码已修改" in await (await browser.get(done.headers["Location"])).text()
    assert await login_status(sifa, "mediator", "mediator-own-new-pass") == 200

    events = await account_events(sifa)
    assert [(e.actor, e.action) for e in events] == [
        *[("clerk", "account.password_change_failed")] * 4,
        ("clerk", "account.password_changed"),
        ("mediator", "account.password_changed"),
    ]
    assert '"role":"clerk"' in events[0].details and '"username":"clerk"' in events[0].details
    await assert_no_password_material(sifa)


async def test_the_console_page_adds_and_refuses_through_its_forms(sifa: Sifa) -> None:
    browser = await cookie_login(sifa, "admin")
    home = await browser.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/admin/accounts"
    page, csrf = await page_csrf(browser, "/admin/accounts")
    assert "确认室终端" in page and "深圳市光明区人民法院" in page and ROOM in page
    form = {
        "csrf_token": csrf,
        "username": "page_clerk",
        "display_name": "赵书记员",
        "role": "clerk",
        "court": "粤0311",
        "committee": COMMITTEE,
        "room": "",
        "password": "page-clerk-pass",
        "password_repeat": "page-clerk-pass",
    }
    added = await browser.post("/admin/accounts", data=form, allow_redirects=False)
    assert added.status == 303, await added.text()
    shown = await (await browser.get(added.headers["Location"])).text()
    assert "已添加账户 page_clerk" in shown and "赵书记员" in shown
    assert await login_status(sifa, "page_clerk", "page-clerk-pass") == 200

    taken = await browser.post("/admin/accounts", data=form)
    assert taken.status == 409 and "已被使用" in await taken.text()
    kiosk = {**form, "username": "kiosk_new", "role": "kiosk"}
    no_room = await browser.post("/admin/accounts", data=kiosk)
    page = await no_room.text()
    assert no_room.status == 422 and "终端须属于一个确认室" in page
    assert 'value="kiosk_new"' in page and "page-clerk-pass" not in page
    differ = await browser.post(
        "/admin/accounts", data={**kiosk, "room": ROOM, "password_repeat": "page-clerk-typo"}
    )
    assert differ.status == 422 and "两次输入的密码不一致" in await differ.text()
    english = await browser.get("/admin/accounts", params={"lang": "en", "role": "kiosk"})
    text = await english.text()
    assert "Room kiosk" in text and "Deactivate" in text and "Clerk</td>" not in text
    assert english.headers["Cache-Control"] == "no-store"


async def test_only_administrators_reach_the_console(sifa: Sifa) -> None:
    admin = await sifa.as_user("admin")
    target = next(
        a
        for a in (await ok(await admin.get("/api/admin/accounts")))["accounts"]
        if a["username"] == "kiosk2"
    )
    body = {"username": "intruder", "role": "admin", "password": "intruder-pass"}
    api_calls = [
        ("get", "/api/admin/accounts", None),
        ("post", "/api/admin/accounts", body),
        ("post", f"/api/admin/accounts/{target['id']}/active", {"active": False}),
        ("post", f"/api/admin/accounts/{target['id']}/password", {"password": "intruder-pass"}),
    ]
    page_calls = [
        ("get", "/admin/accounts", None),
        ("post", "/admin/accounts", {**body, "password_repeat": "intruder-pass"}),
        ("post", f"/admin/accounts/{target['id']}/active", {"active": "0"}),
        (
            "post",
            f"/admin/accounts/{target['id']}/password",
            {"password": "intruder-pass", "password_repeat": "intruder-pass"},
        ),
    ]
    for username in ("mediator", "clerk", "judge", "kiosk1"):
        client = await sifa.as_user(username)
        for method, path, data in api_calls:
            response = await getattr(client, method)(path, json=data)
            await error_of(response, 403, "forbidden")
        for method, path, data in page_calls:
            response = await getattr(client, method)(path, data=data, allow_redirects=False)
            assert response.status == 403, (username, method, path)
            assert "只有管理员可以管理账户" in await response.text()

    kiosk = await sifa.as_user("kiosk1")
    assert (await kiosk.get("/account/password")).status == 403
    await error_of(
        await kiosk.post(
            "/api/account/password", json={"current_password": "demo", "new_password": "k" * 10}
        ),
        403,
        "forbidden",
    )
    assert await login_status(sifa, "kiosk1", "demo") == 200

    anonymous = await sifa.make_client(sifa.app)
    for method, path, data in [
        *api_calls,
        ("post", "/api/account/password", {"current_password": "x", "new_password": "y" * 9}),
    ]:
        response = await getattr(anonymous, method)(path, json=data)
        await error_of(response, 401, "unauthenticated")
    for path in ("/admin/accounts", "/account/password"):
        response = await anonymous.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == f"/login?next={quote(path)}"

    after = await ok(await admin.get("/api/admin/accounts"))
    assert "intruder" not in {a["username"] for a in after["accounts"]}
    assert next(a for a in after["accounts"] if a["id"] == target["id"])["active"] is True
    assert await login_status(sifa, "kiosk2", "demo") == 200
    assert await account_events(sifa) == []
