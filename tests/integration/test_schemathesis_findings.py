"""Regression tests for what fuzzing the API against its own document found (the run:
test_api_schemathesis.py; the document's own findings: tests/unit/test_openapi_document.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp

from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from integration.api_support import error_of
from integration.ruling_flow import ok, small_pdf


async def accepted_case(sifa: Any) -> tuple[Any, int, dict[str, Any]]:
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    payload = sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = (await ok(await mediator.post("/api/cases", json=payload), 201))["id"]
    form = aiohttp.FormData()
    form.add_field("category", "agreement")
    form.add_field("file", small_pdf(), filename="agreement.pdf", content_type="application/pdf")
    await ok(await mediator.post(f"/api/cases/{case_id}/materials", data=form), 201)
    await ok(await mediator.post(f"/api/cases/{case_id}/submit", json={}))
    people = await ok(await clerk.get("/api/court/people"))
    judge = {"judge_id": people["judges"][0]["id"]}
    await ok(await clerk.post(f"/api/cases/{case_id}/accept", json=judge))
    return clerk, case_id, people


async def test_a_booking_near_year_9999_is_refused_not_overflowed(sifa: Any) -> None:
    """Found: a schedule at 9999-12-31T23:59:59-23:59 is a valid date-time, and the room's
    slot arithmetic overflowed past year 9999 (500)."""
    clerk, case_id, people = await accepted_case(sifa)
    url = f"/api/cases/{case_id}/schedule"
    room = people["rooms"][0]["id"]
    for when in ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59+00:00"):
        body = {"room_id": room, "scheduled_at": when}
        error = await error_of(await clerk.post(url, json=body), 422, "validation_failed")
        assert error["fields"][0]["field"] == "scheduled_at"
    soon = (dt.datetime.now(COURT_TZ) + dt.timedelta(days=2)).isoformat()
    await ok(await clerk.post(url, json={"room_id": room, "scheduled_at": soon}))
