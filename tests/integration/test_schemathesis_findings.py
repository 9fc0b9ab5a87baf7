"""Regression tests for what fuzzing the API against its own document found (the run:
test_api_schemathesis.py; the document's own findings: tests/unit/test_openapi_document.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.domain.clock import COURT_TZ

from integration.api_support import error_of
from integration.ruling_flow import accepted_case, ok


async def test_a_booking_near_year_9999_is_refused_not_overflowed(sifa: Any) -> None:
    """Found: a schedule at 9999-12-31T23:59:59-23:59 is a valid date-time, and the room's
    slot arithmetic overflowed past year 9999 (500)."""
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    case_id, people = await accepted_case(mediator, clerk)
    url = f"/api/cases/{case_id}/schedule"
    room = people["rooms"][0]["id"]
    for when in ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59+00:00"):
        body = {"room_id": room, "scheduled_at": when}
        error = await error_of(await clerk.post(url, json=body), 422, "validation_failed")
        assert error["fields"][0]["field"] == "scheduled_at"
    soon = (dt.datetime.now(COURT_TZ) + dt.timedelta(days=2)).isoformat()
    await ok(await clerk.post(url, json={"room_id": room, "scheduled_at": soon}))
