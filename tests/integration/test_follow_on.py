"""The confirmation straight after the mediation, in the same room: an application made in one
tap from a video mediation the hall's kiosk sat in is accepted at once by the clerk, with a
judge free now, and booked in that kiosk's room minutes from now; when no judge is free, or
the parties are not in a hall room, the clerk is told so and schedules as usual."""

from __future__ import annotations

import datetime as dt

from integration.conftest import Sifa
from integration.ruling_flow import ok, scheduled_case
from integration.test_mediation_agreement_api import sealed
from integration.test_mediation_api import error_of


async def applied(sifa: Sifa, *, kiosk_by_video: bool) -> int:
    mediator, mediation_id = await sealed(sifa, kiosk_by_video=kiosk_by_video)
    made = await ok(
        await mediator.post(f"/api/mediations/{mediation_id}/confirmation", json={}), 201
    )
    return int(made["case_id"])


async def test_accepted_and_booked_in_the_kiosks_room_with_a_free_judge(sifa: Sifa) -> None:
    case_id = await applied(sifa, kiosk_by_video=True)
    clerk, mediator = await sifa.as_user("clerk"), await sifa.as_user("mediator")
    people = await ok(await clerk.get("/api/court/people"))
    judge = people["judges"][0]["id"]
    kiosk_room = next(r for r in people["rooms"] if r["name"] == "光明社区在线司法确认室一")

    # The clerk's page offers it, naming the room the parties are in and the free judge.
    page = await clerk.get(f"/cases/{case_id}")
    html = await page.text()
    assert (
        "在 光明社区在线司法确认室一 进行的视频调解" in html
        and "立即受理，在该调解室当场确认" in html
    )

    # Only the clerk takes court steps.
    refused = await mediator.post(f"/api/cases/{case_id}/follow-on", json={"judge_id": judge})
    assert refused.status in (403, 409), refused.status
    booked = await ok(await clerk.post(f"/api/cases/{case_id}/follow-on", json={"judge_id": judge}))
    assert booked["state"] == "scheduled" and booked["case_number"]
    assert booked["room_id"] == kiosk_room["id"]
    at = dt.datetime.fromisoformat(booked["scheduled_at"])
    assert dt.timedelta(0) < at - sifa.clock.now <= dt.timedelta(minutes=5)
    # Done once: the offer is gone from the page.
    assert "立即受理，在该调解室当场确认" not in await (await clerk.get(f"/cases/{case_id}")).text()


async def test_no_free_judge_and_no_hall_room_are_said_plainly(sifa: Sifa) -> None:
    clerk, mediator = await sifa.as_user("clerk"), await sifa.as_user("mediator")
    people = await ok(await clerk.get("/api/court/people"))
    judge = people["judges"][0]["id"]
    # The court's only judge is booked in another room three minutes from now.
    other = await scheduled_case(
        mediator, clerk, room_index=3, at=sifa.clock.now + dt.timedelta(minutes=3)
    )
    assert other
    case_id = await applied(sifa, kiosk_by_video=True)
    html = await (await clerk.get(f"/cases/{case_id}")).text()
    assert "此刻没有空闲的审判员" in html
    busy = await clerk.post(f"/api/cases/{case_id}/follow-on", json={"judge_id": judge})
    await error_of(busy, 409, "judge_not_free")

    # A mediation no kiosk sat in by video: nothing says where the parties are.
    remote = await applied(sifa, kiosk_by_video=False)
    assert "立即受理" not in await (await clerk.get(f"/cases/{remote}")).text()
    nowhere = await clerk.post(f"/api/cases/{remote}/follow-on", json={"judge_id": judge})
    assert "不能当场接续确认" in (await error_of(nowhere, 409, "wrong_state"))["message"]
