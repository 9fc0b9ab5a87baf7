"""A party files for mediation without an account: a one-time code by SMS proves the phone,
which must be one of the parties' own. Codes are kept only as keyed hashes, expire, allow five
tries and one send a minute; the filing reaches the committee's mediators."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from app.keys import SERVICES
from app.store.models import AuditEvent, OneTimeCode, SmsOutbox

from integration.conftest import Sifa
from integration.ruling_flow import ok
from integration.test_mediation_api import dispute, error_of

PHONE = "13800000001"  # 张三's, in the demo's sample parties


async def anonymous(sifa: Sifa) -> TestClient:
    client: TestClient = await sifa.make_client(sifa.app)
    return client


async def texted_code(sifa: Sifa | TestServer, phone: str = PHONE) -> str:
    """The newest code the SMS gateway would send to `phone`, read from the outbox of the app
    under test (in-process: the integration tests', a browser test's server, a benchmark's)."""
    async with sifa.app[SERVICES].db.transaction() as session:
        body = await session.scalar(
            select(SmsOutbox.body).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc())
        )
    assert body is not None
    found = re.search(r"验证码为(\d{6})", body)
    assert found is not None, body
    return found.group(1)


def filing(sifa: Sifa, code: str, phone: str = PHONE) -> dict[str, Any]:
    return {**dispute(sifa.clock.now.date()), "committee_id": 1, "phone": phone, "code": code}


async def test_a_party_files_with_a_texted_code_and_the_mediator_sees_it(sifa: Sifa) -> None:
    party = await anonymous(sifa)
    sent = await ok(await party.post("/api/mediation-requests/code", json={"phone": PHONE}), 202)
    assert sent["sent_to"] == "138****0001"
    code = await texted_code(sifa)
    async with sifa.app[SERVICES].db.transaction() as session:
        stored = list(await session.scalars(select(OneTimeCode)))
    assert len(stored) == 1 and code not in stored[0].code_hash  # only a keyed hash is kept

    # A phone that is none of the parties' is refused, and the code is not spent by it.
    await ok(await party.post("/api/mediation-requests/code", json={"phone": "13900000009"}), 202)
    other = await texted_code(sifa, "13900000009")
    answer = await error_of(
        await party.post("/api/mediation-requests", json=filing(sifa, other, "13900000009")),
        422,
        "validation_failed",
    )
    assert answer["fields"][0]["field"] == "phone"

    filed = await ok(await party.post("/api/mediation-requests", json=filing(sifa, code)), 201)
    assert filed["state"] == "filed" and "三十日" in filed["message"]
    # Spent: the same code files nothing more.
    await error_of(
        await party.post("/api/mediation-requests", json=filing(sifa, code)), 400, "code_refused"
    )

    mediator = await sifa.as_user("mediator")
    listed = (await ok(await mediator.get("/api/mediations")))["mediations"]
    assert [m["id"] for m in listed] == [filed["id"]]
    async with sifa.app[SERVICES].db.transaction() as session:
        actors = list(
            await session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action == "mediation.filed")
            )
        )
    assert actors == ["party:138****0001"]


async def test_codes_are_sent_once_a_minute_and_tried_five_times(sifa: Sifa) -> None:
    party = await anonymous(sifa)
    await ok(await party.post("/api/mediation-requests/code", json={"phone": PHONE}), 202)
    again = await party.post("/api/mediation-requests/code", json={"phone": PHONE})
    assert again.status == 429 and int(again.headers["Retry-After"]) <= 60
    code = await texted_code(sifa)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        await error_of(
            await party.post("/api/mediation-requests", json=filing(sifa, wrong)),
            400,
            "code_refused",
        )
    # Five wrong tries: even the right code no longer works.
    answer = await error_of(
        await party.post("/api/mediation-requests", json=filing(sifa, code)), 400, "code_refused"
    )
    assert "次数过多" in answer["message"]

    # A minute on, a new code; ten minutes after that it has expired.
    sifa.clock.now += dt.timedelta(seconds=61)
    await ok(await party.post("/api/mediation-requests/code", json={"phone": PHONE}), 202)
    fresh = await texted_code(sifa)
    sifa.clock.now += dt.timedelta(minutes=10)
    await error_of(
        await party.post("/api/mediation-requests", json=filing(sifa, fresh)), 400, "code_refused"
    )
    # A wrongly shaped code or body is told as such, before any code is looked at.
    await error_of(
        await party.post("/api/mediation-requests", json=filing(sifa, "12ab56")),
        422,
        "validation_failed",
    )
    async with sifa.app[SERVICES].db.transaction() as session:
        assert (
            await session.scalar(select(AuditEvent).where(AuditEvent.action == "mediation.filed"))
            is None
        )
