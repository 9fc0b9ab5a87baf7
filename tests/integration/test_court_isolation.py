"""Two courts in one installation (the demo's 光明 粤0311 and 南山 粤0305): each court's people
see and act on their own court's cases only, rooms are booked within the court, and each court
numbers its cases from 1 in its own gapless series, also when both accept at the same time."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.domain.case_number import CaseNumber
from app.domain.clock import COURT_TZ, court_date
from app.keyring import FieldCipher
from app.services import audit, cases, materials
from app.services.demo import sample_application
from app.store.db import Database
from app.store.models import Case, CaseNumberCounter, Court

from integration.api_support import error_of, make_pdf
from integration.conftest import Sifa, make_settings, prepare
from integration.ruling_flow import ok
from integration.test_api_cases import submitted_case
from integration.test_storage_backends import actor

MORNING = dt.datetime.combine(court_date(dt.datetime.now(dt.UTC)), dt.time(8), COURT_TZ)


def later(hours: int) -> str:
    return (MORNING + dt.timedelta(hours=hours)).isoformat()


async def refused(client: TestClient, method: str, path: str, body: Any = None) -> None:
    """Another court's case answers like a missing one: nothing says it exists."""
    response = await getattr(client, method)(path, json=body)
    await error_of(response, 404, "not_found")


async def ids_listed(client: TestClient) -> set[int]:
    return {c["id"] for c in (await ok(await client.get("/api/cases")))["cases"]}


async def test_each_court_sees_and_acts_on_its_own_cases_only(sifa: Sifa) -> None:
    sifa.clock.now = MORNING.astimezone(dt.UTC)
    names = ("mediator", "clerk", "judge", "kiosk1", "mediator_ns", "clerk_ns", "judge_ns")
    mediator, clerk, judge, kiosk, mediator_ns, clerk_ns, judge_ns = [
        await sifa.as_user(n) for n in names
    ]
    kiosk_ns = await sifa.as_user("kiosk_ns1")
    today = court_date(sifa.clock.now)
    here = (await submitted_case(mediator, today))["id"]  # 光明's
    there = await submitted_case(mediator_ns, today)  # 南山's: its committee files there
    assert (
        there["court"] == "深圳市南山区人民法院" and there["committee"] == "南头街道人民调解委员会"
    )
    case = f"/api/cases/{there['id']}"

    people_ns = await ok(await clerk_ns.get("/api/court/people"))
    people = await ok(await clerk.get("/api/court/people"))
    assert [j["name"] for j in people_ns["judges"]] == ["黄志强"]
    assert [r["name"] for r in people_ns["rooms"]] == ["南头社区在线司法确认室"]
    assert len(people["rooms"]) == 8 and people_ns["rooms"][0]["id"] not in {
        r["id"] for r in people["rooms"]
    }
    judge_ns_id, room_ns = people_ns["judges"][0]["id"], people_ns["rooms"][0]["id"]

    # 光明's clerk, judge, mediator and kiosk: 南山's case is not there for them.
    assert there["id"] not in await ids_listed(clerk)
    assert there["id"] not in await ids_listed(mediator)
    for client in (clerk, judge, mediator, kiosk):
        await refused(client, "get", case)
    await refused(clerk, "post", f"{case}/accept", {"judge_id": judge_ns_id})
    await refused(clerk, "post", f"{case}/decline", {"ground": "not_jurisdiction", "note": ""})
    await refused(clerk, "post", f"{case}/return", {"note": "缺身份证明"})
    intake = await (await clerk.get("/intake")).text()
    assert f"/cases/{there['id']}" not in intake and f"/cases/{here}" in intake
    page = await clerk.get(f"/cases/{there['id']}")
    assert page.status == 404

    # 南山's clerk accepts with 南山's judge only, and numbers in 南山's own series.
    assert await ids_listed(clerk_ns) == {there["id"]}
    await refused(clerk_ns, "get", f"/api/cases/{here}")
    judge_id = people["judges"][0]["id"]
    error = await error_of(
        await clerk_ns.post(f"{case}/accept", json={"judge_id": judge_id}), 422, "validation_failed"
    )
    assert error["fields"][0]["field"] == "judge_id"
    accepted = await ok(await clerk_ns.post(f"{case}/accept", json={"judge_id": judge_ns_id}))
    assert accepted["case_number"] == f"（{today.year}）粤0305民特1号"
    error = await error_of(
        await clerk.post(f"/api/cases/{here}/accept", json={"judge_id": judge_ns_id}),
        422,
        "validation_failed",
    )
    assert error["fields"][0]["field"] == "judge_id"
    own = await ok(await clerk.post(f"/api/cases/{here}/accept", json={"judge_id": judge_id}))
    assert own["case_number"] == f"（{today.year}）粤0311民特1号"

    # Rooms are booked within the court: not into another court's, nor by another court.
    for room in (r["id"] for r in people["rooms"][:2]):
        error = await error_of(
            await clerk_ns.post(
                f"{case}/schedule", json={"room_id": room, "scheduled_at": later(2)}
            ),
            422,
            "validation_failed",
        )
        assert error["fields"][0]["field"] == "room_id"
    await refused(clerk, "post", f"{case}/schedule", {"room_id": room_ns, "scheduled_at": later(2)})
    error = await error_of(
        await clerk.post(
            f"/api/cases/{here}/schedule", json={"room_id": room_ns, "scheduled_at": later(2)}
        ),
        422,
        "validation_failed",
    )
    assert error["fields"][0]["field"] == "room_id"
    await ok(
        await clerk_ns.post(f"{case}/schedule", json={"room_id": room_ns, "scheduled_at": later(2)})
    )
    await ok(
        await clerk.post(
            f"/api/cases/{here}/schedule",
            json={"room_id": people["rooms"][0]["id"], "scheduled_at": later(2)},
        )
    )

    # Each court's kiosk sees its own room's bookings; each judge their own docket.
    assert await ids_listed(kiosk_ns) == {there["id"]}
    assert await ids_listed(kiosk) == {here}
    await refused(kiosk_ns, "get", f"/api/cases/{here}")
    await refused(kiosk, "get", case)
    assert await ids_listed(judge) == {here} and await ids_listed(judge_ns) == {there["id"]}
    for client in (judge, clerk):
        await refused(client, "post", f"{case}/open-session", {})
        await refused(client, "post", f"{case}/room-token", {})
        await refused(client, "get", f"{case}/timeline")
        await refused(client, "get", f"{case}/session")
    await refused(judge_ns, "post", f"/api/cases/{here}/open-session", {})
    await ok(await judge_ns.post(f"{case}/open-session", json={}))
    assert (await ok(await kiosk_ns.get(case)))["state"] == "in_session"
    await refused(kiosk, "post", f"{case}/session/check-in", {"camera": True})

    # The clerks' boards and the rulings search keep to the court.
    board = await ok(await clerk.get("/api/board"))
    board_ns = await ok(await clerk_ns.get("/api/board"))
    assert len(board["rooms"]) == 8 and {r["case_id"] for r in board["rooms"]} == {here, None}
    assert [(r["room"], r["case_id"]) for r in board_ns["rooms"]] == [
        ("南头社区在线司法确认室", there["id"])
    ]
    page = await (await clerk.get("/cases")).text()
    assert f"/cases/{there['id']}" not in page


async def submitted(
    db: Database, cipher: FieldCipher, folder: Path, mediator: str, count: int, now: dt.datetime
) -> list[int]:
    """`count` cases filed by `mediator` with their agreement, and submitted."""
    filer = await actor(db, mediator)
    ids = []
    async with db.transaction() as session:
        for i in range(count):
            case = await cases.create_case(
                session, filer, sample_application(court_date(now)), cipher=cipher, now=now
            )
            await materials.add_material(
                session,
                filer,
                case.id,
                category="agreement",
                filename=f"协议{i}.pdf",
                data=make_pdf(f"{mediator} {i}"),
                folder=folder,
                cipher=cipher,
                limit=1 << 20,
                now=now,
            )
            ids.append(case.id)
    async with db.transaction() as session:
        for case_id in ids:
            await cases.submit(session, filer, case_id, now)
    return ids


async def test_two_courts_accepting_at_once_each_number_from_one(
    database_url: str, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL: two clerks of two courts accept interleaved, each acceptance
    in its own transaction; each court's numbers are 1..N under its own code, none lost."""
    now = dt.datetime.now(dt.UTC)
    settings = make_settings(tmp_path, database_url)
    await prepare(settings, now)  # the demo's sample case is a draft: it takes no number
    db = Database(database_url)
    cipher = FieldCipher.from_certs(settings.certs_dir)
    count = 12
    try:
        courts = {
            "粤0311": (
                "clerk",
                "judge",
                await submitted(db, cipher, settings.materials_dir, "mediator", count, now),
            ),
            "粤0305": (
                "clerk_ns",
                "judge_ns",
                await submitted(db, cipher, settings.materials_dir, "mediator_ns", count, now),
            ),
        }

        async def accept(clerk: str, judge: str, case_id: int) -> tuple[str, int]:
            by, to = await actor(db, clerk), await actor(db, judge)
            async with db.transaction() as session:
                case = await cases.accept(session, by, case_id, to.account_id, now)
                assert case.case_number is not None and case.number_serial is not None
                return case.case_number, case.number_serial

        jobs = [
            accept(clerk, judge, ids[i])
            for i in range(count)
            for clerk, judge, ids in courts.values()
        ]
        results = await asyncio.gather(*jobs)
        year = court_date(now).year
        for code in courts:
            numbers = sorted(
                (CaseNumber.parse(n) for n, _ in results if CaseNumber.parse(n).court_code == code),
                key=lambda n: n.serial,
            )
            assert [n.serial for n in numbers] == list(range(1, count + 1)), code
            assert {n.year for n in numbers} == {year}
        async with db.transaction() as session:
            for code, (_, _, ids) in courts.items():
                court = await session.scalar(select(Court).where(Court.code == code))
                assert court is not None
                stored = list(await session.scalars(select(Case).where(Case.id.in_(ids))))
                assert {c.court_id for c in stored} == {court.id}
                assert sorted(c.number_serial or 0 for c in stored) == list(range(1, count + 1))
                counter = await session.get(CaseNumberCounter, (court.id, year))
                assert counter is not None and counter.last_serial == count
            assert (await audit.verify(session)).intact
    finally:
        await db.close()
