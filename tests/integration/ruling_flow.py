"""Driving a case through the API from application to a decision, for ruling tests."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from reportlab.pdfgen import canvas

from app.domain.clock import COURT_TZ
from app.domain.grounds import RejectGround
from app.domain.roles import Role
from app.keys import SERVICES
from app.services import accounts
from app.services.demo import sample_application
from app.store.models import Committee, Court

from integration.conftest import Sifa


def small_pdf(text: str = "mediation agreement") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 700, text)
    page.save()
    return buffer.getvalue()


async def ok(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def scheduled_case(
    mediator: TestClient,
    clerk: TestClient,
    *,
    room_index: int = 0,
    hours: int = 1,
    application: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> int:
    payload = application or sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = (await ok(await mediator.post("/api/cases", json=payload), 201))["id"]
    form = aiohttp.FormData()
    form.add_field("category", "agreement")
    form.add_field("file", small_pdf(), filename="agreement.pdf", content_type="application/pdf")
    await ok(await mediator.post(f"/api/cases/{case_id}/materials", data=form), 201)
    await ok(await mediator.post(f"/api/cases/{case_id}/submit", json={}))
    people = await ok(await clerk.get("/api/court/people"))
    await ok(
        await clerk.post(
            f"/api/cases/{case_id}/accept", json={"judge_id": people["judges"][0]["id"]}
        )
    )
    when = at or dt.datetime.now(COURT_TZ) + dt.timedelta(hours=hours)
    await ok(
        await clerk.post(
            f"/api/cases/{case_id}/schedule",
            json={"room_id": people["rooms"][room_index]["id"], "scheduled_at": when.isoformat()},
        )
    )
    return int(case_id)


PASSED = {"method": "id_card_camera", "result": "passed", "note": "与身份证原件一致"}
ALL_ABSENT = {"items": {g.value: {"present": False} for g in RejectGround}}


async def record_session(
    judge: TestClient,
    kiosk: TestClient,
    case_id: int,
    *,
    parties: int = 2,
    agreed: bool = True,
) -> Any:
    """What the judge and the kiosk record before a decision: identity, consent, review."""
    session = f"/api/cases/{case_id}/session"
    await ok(
        await kiosk.post(
            f"{session}/check-in", json={"camera": True, "microphone": True, "network": True}
        )
    )
    await ok(await judge.post(f"{session}/admit", json={}))
    for party in range(parties):
        await ok(await judge.post(f"{session}/identity", json={"party": party, **PASSED}))
        await ok(await kiosk.post(f"{session}/warning-ack", json={"party": party}))
        await ok(await kiosk.post(f"{session}/consent", json={"party": party}))
        answers = {"agreed_freely": agreed or party > 0, "understands": True}
        await ok(await judge.post(f"{session}/answers", json={"party": party, **answers}))
    return await ok(await judge.post(f"{session}/review", json=ALL_ABSENT))


async def decided_case(
    mediator: TestClient,
    clerk: TestClient,
    judge: TestClient,
    decision: dict[str, Any],
    *,
    kiosk: TestClient | None = None,
    **kw: Any,
) -> int:
    """A case decided in session; withdrawal needs no records, the other decisions do."""
    case_id = await scheduled_case(mediator, clerk, **kw)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    if decision["decision"] != "withdraw":
        assert kiosk is not None, "a confirmation or rejection needs the room's kiosk"
        agreed = decision.get("ground") != "not_voluntary"
        await record_session(judge, kiosk, case_id, agreed=agreed)
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json=decision))
    return case_id


async def people(sifa: Sifa) -> tuple[TestClient, TestClient, TestClient, TestClient]:
    """Mediator, clerk, judge and the kiosk of the room cases are booked into, logged in."""
    return (
        await sifa.as_user("mediator"),
        await sifa.as_user("clerk"),
        await sifa.as_user("judge"),
        await sifa.as_user("kiosk1"),
    )


async def add_other_court_clerk(sifa: Sifa) -> TestClient:
    """A clerk of another court (宝安, 粤0306), logged in: sees none of this court's cases."""
    async with sifa.app[SERVICES].db.transaction() as session:
        court = Court(name="深圳市宝安区人民法院", code="粤0306")
        session.add(court)
        await session.flush()
        session.add(Committee(name="新安街道人民调解委员会", court_id=court.id))
        await session.flush()
        await accounts.add_account(
            session,
            username="clerk_ba",
            password="password-2",
            role=Role.CLERK,
            display_name="宝安书记员",
            binding=accounts.Binding(court="粤0306"),
            now=sifa.clock.now,
        )
    return await sifa.as_user("clerk_ba", "password-2")
