"""Ids in paths and bodies: only a canonical decimal names a record. Anything else, however
close (a sign, a space, a full-width digit, a number past 64 bits), is a 4xx with the error
shape, never a 500 and never another record."""

from __future__ import annotations

from typing import Any

from integration.api_support import error_of

JSON = {"Content-Type": "application/json"}
BAD_CASE_IDS = ["99999999999999999999", "2147483648", "0", "-1", "%2029", "+29", "%EF%BC%91"]


def lookalikes(case_id: int) -> list[str]:
    full_width = "".join(chr(ord("０") + int(d)) for d in str(case_id))
    return [f"+{case_id}", f"%20{case_id}", f"0{case_id}", f"{case_id}%20", full_width]


async def test_path_ids_name_a_record_only_in_canonical_form(sifa: Any) -> None:
    mediator = await sifa.as_user("mediator")
    case_id = (await (await mediator.get("/api/cases")).json())["cases"][0]["id"]
    assert (await mediator.get(f"/api/cases/{case_id}")).status == 200
    for raw in BAD_CASE_IDS + lookalikes(case_id):
        await error_of(await mediator.get(f"/api/cases/{raw}"), 404, "not_found")
        await error_of(await mediator.post(f"/api/cases/{raw}/submit"), 404, "not_found")
        await error_of(await mediator.get(f"/api/cases/{raw}/materials/1"), 404, "not_found")
        material = await mediator.get(f"/api/cases/{case_id}/materials/{raw}")
        await error_of(material, 404, "not_found")
        page = await mediator.get(f"/cases/{raw}")
        assert page.status == 404, raw

    admin = await sifa.as_user("admin")
    for raw in ("99999999999999999999", "+1", "%EF%BC%91"):
        response = await admin.post(f"/api/admin/accounts/{raw}/active", json={"active": False})
        await error_of(response, 404, "not_found")
        await error_of(await admin.get(f"/api/admin/courts/{raw}"), 404, "not_found")


async def test_ids_in_bodies_are_bounded_positive_integers(sifa: Any) -> None:
    mediator = await sifa.as_user("mediator")
    case_id = (await (await mediator.get("/api/cases")).json())["cases"][0]["id"]
    clerk = await sifa.as_user("clerk")
    url = f"/api/cases/{case_id}/accept"
    await error_of(
        await clerk.post(url, data=b'{"judge_id": 99999999999999999999}', headers=JSON),
        400,
        "number_out_of_range",
    )
    for judge_id in (2**62, 2**31, 0, -3, "+1", "１", 1.0, True, None):
        error = await error_of(
            await clerk.post(url, json={"judge_id": judge_id}), 422, "validation_failed"
        )
        assert error["fields"][0]["field"] == "judge_id"
    schedule = f"/api/cases/{case_id}/schedule"
    body = {"room_id": 2**40, "scheduled_at": "2030-01-01T10:00:00+08:00"}
    await error_of(await clerk.post(schedule, json=body), 422, "validation_failed")
    admin = await sifa.as_user("admin")
    bind = await admin.post("/api/admin/rooms/1/kiosks", json={"account_id": 2**40})
    assert 400 <= bind.status < 500, await bind.text()
