"""The clerk's live board shows the session that is on now, whatever day it was booked for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.domain.clock import COURT_TZ

from integration.conftest import Sifa
from integration.ruling_flow import ok, scheduled_case


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


async def board_rows(clerk: Any, case_id: int) -> list[dict[str, Any]]:
    board = await ok(await clerk.get("/api/board"))
    return [r for r in board["rooms"] if r["case_id"] == case_id]
