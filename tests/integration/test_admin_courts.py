"""Courts, committees, halls and rooms through the real app: an administrator builds a third
court and edits it, binds kiosks to rooms; codes, names and ids are checked; every change is
audited without password material; and every other role is kept out of every route."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.keys import SERVICES
from app.store.models import Account, AuditEvent

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import ok, scheduled_case
from integration.test_admin_accounts import assert_no_password_material, cookie_login, page_csrf
from integration.test_transcript_archive import sifa_on

__all__ = ["sifa_on"]

BAOAN = {"name": "深圳市宝安区人民法院", "code": "粤0306"}
HUGE = "9" * 30


async def org_events(sifa: Sifa) -> list[AuditEvent]:
    """Organisation changes after the demo data was loaded."""
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("org.%")).order_by(AuditEvent.seq)
        )
        return list(rows)


async def build_baoan(admin: TestClient) -> dict[str, Any]:
    """A third court with a committee, a hall and a room, through the API."""
    court = await ok(await admin.post("/api/admin/courts", json=BAOAN), 201)
    committee = await ok(
        await admin.post(
            "/api/admin/committees",
            json={"name": "新安街道人民调解委员会", "court_id": court["id"]},
        ),
        201,
    )
    hall = await ok(
        await admin.post(
            "/api/admin/halls", json={"name": "新安社区", "committee_id": committee["id"]}
        ),
        201,
    )
    room = await ok(
        await admin.post(
            "/api/admin/rooms", json={"name": "新安社区在线司法确认室", "hall_id": hall["id"]}
        ),
        201,
    )
    return {"court": court, "committee": committee, "hall": hall, "room": room}


async def test_an_administrator_builds_a_court_with_its_rooms(sifa_on: Sifa) -> None:
    """On SQLite and PostgreSQL: each unit is added under its parent, listed under its court,
    and audited; the new court's clerk and kiosk work at once."""
    sifa = sifa_on
    admin = await sifa.as_user("admin")
    before = await ok(await admin.get("/api/admin/courts"))
    assert [c["code"] for c in before["courts"]] == ["粤0305", "粤0311"]
    guangming = before["courts"][1]
    assert (guangming["name"], len(guangming["rooms"]), len(guangming["halls"])) == (
        "深圳市光明区人民法院",
        8,
        6,
    )
    assert guangming["rooms"][0]["kiosks"] == ["kiosk1"]

    built = await build_baoan(admin)
    assert built["court"] == {"id": built["court"]["id"], **BAOAN}
    assert built["room"]["hall_id"] == built["hall"]["id"]
    baoan = await ok(await admin.get(f"/api/admin/courts/{built['court']['id']}"))
    assert [m["name"] for m in baoan["committees"]] == ["新安街道人民调解委员会"]
    assert [(r["name"], r["kiosks"]) for r in baoan["rooms"]] == [("新安社区在线司法确认室", [])]
    assert (baoan["judges"], baoan["clerks"], baoan["numbered_cases"]) == (0, 0, 0)

    # The accounts console binds people to the new court, committee and room by name.
    for username, role, binding in (
        ("clerk_ba", "clerk", {"court": "粤0306"}),
        ("kiosk_ba", "kiosk", {"room": "新安社区在线司法确认室"}),
    ):
        body = {
            "username": username,
            "role": role,
            "password": f"{username}: violet lantern river",
            **binding,
        }
        await ok(await admin.post("/api/admin/accounts", json=body), 201)
    clerk = await sifa.as_user("clerk_ba", "clerk_ba: violet lantern river")
    people = await ok(await clerk.get("/api/court/people"))
    assert people["judges"] == [] and [r["name"] for r in people["rooms"]] == [
        "新安社区在线司法确认室"
    ]
    assert (await ok(await clerk.get("/api/cases")))["cases"] == []
    baoan = await ok(await admin.get(f"/api/admin/courts/{built['court']['id']}"))
    assert baoan["rooms"][0]["kiosks"] == ["kiosk_ba"] and baoan["clerks"] == 1

    events = await org_events(sifa)
    assert [e.action for e in events] == [
        "org.court_created",
        "org.committee_created",
        "org.hall_created",
        "org.room_created",
    ]
    assert all(e.actor == "admin" and e.case_id is None for e in events)
    assert '"code":"粤0306"' in events[0].details
    assert '"court":"深圳市宝安区人民法院"' in events[1].details
    assert '"hall":"新安社区"' in events[3].details
    await assert_no_password_material(sifa)


async def test_codes_names_and_ids_are_checked(sifa_on: Sifa) -> None:
    """On SQLite and PostgreSQL (an id past PostgreSQL's INTEGER must not reach it)."""
    sifa = sifa_on
    admin = await sifa.as_user("admin")
    built = await build_baoan(admin)
    court_id = built["court"]["id"]
    for code in ("粤031", "粤03111", "AB0311", "港0311", "粤03", "粤０３１１", "", 311, None):
        error = await error_of(
            await admin.post("/api/admin/courts", json={"name": "某法院", "code": code}),
            422,
            "validation_failed",
        )
        assert [f["field"] for f in error["fields"]] == ["code"], (code, error)
        assert "粤0311" in error["fields"][0]["problem"] and " / " in error["message"]
    for name in ("", "   ", "名" * 101, "换\n行", 7):
        error = await error_of(
            await admin.post("/api/admin/courts", json={"name": name, "code": "粤0399"}),
            422,
            "validation_failed",
        )
        assert [f["field"] for f in error["fields"]] == ["name"], (name, error)
    error = await error_of(
        await admin.post("/api/admin/rooms", json={"name": "有表情的确认室😀", "hall_id": 1}),
        422,
        "validation_failed",
    )
    assert "😀" in error["fields"][0]["problem"]  # the court's font cannot print it

    taken = [
        ("/api/admin/courts", {**BAOAN, "code": "粤0399"}, "court_name_taken"),
        ("/api/admin/courts", {"name": "另一法院", "code": "粤0306"}, "court_code_taken"),
        (
            "/api/admin/committees",
            {"name": "新安街道人民调解委员会", "court_id": court_id},
            "committee_name_taken",
        ),
        ("/api/admin/halls", {"name": "光明社区", "committee_id": 1}, "hall_name_taken"),
        ("/api/admin/rooms", {"name": "光明社区在线司法确认室一", "hall_id": 1}, "room_name_taken"),
    ]
    for path, body, code in taken:
        error = await error_of(await admin.post(path, json=body), 409, code)
        assert body["name"] in error["message"] or "粤0306" in error["message"]
    renamed = f"/api/admin/halls/{built['hall']['id']}"
    await error_of(await admin.patch(renamed, json={"name": "光明社区"}), 409, "hall_name_taken")

    # A parent named in the body that does not exist is a mistake in the body.
    for parent in (99999, 2**40, -1, 0, True, "x", None):
        error = await error_of(
            await admin.post("/api/admin/rooms", json={"name": "无主确认室", "hall_id": parent}),
            422,
            "validation_failed",
        )
        assert [f["field"] for f in error["fields"]] == ["hall_id"], (parent, error)
    # Past 64 bits no JSON number is read at all.
    too_big = {"name": "无主确认室", "hall_id": 10**30}
    await error_of(await admin.post("/api/admin/rooms", json=too_big), 400, "number_out_of_range")
    # An id in the path that names nothing is 404, however large or odd.
    for bad in ("99999", "2147483647", "2147483648", HUGE, "-1", "0", "abc", "1e3", "１"):
        await error_of(await admin.get(f"/api/admin/courts/{quote(bad)}"), 404, "not_found")
        for plural in ("courts", "committees", "halls", "rooms"):
            response = await admin.patch(f"/api/admin/{plural}/{quote(bad)}", json={"name": "新名"})
            await error_of(response, 404, "not_found")
        response = await admin.post(f"/api/admin/rooms/{quote(bad)}/kiosks", json={"account_id": 1})
        await error_of(response, 404, "not_found")
    page = await admin.post(f"/admin/rooms/{HUGE}", data={"name": "新名"})
    assert page.status == 404 and "没有这个确认室" in await page.text()
    await error_of(
        await admin.post(
            "/api/admin/courts", data=b"[1]", headers={"Content-Type": "application/json"}
        ),
        400,
        "bad_json",
    )
    # Nothing refused left a trace.
    assert [e.action for e in await org_events(sifa)] == [
        "org.court_created",
        "org.committee_created",
        "org.hall_created",
        "org.room_created",
    ]


async def test_edits_keep_numbers_and_cases_where_they_belong(sifa_on: Sifa) -> None:
    sifa = sifa_on
    admin = await sifa.as_user("admin")
    listing = await ok(await admin.get("/api/admin/courts"))
    nanshan, guangming = listing["courts"]
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    case_id = await scheduled_case(mediator, clerk)  # numbered and booked into room 1
    court = f"/api/admin/courts/{guangming['id']}"

    # The code is on a case number now: the name may change, the code not.
    await error_of(await admin.patch(court, json={"code": "粤0312"}), 409, "court_code_in_use")
    renamed = await ok(await admin.patch(court, json={"name": "深圳市光明区人民法院（新）"}))
    assert renamed["code"] == "粤0311"
    await ok(await admin.patch(court, json={"name": "深圳市光明区人民法院"}))
    recoded = await ok(
        await admin.patch(f"/api/admin/courts/{nanshan['id']}", json={"code": "粤0399"})
    )
    assert recoded["code"] == "粤0399"
    same = await ok(
        await admin.patch(court, json={"name": "深圳市光明区人民法院", "code": "粤0311"})
    )
    assert same["name"] == "深圳市光明区人民法院"  # asked for what is there: nothing recorded

    # Room 1 held the case: it stays in its court. Room 8 never held one: it may move.
    room1, room8 = guangming["rooms"][0], guangming["rooms"][7]
    nanshan_hall = nanshan["halls"][0]["id"]
    await error_of(
        await admin.patch(f"/api/admin/rooms/{room1['id']}", json={"hall_id": nanshan_hall}),
        409,
        "has_cases",
    )
    hall_of_room1 = room1["hall_id"]
    await error_of(
        await admin.patch(
            f"/api/admin/halls/{hall_of_room1}",
            json={"committee_id": nanshan["committees"][0]["id"]},
        ),
        409,
        "has_cases",
    )
    await error_of(
        await admin.patch(
            f"/api/admin/committees/{guangming['committees'][0]['id']}",
            json={"court_id": nanshan["id"]},
        ),
        409,
        "has_cases",
    )
    moved = await ok(
        await admin.patch(f"/api/admin/rooms/{room8['id']}", json={"hall_id": nanshan_hall})
    )
    assert moved["hall_id"] == nanshan_hall
    nanshan_clerk = await sifa.as_user("clerk_ns")
    rooms = (await ok(await nanshan_clerk.get("/api/court/people")))["rooms"]
    assert room8["id"] in {r["id"] for r in rooms}
    # Within its court a room moves freely, cases or not.
    await ok(
        await admin.patch(
            f"/api/admin/rooms/{room1['id']}", json={"hall_id": guangming["rooms"][2]["hall_id"]}
        )
    )
    assert (await ok(await clerk.get(f"/api/cases/{case_id}")))["room"] == room1["name"]

    # A committee without cases changes court, and its mediators' court goes with it.
    committee = nanshan["committees"][0]["id"]
    await ok(
        await admin.patch(f"/api/admin/committees/{committee}", json={"court_id": guangming["id"]})
    )
    async with sifa.app[SERVICES].db.transaction() as session:
        moved_mediator = await session.scalar(
            select(Account).where(Account.username == "mediator_ns")
        )
        assert moved_mediator is not None and moved_mediator.court_id == guangming["id"]
    await error_of(
        await admin.patch(f"/api/admin/committees/{committee}", json={"court_id": 10**12}),
        422,
        "validation_failed",
    )

    events = await org_events(sifa)
    assert [e.action for e in events] == [
        "org.court_updated",
        "org.court_updated",
        "org.court_updated",
        "org.room_updated",
        "org.room_updated",
        "org.committee_updated",
    ]
    assert (
        '"changed":{"name":{"from":"深圳市光明区人民法院","to":"深圳市光明区人民法院（新）"}}'
        in events[0].details
    )
    assert '"code":{"from":"粤0305","to":"粤0399"}' in events[2].details
    assert f'"hall_id":{{"from":{room8["hall_id"]},"to":{nanshan_hall}}}' in events[3].details


async def test_a_kiosk_account_is_bound_to_another_room(sifa_on: Sifa) -> None:
    """On SQLite and PostgreSQL: the kiosk is logged out, then sees the new room's bookings
    and no longer the old room's; a room in session keeps its kiosk."""
    sifa = sifa_on
    admin = await sifa.as_user("admin")
    listing = await ok(await admin.get("/api/admin/courts"))
    nanshan, guangming = listing["courts"]
    kiosks = {k["username"]: k for k in listing["kiosks"]}
    assert len(kiosks) == 9 and kiosks["kiosk_ns1"]["room_id"] == nanshan["rooms"][0]["id"]
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    case_id = await scheduled_case(mediator, clerk, room_index=1)  # room 2, kiosk2's
    moving = await sifa.as_user("kiosk_ns1")
    assert (await ok(await moving.get("/api/cases")))["cases"] == []

    room2 = guangming["rooms"][1]
    bound = await ok(
        await admin.post(
            f"/api/admin/rooms/{room2['id']}/kiosks", json={"account_id": kiosks["kiosk_ns1"]["id"]}
        )
    )
    assert bound["room_id"] == room2["id"] and bound["username"] == "kiosk_ns1"
    await error_of(await moving.get("/api/me"), 401, "unauthenticated")
    moved = await sifa.as_user("kiosk_ns1")
    assert [c["id"] for c in (await ok(await moved.get("/api/cases")))["cases"]] == [case_id]
    after = await ok(await admin.get(f"/api/admin/courts/{guangming['id']}"))
    assert after["rooms"][1]["kiosks"] == ["kiosk2", "kiosk_ns1"]
    # the same room again changes nothing and ends no session
    await ok(
        await admin.post(
            f"/api/admin/rooms/{room2['id']}/kiosks", json={"account_id": kiosks["kiosk_ns1"]["id"]}
        )
    )
    assert (await moved.get("/api/me")).status == 200

    clerk_id = (await ok(await clerk.get("/api/me")))["id"]
    for account in (clerk_id, 99999, 2**40, "kiosk2", None):
        error = await error_of(
            await admin.post(
                f"/api/admin/rooms/{room2['id']}/kiosks", json={"account_id": account}
            ),
            422,
            "validation_failed",
        )
        assert error["fields"][0]["field"] == "account_id"

    judge = await sifa.as_user("judge")
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await error_of(
        await admin.post(
            f"/api/admin/rooms/{nanshan['rooms'][0]['id']}/kiosks",
            json={"account_id": kiosks["kiosk2"]["id"]},
        ),
        409,
        "room_in_session",
    )
    assert (await ok(await moved.get(f"/api/cases/{case_id}")))["state"] == "in_session"

    events = await org_events(sifa)
    assert [e.action for e in events] == ["org.kiosk_bound"]
    assert '"username":"kiosk_ns1"' in events[0].details
    assert f'"from_room":"{nanshan["rooms"][0]["name"]}"' in events[0].details
    assert f'"to_room":"{room2["name"]}"' in events[0].details
    assert '"sessions_ended":1' in events[0].details
    await assert_no_password_material(sifa)


async def test_the_pages_add_edit_and_refuse_through_their_forms(sifa: Sifa) -> None:
    browser, api = await cookie_login(sifa, "admin"), await sifa.as_user("admin")
    page, csrf = await page_csrf(browser, "/admin/courts")
    assert "深圳市南山区人民法院" in page and "粤0305" in page and 'href="/admin/courts"' in page

    async def post(path: str, form: str, court: str = "", **body: str) -> Any:
        data = {"csrf_token": csrf, "form": form, "page": court, **body}
        return await browser.post(path, data=data, allow_redirects=False)

    added = await post("/admin/courts", "court-new", **BAOAN)
    assert added.status == 303, await added.text()
    court_page = added.headers["Location"]
    assert court_page.startswith("/admin/courts/") and "done=court_created" in court_page
    shown = await (await browser.get(court_page)).text()
    assert "已添加法院 深圳市宝安区人民法院" in shown and "还没有调解委员会" in shown
    court = court_page.split("?")[0].rsplit("/", 1)[1]

    taken = await post("/admin/courts", "court-new", **BAOAN)
    assert taken.status == 409 and "已有名为 深圳市宝安区人民法院 的法院" in await taken.text()
    wrong = await post("/admin/courts", "court-new", name="某区法院", code="粤03")
    text = await wrong.text()
    assert wrong.status == 422 and "法院代字须为省级简称加四位数字" in text
    assert 'value="某区法院"' in text and 'value="粤03"' in text  # typed back, form open

    made = await post(
        "/admin/committees", "committee-new", court, name="新安街道人民调解委员会", court_id=court
    )
    assert made.status == 303 and "done=committee_created" in made.headers["Location"]
    shown = await (await browser.get(made.headers["Location"])).text()
    assert "已添加人民调解委员会 新安街道人民调解委员会" in shown
    assert 'id="new-hall"' in shown and 'id="new-room"' not in shown  # a room needs a hall
    no_parent = await post("/admin/halls", "hall-new", court, name="新安社区", committee_id="")
    text = await no_parent.text()
    assert no_parent.status == 422 and "没有这个人民调解委员会" in text
    assert 'value="新安社区"' in text

    baoan = await ok(await api.get(f"/api/admin/courts/{court}"))
    committee = str(baoan["committees"][0]["id"])
    assert (
        await post("/admin/halls", "hall-new", court, name="新安社区", committee_id=committee)
    ).status == 303
    baoan = await ok(await api.get(f"/api/admin/courts/{court}"))
    hall = str(baoan["halls"][0]["id"])
    room = await post("/admin/rooms", "room-new", court, name="新安社区确认室", hall_id=hall)
    assert room.status == 303 and "done=room_created" in room.headers["Location"]
    room_id = room.headers["Location"].rsplit("=", 1)[1]
    renamed = await post(
        f"/admin/rooms/{room_id}",
        f"room-{room_id}",
        court,
        name="新安社区在线司法确认室",
        hall_id=hall,
    )
    shown = await (await browser.get(renamed.headers["Location"])).text()
    assert "已修改确认室 新安社区在线司法确认室" in shown

    kiosk = next(
        k
        for k in (await ok(await api.get("/api/admin/courts")))["kiosks"]
        if k["username"] == "kiosk8"
    )
    bound = await post(
        "/admin/kiosks", "kiosk-bind", court, room_id=room_id, account_id=str(kiosk["id"])
    )
    shown = await (await browser.get(bound.headers["Location"])).text()
    assert "已将终端 kiosk8 绑定到 新安社区在线司法确认室" in shown
    no_room = await post(
        "/admin/kiosks", "kiosk-bind", court, room_id="", account_id=str(kiosk["id"])
    )
    assert no_room.status == 422 and "没有这个确认室" in await no_room.text()

    english = await browser.get(f"/admin/courts/{court}", params={"lang": "en"})
    text = await english.text()
    assert "Mediation committees" in text and "Add a room" in text and "添加确认室" not in text
    assert english.headers["Cache-Control"] == "no-store"
    forged = await browser.post("/admin/courts", data={**BAOAN, "csrf_token": "wrong"})
    assert forged.status == 403
    assert [e.action for e in await org_events(sifa)] == [
        "org.court_created",
        "org.committee_created",
        "org.hall_created",
        "org.room_created",
        "org.room_updated",
        "org.kiosk_bound",
    ]


async def test_only_administrators_reach_courts_and_rooms(sifa: Sifa) -> None:
    admin = await sifa.as_user("admin")
    listing = await ok(await admin.get("/api/admin/courts"))
    court, kiosk = listing["courts"][1], listing["kiosks"][0]
    room, hall, committee = court["rooms"][0], court["halls"][0], court["committees"][0]
    bodies = {
        "courts": {"name": "入侵法院", "code": "粤0398"},
        "committees": {"name": "入侵委员会", "court_id": court["id"]},
        "halls": {"name": "入侵大厅", "committee_id": committee["id"]},
        "rooms": {"name": "入侵确认室", "hall_id": hall["id"]},
    }
    ids = {
        "courts": court["id"],
        "committees": committee["id"],
        "halls": hall["id"],
        "rooms": room["id"],
    }
    api_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("get", "/api/admin/courts", None),
        ("get", f"/api/admin/courts/{court['id']}", None),
        ("get", "/api/admin/courts/99999", None),  # refused before it is looked up
        ("post", f"/api/admin/rooms/{room['id']}/kiosks", {"account_id": kiosk["id"]}),
    ]
    page_calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("get", "/admin/courts", None),
        ("get", f"/admin/courts/{court['id']}", None),
        ("post", "/admin/kiosks", {"room_id": room["id"], "account_id": kiosk["id"]}),
    ]
    for plural, body in bodies.items():
        api_calls += [
            ("post", f"/api/admin/{plural}", body),
            ("patch", f"/api/admin/{plural}/{ids[plural]}", body),
            ("patch", f"/api/admin/{plural}/{HUGE}", body),
        ]
        page_calls += [
            ("post", f"/admin/{plural}", body),
            ("post", f"/admin/{plural}/{ids[plural]}", body),
        ]
    for username in ("mediator", "clerk", "judge", "kiosk1", "clerk_ns", "judge_ns", "kiosk_ns1"):
        client = await sifa.as_user(username)
        for method, path, data in api_calls:
            response = await getattr(client, method)(path, json=data)
            error = await error_of(response, 403, "forbidden")
            assert "只有管理员可以管理法院" in error["message"], (username, path)
        for method, path, data in page_calls:
            response = await getattr(client, method)(path, data=data, allow_redirects=False)
            assert response.status == 403, (username, method, path)
            assert "只有管理员可以管理法院" in await response.text()
        home = await (await client.get("/intake" if "clerk" in username else "/api/me")).text()
        assert "/admin/courts" not in home

    anonymous = await sifa.make_client(sifa.app)
    for method, path, data in api_calls:
        await error_of(await getattr(anonymous, method)(path, json=data), 401, "unauthenticated")
    for path in ("/admin/courts", f"/admin/courts/{court['id']}"):
        response = await anonymous.get(path, allow_redirects=False)
        assert (
            response.status == 303 and response.headers["Location"] == f"/login?next={quote(path)}"
        )

    after = await ok(await admin.get("/api/admin/courts"))
    assert after == listing
    assert await org_events(sifa) == []
