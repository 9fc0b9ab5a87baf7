"""The JSON API over real HTTP on a migrated SQLite database: the whole flow and its refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.domain.clock import COURT_TZ, court_date
from app.domain.roles import Role
from app.keys import SERVICES
from app.main import create_app
from app.services import accounts
from app.services.demo import sample_application
from app.store.models import AuditEvent, Committee, Court, Hall, Room

from integration import conftest as integration_conftest
from integration.api_support import error_of, make_pdf


async def upload(
    client: TestClient,
    case_id: int,
    data: bytes,
    *,
    filename: str = "调解协议.pdf",
    category: str = "agreement",
    csrf: str | None = None,
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData(quote_fields=False)  # UTF-8 file names as browsers send them
    if csrf is not None:
        form.add_field("csrf_token", csrf)
    form.add_field("category", category)
    form.add_field("file", data, filename=filename, content_type="application/pdf")
    return await client.post(f"/api/cases/{case_id}/materials", data=form)


async def new_case(mediator: TestClient, today: dt.date) -> dict[str, Any]:
    response = await mediator.post("/api/cases", json=sample_application(today))
    assert response.status == 201, await response.text()
    return await response.json()


async def submitted_case(mediator: TestClient, today: dt.date) -> dict[str, Any]:
    case = await new_case(mediator, today)
    assert (await upload(mediator, case["id"], make_pdf())).status == 201
    response = await mediator.post(f"/api/cases/{case['id']}/submit")
    assert response.status == 200, await response.text()
    return await response.json()


async def court_people(clerk: TestClient) -> dict[str, Any]:
    response = await clerk.get("/api/court/people")
    assert response.status == 200
    return await response.json()


def in_court_time(moment: dt.datetime) -> str:
    return moment.astimezone(COURT_TZ).isoformat()


async def audit_events(sifa: Any) -> list[AuditEvent]:
    async with sifa.app[SERVICES].db.transaction() as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


async def test_the_whole_flow_from_filing_to_the_kiosk(sifa: Any) -> None:
    today = court_date(sifa.clock.now)
    application = sample_application(today)
    id_numbers = [p["id_number"] for p in application["applicants"]]
    mediator, clerk, judge = [await sifa.as_user(n) for n in ("mediator", "clerk", "judge")]
    kiosk1, kiosk2 = await sifa.as_user("kiosk1"), await sifa.as_user("kiosk2")
    seen: list[str] = []  # every GET body, to look for full ID numbers afterwards

    created = await mediator.post("/api/cases", json=application)
    assert created.status == 201
    case = await created.json()
    case_id = case["id"]
    assert case["state"] == "draft" and case["case_number"] is None
    assert case["allowed_steps"] == ["submit"]
    assert [t["text"] for t in case["terms"]] == application["terms"]

    pdf = make_pdf("Agreement between Zhang San and Zhao Liu")
    stored = await upload(mediator, case_id, pdf)
    assert stored.status == 201, await stored.text()
    material = await stored.json()
    assert material["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert material["size"] == len(pdf) and material["content_type"] == "application/pdf"
    assert material["category"] == "agreement" and material["filename"] == "调解协议.pdf"
    download = await mediator.get(f"/api/cases/{case_id}/materials/{material['id']}")
    assert download.status == 200 and await download.read() == pdf

    submitted = await mediator.post(f"/api/cases/{case_id}/submit")
    assert submitted.status == 200
    assert (await submitted.json())["state"] == "submitted"

    people = await court_people(clerk)
    judge_me = await (await judge.get("/api/me")).json()
    clerk_me = await (await clerk.get("/api/me")).json()
    assert people["judges"] == [{"id": judge_me["id"], "name": judge_me["display_name"]}]
    assert len(people["rooms"]) == 8 and all("在线司法确认室" in r["name"] for r in people["rooms"])
    accepted = await clerk.post(
        f"/api/cases/{case_id}/accept", json={"judge_id": people["judges"][0]["id"]}
    )
    assert accepted.status == 200, await accepted.text()
    body = await accepted.json()
    assert body["state"] == "accepted"
    assert body["case_number"] == f"（{today.year}）粤0311民特1号"
    assert body["judge"] == judge_me["display_name"]
    assert body["clerk"] == clerk_me["display_name"]

    kiosk_room = (await (await kiosk1.get("/api/me")).json())["room_id"]
    other_room = (await (await kiosk2.get("/api/me")).json())["room_id"]
    assert kiosk_room in {r["id"] for r in people["rooms"]} and kiosk_room != other_room
    # before scheduling even the room's kiosk cannot see the case
    assert (await kiosk1.get(f"/api/cases/{case_id}")).status == 404
    when = sifa.clock.now + dt.timedelta(days=1, hours=2)
    scheduled = await clerk.post(
        f"/api/cases/{case_id}/schedule",
        json={"room_id": kiosk_room, "scheduled_at": in_court_time(when)},
    )
    assert scheduled.status == 200, await scheduled.text()
    body = await scheduled.json()
    assert body["state"] == "scheduled" and body["room_id"] == kiosk_room
    assert dt.datetime.fromisoformat(body["scheduled_at"]) == when
    assert body["scheduled_at"].endswith("+08:00")

    judge_list = await judge.get("/api/cases")
    seen.append(await judge_list.text())
    assert [c["id"] for c in (await judge_list.json())["cases"]] == [case_id]
    for client in (mediator, clerk, judge, kiosk1):
        detail = await client.get(f"/api/cases/{case_id}")
        assert detail.status == 200
        seen.append(await detail.text())
        listing = await client.get("/api/cases")
        seen.append(await listing.text())
        assert case_id in [c["id"] for c in (await listing.json())["cases"]]
    assert (await kiosk2.get(f"/api/cases/{case_id}")).status == 404
    kiosk2_list = await (await kiosk2.get("/api/cases")).json()
    assert case_id not in [c["id"] for c in kiosk2_list["cases"]]
    filtered = await (await clerk.get("/api/cases?state=scheduled")).json()
    assert [c["id"] for c in filtered["cases"]] == [case_id]
    assert (await (await clerk.get("/api/cases?state=draft")).json())["cases"] != []

    # ID numbers: masked everywhere, in full only on an audited request by the case's people
    judge_view = await (await judge.get(f"/api/cases/{case_id}")).json()
    for party, number in zip(judge_view["parties"], id_numbers, strict=True):
        assert party["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    for text in seen:
        for number in id_numbers:
            assert number not in text and number[4:14] not in text
    await error_of(
        await kiosk1.post(f"/api/cases/{case_id}/reveal-id", json={"party": 1}), 403, "forbidden"
    )
    revealed = await judge.post(f"/api/cases/{case_id}/reveal-id", json={"party": 1})
    assert revealed.status == 200
    assert (await revealed.json())["id_number"] == id_numbers[1]

    events = await audit_events(sifa)
    reveals = [e for e in events if e.action == "party.id_revealed"]
    assert [(e.actor, e.case_id) for e in reveals] == [("judge", case_id)]
    assert [e.action for e in events if e.case_id == case_id] == [
        "case.created",
        "material.added",
        "material.viewed",
        "case.submit",
        "case.accept",
        "case.schedule",
        "party.id_revealed",
    ]
    for event in events:
        for number in id_numbers:
            assert number not in event.details and number not in event.actor


async def test_role_and_state_refusals(sifa: Any) -> None:
    today = court_date(sifa.clock.now)
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    judge, admin = await sifa.as_user("judge"), await sifa.as_user("admin")
    anonymous = await sifa.make_client(sifa.app)
    draft = (await (await mediator.get("/api/cases")).json())["cases"][0]
    assert draft["state"] == "draft"
    judge_id = (await court_people(clerk))["judges"][0]["id"]

    await error_of(await clerk.post("/api/cases", json=sample_application(today)), 403, "forbidden")
    error = await error_of(
        await clerk.post(f"/api/cases/{draft['id']}/accept", json={"judge_id": judge_id}),
        409,
        "transition_refused",
    )
    assert (error["state"], error["step"]) == ("draft", "accept")
    assert "draft" in error["message"] and "accept" in error["message"]

    case = await submitted_case(mediator, today)
    path = f"/api/cases/{case['id']}/accept"
    error = await error_of(await mediator.post(path, json={"judge_id": judge_id}), 403, "forbidden")
    assert "mediator" in error["message"]
    # a judge never sees a case before it is assigned: refused like a case that does not exist
    await error_of(await judge.post(path, json={"judge_id": judge_id}), 404, "not_found")
    await error_of(await anonymous.post(path, json={"judge_id": judge_id}), 401, "unauthenticated")
    await error_of(await anonymous.get("/api/cases"), 401, "unauthenticated")
    await error_of(await anonymous.get(f"/api/cases/{case['id']}"), 401, "unauthenticated")
    await error_of(
        await clerk.post(path, json={"judge_id": (await sifa_account_id(sifa, "clerk"))}),
        422,
        "validation_failed",
    )
    await error_of(await clerk.post(path, json={"judge_id": "1"}), 422, "validation_failed")
    after = await (await clerk.get(f"/api/cases/{case['id']}")).json()
    assert after["state"] == "submitted" and after["case_number"] is None

    # administrators work on accounts and courts: a list of cases is refused, not empty
    await error_of(await admin.get("/api/cases"), 403, "forbidden")
    await error_of(await admin.get(f"/api/cases/{case['id']}"), 404, "not_found")
    await error_of(await clerk.get("/api/cases/999999"), 404, "not_found")
    await error_of(await clerk.get("/api/cases/not-a-number"), 404, "not_found")
    error = await error_of(await clerk.get("/api/cases?state=lost"), 422, "validation_failed")
    assert "lost" in error["message"]
    await error_of(await judge.get("/api/court/people"), 403, "forbidden")

    accepted = await clerk.post(path, json={"judge_id": judge_id})
    assert accepted.status == 200
    assert (await judge.get(f"/api/cases/{case['id']}")).status == 200
    # once accepted, uploading or submitting again is refused by state, as a conflict (409)
    await error_of(
        await mediator.post(f"/api/cases/{case['id']}/submit"), 409, "transition_refused"
    )
    await error_of(await upload(mediator, case["id"], make_pdf()), 409, "wrong_state")


async def sifa_account_id(sifa: Any, username: str) -> int:
    from app.store.models import Account

    async with sifa.app[SERVICES].db.transaction() as session:
        account = await session.scalar(select(Account).where(Account.username == username))
        assert account is not None
        return account.id


async def test_people_of_other_courts_and_committees_see_nothing(sifa: Any) -> None:
    now, today = sifa.clock.now, court_date(sifa.clock.now)
    async with sifa.app[SERVICES].db.transaction() as session:
        court = Court(name="深圳市宝安区人民法院", code="粤0306")
        session.add(court)
        await session.flush()
        committee = Committee(name="新安街道人民调解委员会", court_id=court.id)
        session.add(committee)
        await session.flush()
        hall = Hall(name="新安社区", committee_id=committee.id)
        session.add(hall)
        await session.flush()
        session.add(Room(name="新安社区在线司法确认室", hall_id=hall.id))
        await session.flush()
        for username, role, binding in (
            ("mediator_xa", Role.MEDIATOR, accounts.Binding(committee="新安街道人民调解委员会")),
            ("clerk_ba", Role.CLERK, accounts.Binding(court="粤0306")),
            ("judge_ba", Role.JUDGE, accounts.Binding(court="粤0306")),
            ("judge_gm2", Role.JUDGE, accounts.Binding(court="粤0311")),
        ):
            await accounts.add_account(
                session,
                username=username,
                password="violet-lantern-river-1",
                role=role,
                display_name=username,
                binding=binding,
                now=now,
            )

    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    case = await submitted_case(mediator, today)
    judge_id = await sifa_account_id(sifa, "judge")
    assert (
        await clerk.post(f"/api/cases/{case['id']}/accept", json={"judge_id": judge_id})
    ).status == 200
    for username in ("mediator_xa", "clerk_ba", "judge_ba", "judge_gm2"):
        other = await sifa.as_user(username, "violet-lantern-river-1")
        await error_of(await other.get(f"/api/cases/{case['id']}"), 404, "not_found")
        assert (await (await other.get("/api/cases")).json()) == {"cases": []}
        # refusing to act says the same: the case does not exist for them
        await error_of(
            await other.post(f"/api/cases/{case['id']}/reveal-id", json={"party": 0}),
            404,
            "not_found",
        )
    # the clerk may not assign a judge of another court, nor book another court's room
    other_judge = await sifa_account_id(sifa, "judge_ba")
    second = await submitted_case(mediator, today)
    await error_of(
        await clerk.post(f"/api/cases/{second['id']}/accept", json={"judge_id": other_judge}),
        422,
        "validation_failed",
    )
    async with sifa.app[SERVICES].db.transaction() as session:
        foreign_room = await session.scalar(
            select(Room.id).where(Room.name == "新安社区在线司法确认室")
        )
    assert foreign_room is not None
    error = await error_of(
        await clerk.post(
            f"/api/cases/{case['id']}/schedule",
            json={
                "room_id": foreign_room,
                "scheduled_at": in_court_time(now + dt.timedelta(days=1)),
            },
        ),
        422,
        "validation_failed",
    )
    assert error["fields"][0]["field"] == "room_id"


async def test_clerk_input_is_checked(sifa: Any) -> None:
    now, today = sifa.clock.now, court_date(sifa.clock.now)
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    people = await court_people(clerk)
    judge_id, room_id = people["judges"][0]["id"], people["rooms"][0]["id"]
    first, second, third = [await submitted_case(mediator, today) for _ in range(3)]

    # return for missing materials (Interp 354): the note is required; the mediator resubmits
    back = f"/api/cases/{third['id']}/return"
    await error_of(await clerk.post(back, json={"note": "  "}), 422, "validation_failed")
    await error_of(await mediator.post(back, json={"note": "x"}), 403, "forbidden")
    returned = await clerk.post(back, json={"note": "请补充调解委员会主持调解的证明"})
    assert returned.status == 200
    body = await returned.json()
    assert body["state"] == "draft" and body["note"] == "请补充调解委员会主持调解的证明"
    await error_of(await clerk.post(back, json={"note": "again"}), 409, "transition_refused")
    resubmitted = await mediator.post(f"/api/cases/{third['id']}/submit")
    assert resubmitted.status == 200 and (await resubmitted.json())["state"] == "submitted"

    error = await error_of(
        await clerk.post(f"/api/cases/{third['id']}/decline", json={"ground": "too_busy"}),
        422,
        "validation_failed",
    )
    assert error["fields"][0]["field"] == "ground"
    declined = await clerk.post(
        f"/api/cases/{third['id']}/decline", json={"ground": "personal_status", "note": "收养关系"}
    )
    assert declined.status == 200
    body = await declined.json()
    assert body["state"] == "not_accepted" and body["decline_ground"] == "personal_status"
    assert body["case_number"] is None

    for case in (first, second):
        response = await clerk.post(f"/api/cases/{case['id']}/accept", json={"judge_id": judge_id})
        assert response.status == 200
    numbers = [
        (await (await clerk.get(f"/api/cases/{c['id']}")).json())["case_number"]
        for c in (first, second)
    ]
    # the declined case took no number: the accepted ones are 1 and 2
    assert numbers == [f"（{today.year}）粤0311民特{n}号" for n in (1, 2)]

    schedule = f"/api/cases/{first['id']}/schedule"
    for past in (now - dt.timedelta(minutes=1), now):
        error = await error_of(
            await clerk.post(
                schedule, json={"room_id": room_id, "scheduled_at": in_court_time(past)}
            ),
            422,
            "validation_failed",
        )
        assert error["fields"][0]["field"] == "scheduled_at"
    for bad in ("2030-01-01T10:00:00", "tomorrow", None):
        await error_of(
            await clerk.post(schedule, json={"room_id": room_id, "scheduled_at": bad}),
            422,
            "validation_failed",
        )
    await error_of(
        await clerk.post(schedule, json={"room_id": "1", "scheduled_at": in_court_time(now)}),
        422,
        "validation_failed",
    )

    slot = (now + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    booked = await clerk.post(
        schedule, json={"room_id": room_id, "scheduled_at": in_court_time(slot)}
    )
    assert booked.status == 200
    other = f"/api/cases/{second['id']}/schedule"
    for clash in (slot, slot + dt.timedelta(minutes=29), slot - dt.timedelta(minutes=29)):
        await error_of(
            await clerk.post(
                other, json={"room_id": room_id, "scheduled_at": in_court_time(clash)}
            ),
            409,
            "conflict",
        )
    # another room at the same time is free, and 30 minutes later the same room is free
    other_room = people["rooms"][1]["id"]
    moved = await clerk.post(
        other, json={"room_id": other_room, "scheduled_at": in_court_time(slot)}
    )
    assert moved.status == 200
    later = slot + dt.timedelta(minutes=30)
    again = await clerk.post(other, json={"room_id": room_id, "scheduled_at": in_court_time(later)})
    assert again.status == 200, await again.text()
    # rescheduling a case onto its own slot is not a clash with itself
    same = await clerk.post(
        schedule, json={"room_id": room_id, "scheduled_at": in_court_time(slot)}
    )
    assert same.status == 200


async def test_uploads_are_checked_by_content_and_size(
    sifa: Any, tmp_path: Any, aiohttp_client: Any
) -> None:
    today = court_date(sifa.clock.now)
    mediator = await sifa.as_user("mediator")
    case_id = (await (await mediator.get("/api/cases")).json())["cases"][0]["id"]

    error = await error_of(
        await upload(mediator, case_id, b"This is a plain text file, renamed.\n", filename="a.pdf"),
        422,
        "validation_failed",
    )
    assert error["fields"][0]["field"] == "file"
    await error_of(
        await upload(mediator, case_id, make_pdf(), category="selfie"), 422, "validation_failed"
    )
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    accepted = await upload(mediator, case_id, png, filename="身份证.pdf", category="identity")
    assert accepted.status == 201
    assert (await accepted.json())["content_type"] == "image/png"
    clerk = await sifa.as_user("clerk")
    await error_of(await upload(clerk, case_id, make_pdf()), 403, "forbidden")
    no_file = await mediator.post(
        f"/api/cases/{case_id}/materials",
        data=aiohttp.FormData({"category": "agreement"}, default_to_multipart=True),
    )
    await error_of(no_file, 422, "validation_failed")
    await error_of(
        await mediator.post(f"/api/cases/{case_id}/materials", json={"file": "x"}),
        400,
        "bad_request",
    )

    # a second app on the same database, limited to 1 MiB uploads
    small = create_app(
        integration_conftest.make_settings(
            tmp_path, sifa.settings.database_url, SIFA_MAX_UPLOAD_MB="1"
        ),
        clock=sifa.clock,
    )
    client = await aiohttp_client(small)
    login = await client.post("/api/login", json={"username": "mediator", "password": "demo"})
    client.session.cookie_jar.clear()
    client.session.headers["Authorization"] = f"Bearer {(await login.json())['token']}"
    limit = 1024 * 1024
    exact = b"%PDF-1.4\n" + b"0" * (limit - 9)
    assert (await upload(client, case_id, exact)).status == 201
    await error_of(await upload(client, case_id, exact + b"0"), 413, "too_large")
    await error_of(await upload(client, case_id, exact * 3), 413, "too_large")
    detail = await (await mediator.get(f"/api/cases/{case_id}")).json()
    assert sorted(m["size"] for m in detail["materials"]) == sorted([len(png), limit])
    assert today  # the sample case is still within its window
