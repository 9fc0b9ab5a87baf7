"""Refusals where a role has no business: administrators get 403 on case and ruling lists, not
an empty 200; a kiosk, a shared screen in a public hall, opens the agreement but never the
identity papers or other personal materials."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp

from app.domain.clock import COURT_TZ
from app.services.demo import sample_application

from integration.api_support import error_of
from integration.ruling_flow import ok, people, small_pdf


async def test_administrators_are_refused_case_and_ruling_lists(sifa: Any) -> None:
    admin = await sifa.as_user("admin")
    for path in ("/api/cases", "/api/rulings", "/api/rulings?party=张三"):
        error = await error_of(await admin.get(path), 403, "forbidden")
        assert " / " in error["message"]
    assert (await admin.get("/rulings")).status == 403
    assert (await admin.get("/api/admin/accounts")).status == 200  # their own work is there


async def upload(client: Any, case_id: int, category: str, name: str) -> int:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("category", category)
    form.add_field("file", small_pdf(name), filename=name, content_type="application/pdf")
    body = await ok(await client.post(f"/api/cases/{case_id}/materials", data=form), 201)
    return int(body["id"])


async def test_a_kiosk_opens_the_agreement_but_not_identity_papers(sifa: Any) -> None:
    mediator, clerk, _judge, kiosk = await people(sifa)
    payload = sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = (await ok(await mediator.post("/api/cases", json=payload), 201))["id"]
    shown = {
        category: await upload(mediator, case_id, category, f"{category}.pdf")
        for category in ("agreement", "committee_proof")
    }
    hidden = {
        category: await upload(mediator, case_id, category, f"{category}.pdf")
        for category in ("identity", "property", "other")
    }
    await ok(await mediator.post(f"/api/cases/{case_id}/submit", json={}))
    court = await ok(await clerk.get("/api/court/people"))
    accept = {"judge_id": court["judges"][0]["id"]}
    await ok(await clerk.post(f"/api/cases/{case_id}/accept", json=accept))
    when = dt.datetime.now(COURT_TZ) + dt.timedelta(hours=1)
    booking = {"room_id": court["rooms"][0]["id"], "scheduled_at": when.isoformat()}
    await ok(await clerk.post(f"/api/cases/{case_id}/schedule", json=booking))

    for material_id in shown.values():
        response = await kiosk.get(f"/api/cases/{case_id}/materials/{material_id}")
        assert response.status == 200, await response.text()
        assert (await response.read()).startswith(b"%PDF-")
    for material_id in hidden.values():
        response = await kiosk.get(f"/api/cases/{case_id}/materials/{material_id}")
        await error_of(response, 403, "forbidden")
    listed = (await ok(await kiosk.get(f"/api/cases/{case_id}")))["materials"]
    assert sorted(m["category"] for m in listed) == sorted(shown)
    # the court's own people still open everything
    everything = [*shown.values(), *hidden.values()]
    for material_id in everything:
        response = await clerk.get(f"/api/cases/{case_id}/materials/{material_id}")
        assert response.status == 200
