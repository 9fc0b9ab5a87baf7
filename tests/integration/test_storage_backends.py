"""Storage on SQLite and PostgreSQL: migrations, encryption at rest, the append-only audit chain,
and case numbers under concurrent acceptance."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.domain.access import Actor
from app.domain.case_number import CaseNumber
from app.domain.cases import State
from app.domain.clock import court_date
from app.domain.errors import Conflict, TransitionRefused
from app.domain.roles import Role
from app.keyring import FieldCipher
from app.services import accounts, audit, cases, materials
from app.services.demo import sample_application, with_check_digit
from app.store.db import Database
from app.store.migrate import is_current, upgrade
from app.store.models import (
    Account,
    AuditEvent,
    Case,
    CaseNumberCounter,
    Committee,
    Court,
    Hall,
    Room,
)

from integration import conftest as integration_conftest

make_settings = integration_conftest.make_settings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def ready(tmp_path: Path, url: str, now: dt.datetime) -> tuple[Settings, Database]:
    """A migrated database with one court, its committee, a room, and a mediator, clerk and judge.

    Smaller than the demo data (three password hashes instead of twelve), to keep this quick.
    """
    settings = make_settings(tmp_path, url)
    db = Database(url)
    await upgrade(db.engine)
    async with db.transaction() as session:
        court = Court(name="深圳市光明区人民法院", code="粤0311")
        session.add(court)
        await session.flush()
        committee = Committee(name="光明街道人民调解委员会", court_id=court.id)
        session.add(committee)
        await session.flush()
        hall = Hall(name="光明社区", committee_id=committee.id)
        session.add(hall)
        await session.flush()
        session.add(Room(name="光明社区在线司法确认室", hall_id=hall.id))
        for username, role in (
            ("mediator", Role.MEDIATOR),
            ("clerk", Role.CLERK),
            ("judge", Role.JUDGE),
        ):
            await accounts.add_account(
                session,
                username=username,
                password="demo",
                role=role,
                display_name=username,
                binding=accounts.Binding(court="粤0311", committee="光明街道人民调解委员会"),
                now=now,
                check_strength=False,
            )
    return settings, db


async def actor(db: Database, username: str) -> Actor:
    async with db.transaction() as session:
        account = await session.scalar(select(Account).where(Account.username == username))
        assert account is not None
        return accounts.actor_of(account)


async def break_guard(db: Database) -> None:
    """Take away the database's append-only guard, as an intruder with DBA rights could."""
    async with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            await conn.execute(text("DROP TRIGGER audit_events_no_update"))
            await conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            await conn.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
            )


async def add_events(db: Database, count: int, now: dt.datetime) -> None:
    for i in range(count):
        async with db.transaction() as session:
            await audit.append(
                session,
                actor="tester",
                action="test.event",
                case_id=i,
                details={"i": i, "名": "测试"},
                now=now + dt.timedelta(seconds=i),
            )


async def test_migrations_bring_an_empty_database_to_the_current_schema(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        assert not await is_current(db.engine)
        await upgrade(db.engine)
        assert await is_current(db.engine)
        await upgrade(db.engine)  # running it again is harmless
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert {
            "accounts",
            "agents",
            "audit_events",
            "audit_head",
            "case_number_counters",
            "cases",
            "committees",
            "courts",
            "halls",
            "login_sessions",
            "login_throttle",
            "materials",
            "parties",
            "rooms",
            "terms",
        } <= tables
        async with db.transaction() as session:
            report = await audit.verify(session)
        assert report.intact and report.checked == 0
    finally:
        await db.close()


async def test_a_case_round_trips_with_id_numbers_encrypted_at_rest(
    database_url: str, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    settings, db = await ready(tmp_path, database_url, now)
    cipher = FieldCipher.from_certs(settings.certs_dir)
    mediator = await actor(db, "mediator")
    data = sample_application(court_date(now))
    data["agents"] = [
        {
            "name": "孙律师",
            "id_number": with_check_digit("44030519850101003"),
            "phone": "13900000000",
            "authority": "特别授权",
            "represents": 0,
        }
    ]
    plain = [p["id_number"] for p in data["applicants"]] + [data["agents"][0]["id_number"]]
    try:
        async with db.transaction() as session:
            created = await cases.create_case(session, mediator, data, cipher=cipher, now=now)
            case_id = created.id

        async with db.engine.connect() as conn:
            raw_parties = [
                row[0]
                for row in await conn.execute(
                    text("SELECT id_number_enc FROM parties WHERE case_id = :c ORDER BY position"),
                    {"c": case_id},
                )
            ]
            raw_agent = (
                await conn.execute(
                    text("SELECT id_number_enc FROM agents WHERE case_id = :c"), {"c": case_id}
                )
            ).scalar_one()
        stored = [bytes(b) for b in [*raw_parties, raw_agent]]
        assert len(stored) == 3
        for blob, number in zip(stored, plain, strict=True):
            assert number.encode() not in blob
            assert number[6:14].encode() not in blob  # not even the birth date digits
            assert number.encode().hex().encode() not in blob
        assert cipher.decrypt(stored[0], purpose="party.id_number") == plain[0]
        assert cipher.decrypt(stored[2], purpose="agent.id_number") == plain[2]

        async with db.transaction() as session:
            case = await session.get(Case, case_id)
            assert case is not None
            assert case.state == State.DRAFT.value
            assert case.agreement_date.isoformat() == data["agreement_date"]
            assert case.created_at == now and case.created_at.tzinfo is not None
            assert [p.name for p in case.parties] == [p["name"] for p in data["applicants"]]
            assert [p.birth_date.isoformat() for p in case.parties if p.birth_date] == [
                p["birth_date"] for p in data["applicants"]
            ]
            assert [t.text for t in case.terms] == data["terms"]
            assert [t.number for t in case.terms] == [1, 2, 3]
            assert case.agents[0].name == "孙律师" and case.agents[0].represents_position == 0
            events = await audit.events_for_case(session, case_id)
            assert [e.action for e in events] == ["case.created"]
            for e in await session.scalars(select(AuditEvent)):
                assert not any(n in e.details for n in plain)
    finally:
        await db.close()


async def test_audit_appends_verify_and_the_database_refuses_changes(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db.engine)
        now = dt.datetime.now(dt.UTC)
        await add_events(db, 5, now)
        async with db.transaction() as session:
            report = await audit.verify(session)
            rows = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert report.intact and report.checked == 5
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))

        for statement in (
            "UPDATE audit_events SET details = '{}' WHERE seq = 2",
            "DELETE FROM audit_events WHERE seq = 3",
            "DELETE FROM audit_events WHERE seq = 5",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.engine.begin() as conn:
                    await conn.execute(text(statement))
        async with db.transaction() as session:
            assert (await audit.verify(session)).intact
    finally:
        await db.close()


async def test_an_updated_row_is_reported_by_its_sequence_number(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db.engine)
        await add_events(db, 6, dt.datetime.now(dt.UTC))
        await break_guard(db)
        async with db.engine.begin() as conn:
            result = await conn.execute(
                text("UPDATE audit_events SET details = :d WHERE seq = 4"), {"d": '{"i":99}'}
            )
            assert result.rowcount == 1  # the guard is really gone
        async with db.transaction() as session:
            report = await audit.verify(session)
        assert report.broken_at == 4 and report.checked == 3
    finally:
        await db.close()


async def test_a_deleted_middle_row_is_reported(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        await upgrade(db.engine)
        await add_events(db, 6, dt.datetime.now(dt.UTC))
        await break_guard(db)
        async with db.engine.begin() as conn:
            assert (
                await conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
            ).rowcount == 1
        async with db.transaction() as session:
            report = await audit.verify(session)
        assert report.broken_at == 3 and "missing" in (report.reason or "")
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_events WHERE seq > 2"))
        async with db.transaction() as session:
            report = await audit.verify(session)
        assert report.broken_at == 3 and "removed" in (report.reason or "")
    finally:
        await db.close()


async def make_submitted_cases(
    db: Database, settings: Settings, count: int, now: dt.datetime
) -> list[int]:
    mediator = await actor(db, "mediator")
    cipher = FieldCipher.from_certs(settings.certs_dir)
    ids = []
    async with db.transaction() as session:
        for i in range(count):
            case = await cases.create_case(
                session, mediator, sample_application(court_date(now)), cipher=cipher, now=now
            )
            await materials.add_material(
                session,
                mediator,
                case.id,
                category="agreement",
                filename=f"协议{i}.pdf",
                data=PDF + str(i).encode(),
                folder=settings.materials_dir,
                cipher=cipher,
                limit=settings.max_upload_bytes,
                now=now,
            )
            ids.append(case.id)
    async with db.transaction() as session:  # a new session sees the uploaded agreements
        for case_id in ids:
            await cases.submit(session, mediator, case_id, now)
    return ids


@pytest.mark.slow
async def test_fifty_concurrent_acceptances_get_gapless_distinct_numbers(
    database_url: str, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    settings, db = await ready(tmp_path, database_url, now)
    try:
        ids = await make_submitted_cases(db, settings, 50, now)
        clerk, judge = await actor(db, "clerk"), await actor(db, "judge")

        async def accept(case_id: int) -> tuple[int, str | None, int | None]:
            async with db.transaction() as session:
                case = await cases.accept(session, clerk, case_id, judge.account_id, now)
                return case.id, case.case_number, case.number_serial

        results = await asyncio.gather(*(accept(i) for i in ids))
        year = court_date(now).year
        serials = sorted(serial for _, _, serial in results if serial is not None)
        assert serials == list(range(1, 51))
        numbers = {number for _, number, _ in results}
        assert len(numbers) == 50
        for _, number, serial in results:
            assert number == str(CaseNumber(year, "粤0311", serial or 0))
            assert re.fullmatch(rf"（{year}）粤0311民特{serial}号", number or "")

        async with db.transaction() as session:
            stored = list(await session.scalars(select(Case).where(Case.id.in_(ids))))
            assert sorted(c.number_serial or 0 for c in stored) == list(range(1, 51))
            assert {c.state for c in stored} == {State.ACCEPTED.value}
            counter = await session.get(CaseNumberCounter, (stored[0].court_id, year))
            assert counter is not None and counter.last_serial == 50
            accepted_events = await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "case.accept")
            )
            assert accepted_events == 50
            report = await audit.verify(session)
        assert report.intact, report
    finally:
        await db.close()


async def test_two_clerks_accepting_the_same_cases_at_once(
    database_url: str, tmp_path: Path, aiohttp_client: Any
) -> None:
    """Over HTTP: for each case exactly one clerk wins; the other gets 409; no number is wasted."""
    from app.keys import SERVICES
    from app.main import create_app

    now = dt.datetime.now(dt.UTC)
    settings, db = await ready(tmp_path, database_url, now)
    try:
        async with db.transaction() as session:
            await accounts.add_account(
                session,
                username="clerk2",
                password="second-clerk",
                role=Role.CLERK,
                display_name="刘书记员",
                binding=accounts.Binding(court="粤0311"),
                now=now,
            )
        ids = await make_submitted_cases(db, settings, 4, now)
        judge = await actor(db, "judge")
    finally:
        await db.close()

    app = create_app(settings)
    client = await aiohttp_client(app)
    headers = []
    for name, password in (("clerk", "demo"), ("clerk2", "second-clerk")):
        response = await client.post("/api/login", json={"username": name, "password": password})
        assert response.status == 200
        headers.append({"Authorization": f"Bearer {(await response.json())['token']}"})
        client.session.cookie_jar.clear()

    async def accept(case_id: int, who: dict[str, str]) -> tuple[int, int, dict[str, Any]]:
        response = await client.post(
            f"/api/cases/{case_id}/accept", json={"judge_id": judge.account_id}, headers=who
        )
        return case_id, response.status, await response.json()

    results = await asyncio.gather(*(accept(i, h) for i in ids for h in headers))
    year = court_date(now).year
    winners = []
    for case_id in ids:
        mine = [(status, body) for cid, status, body in results if cid == case_id]
        assert sorted(status for status, _ in mine) == [200, 409], mine
        loser = next(body for status, body in mine if status == 409)
        assert loser["error"]["code"] in {Conflict.code, TransitionRefused.code}
        winners.append(next(body for status, body in mine if status == 200))
    assert sorted(CaseNumber.parse(w["case_number"]).serial for w in winners) == [1, 2, 3, 4]

    async with app[SERVICES].db.transaction() as session:
        court_id = (await session.get(Case, ids[0])).court_id  # type: ignore[union-attr]
        counter = await session.get(CaseNumberCounter, (court_id, year))
        assert counter is not None and counter.last_serial == 4
        assert (await audit.verify(session)).intact
