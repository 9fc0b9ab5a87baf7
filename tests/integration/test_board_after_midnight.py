"""The clerk's live board shows the session that is on now, whatever day it was booked for, and
a ruling still being served, whatever day it was heard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.domain.clock import COURT_TZ, court_date

from integration.conftest import Sifa
from integration.ruling_flow import decided_case, ok, people, scheduled_case, sign_for


async def test_a_session_opened_before_midnight_for_a_booking_after_it_is_on_the_board(
    sifa: Sifa,
) -> None:
    # The next 23:40 in Beijing: the booking for 00:10 is tomorrow's, but the judge opens it now.
    now = dt.datetime.now(COURT_TZ)
    late = now.replace(hour=23, minute=40, second=0, microsecond=0)
    if late <= now:
        late += dt.timedelta(days=1)
    sifa.clock.now = late.astimezone(dt.UTC)
    mediator, clerk = await sifa.as_user("mediator"), await sifa.as_user("clerk")
    judge = await sifa.as_user("judge")
    case_id = await scheduled_case(
        mediator, clerk, room_index=2, at=late + dt.timedelta(minutes=30)
    )
    rows = await board_rows(clerk, case_id)
    assert rows == []  # tomorrow's booking, not yet on: not on today's board
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    (row,) = await board_rows(clerk, case_id)
    assert row["state"] == "in_session"


async def test_a_paper_receipt_awaited_since_an_earlier_day_stays_on_the_board(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk)
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/ruling", json={}), 201)
    await ok(await kiosk.post(f"{path}/service/choice", json={"party": 1, "electronic": False}))
    await ok(await sign_for(kiosk, case_id, 0), 201)

    # Two days on, the hearing is off today's schedule but the clerk still has paper to record.
    sifa.clock.now += dt.timedelta(days=2)
    clerk = await sifa.as_user("clerk")
    (row,) = await board_rows(clerk, case_id)
    assert row["state"] == "ruling_issued" and row["paper_pending"] == ["赵六"]
    signed_on = court_date(sifa.clock.now).isoformat()
    receipt = {"party": 1, "signed_on": signed_on}
    await ok(await clerk.post(f"{path}/paper-receipts", json=receipt), 201)
    assert await board_rows(clerk, case_id) == []


async def board_rows(clerk: Any, case_id: int) -> list[dict[str, Any]]:
    board = await ok(await clerk.get("/api/board"))
    return [r for r in board["rooms"] if r["case_id"] == case_id]
