"""Mediation cases through the API: a mediator files a dispute, the committee accepts it and
assigns a mediator, the 30-day limit runs, and the case moves only as its lifecycle allows;
a party's refusal ends it (art 17), a failed one carries its notice (art 26). Every step is
audited, ID numbers are stored encrypted and shown masked, and other roles and committees are
refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.keys import SERVICES
from app.services.demo import COMMITTEE, sample_application
from app.store.models import AuditEvent, MediationParty

from integration.conftest import Sifa
from integration.ruling_flow import ok
from integration.test_rulings_per_court import checked
from integration.test_transcript_archive import flat_text


def dispute(today: dt.date) -> dict[str, Any]:
    """The demo's two residents, now before the committee rather than the court."""
    return {
        "dispute_type": "人身损害赔偿纠纷",
        "facts": "2026年11月，赵六驾驶电动车与张三发生碰撞，致张三受伤住院。",
        "claims": "张三要求赵六赔偿医疗费、误工费等共计人民币40000元。",
        "parties": sample_application(today)["applicants"],
    }


async def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = (await response.json())["error"]
    assert (response.status, body["code"]) == (status, code), body
    return body


async def filed(mediator: TestClient, sifa: Sifa) -> dict[str, Any]:
    today = sifa.clock.now.date()
    return await ok(await mediator.post("/api/mediations", json=dispute(today)), 201)


async def second_mediator(sifa: Sifa) -> tuple[int, TestClient]:
    admin = await sifa.as_user("admin")
    created = await ok(
        await admin.post(
            "/api/admin/accounts",
            json={
                "username": "mediator2",
                "display_name": "赵敏",
                "role": "mediator",
                "password": "mediator2-first-pass",
                "committee": COMMITTEE,
            },
        ),
        201,
    )
    return created["id"], await sifa.as_user("mediator2", "mediator2-first-pass")


async def test_filed_accepted_scheduled_and_agreed_with_the_limit_running(sifa: Sifa) -> None:
    mediator = await sifa.as_user("mediator")
    case = await filed(mediator, sifa)
    assert case["state"] == "filed" and case["state_label"] == "待受理"
    assert case["time_limit"] == {"due_at": None, "days_left": None, "urgency": "on_time"}
    assert case["steps"] == ["accept", "refuse", "withdraw"]
    masked = [p["id_number_masked"] for p in case["parties"]]
    assert all(m.startswith("4403") and "*" in m for m in masked), masked

    # Stored encrypted: the plain ID number is nowhere in the row.
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = list(await session.scalars(select(MediationParty)))
    assert len(rows) == 2 and all(
        r.id_number_enc and b"44031119" not in r.id_number_enc for r in rows
    )

    me = (await ok(await mediator.get("/api/me")))["id"]
    path = f"/api/mediations/{case['id']}"
    case = await ok(await mediator.post(f"{path}/accept", json={"mediator_id": me}))
    assert case["mediator"]["name"] == "李华"
    assert (case["time_limit"]["days_left"], case["time_limit"]["urgency"]) == (30, "on_time")
    # Twenty-seven days on, the mediator sees it is due soon.
    sifa.clock.now += dt.timedelta(days=27)
    mediator = await sifa.as_user("mediator")  # a new login: the earlier one has expired
    listed = (await ok(await mediator.get("/api/mediations")))["mediations"]
    assert [(m["id"], m["time_limit"]["urgency"]) for m in listed] == [(case["id"], "due_soon")]

    at = (sifa.clock.now + dt.timedelta(days=1)).isoformat()
    case = await ok(await mediator.post(f"{path}/schedule", json={"scheduled_at": at}))
    assert case["state"] == "scheduled"
    case = await ok(await mediator.post(f"{path}/start", json={}))
    case = await ok(await mediator.post(f"{path}/agree", json={}))
    assert (case["state"], case["steps"], case["time_limit"]["urgency"]) == (
        "agreed",
        [],
        "closed",
    )
    assert case["ended_at"] is not None

    async with sifa.app[SERVICES].db.transaction() as session:
        events = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("mediation.%"))
                .order_by(AuditEvent.seq)
            )
        )
    assert [e.action for e in events] == [
        "mediation.filed",
        "mediation.accept",
        "mediation.schedule",
        "mediation.start",
        "mediation.agree",
    ]
    assert all(json.loads(e.details)["mediation"] == case["id"] for e in events)
    assert all("44031119" not in e.details for e in events)


async def test_a_refusal_ends_it_and_a_failure_says_where_to_turn(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator = await sifa.as_user("mediator")
    refused = await filed(mediator, sifa)
    path = f"/api/mediations/{refused['id']}"
    await error_of(
        await mediator.post(f"{path}/refuse", json={"party": 2}), 422, "validation_failed"
    )
    body = {"party": 1, "note": "赵六明确表示不同意调解"}
    refused = await ok(await mediator.post(f"{path}/refuse", json=body))
    assert (refused["state"], refused["end_note"]) == ("refused", "赵六明确表示不同意调解")
    # Nothing moves it afterwards, and the refusal says so in whole sentences.
    me = (await ok(await mediator.get("/api/me")))["id"]
    answer = await error_of(
        await mediator.post(f"{path}/accept", json={"mediator_id": me}), 409, "transition_refused"
    )
    assert answer["message"].startswith("本调解案件当事人拒绝调解，不能受理。"), answer

    failed = await filed(mediator, sifa)
    path = f"/api/mediations/{failed['id']}"
    await ok(await mediator.post(f"{path}/accept", json={"mediator_id": me}))
    await error_of(await mediator.post(f"{path}/agree", json={}), 409, "transition_refused")
    await error_of(
        await mediator.post(f"{path}/fail", json={"note": " "}), 422, "validation_failed"
    )
    await error_of(await mediator.get(f"{path}/termination.pdf"), 404, "not_found")
    failed = await ok(await mediator.post(f"{path}/fail", json={"note": "双方对赔偿数额分歧过大"}))
    assert failed["state"] == "failed" and "仲裁、行政、司法" in failed["notice"][0]

    # The termination record (art 26), sealed by the committee: what was tried, where to turn.
    assert failed["termination"] == f"{path}/termination.pdf"
    pdf = await (await mediator.get(failed["termination"])).read()
    signature = await checked(pdf, sifa.settings.certs_dir / "dev-root-ca.pem")
    assert "Common Name: 光明街道人民调解委员会" in signature.signer_subject
    file = tmp_path / "termination.pdf"
    file.write_bytes(pdf)
    text = flat_text(file)
    for needle in (
        "人民调解终止书",
        "双方对赔偿数额分歧过大",
        "人民调解法》第二十六条",
        "仲裁、行政、司法等途径",
    ):
        assert needle in text, needle
    await error_of(await (await sifa.as_user("judge")).get(failed["termination"]), 403, "forbidden")


async def test_only_the_committee_and_then_the_assigned_mediator_may_act(sifa: Sifa) -> None:
    mediator = await sifa.as_user("mediator")
    case = await filed(mediator, sifa)
    path = f"/api/mediations/{case['id']}"
    # Other roles are refused outright; another committee's mediator is told it does not exist.
    for username in ("clerk", "judge", "admin", "kiosk1"):
        other = await sifa.as_user(username)
        await error_of(await other.get("/api/mediations"), 403, "forbidden")
        await error_of(await other.post("/api/mediations", json={}), 403, "forbidden")
        await error_of(await other.get(path), 403, "forbidden")
    stranger = await sifa.as_user("mediator_ns")
    await error_of(await stranger.get(path), 404, "not_found")
    await error_of(await stranger.post(f"{path}/accept", json={}), 404, "not_found")
    assert (await ok(await stranger.get("/api/mediations")))["mediations"] == []

    # Assigning someone outside the committee is refused; a colleague may be assigned.
    async with sifa.app[SERVICES].db.transaction() as session:
        from app.store.models import Account

        ns = await session.scalar(select(Account.id).where(Account.username == "mediator_ns"))
    refusal = await error_of(
        await mediator.post(f"{path}/accept", json={"mediator_id": ns}), 422, "validation_failed"
    )
    assert refusal["fields"][0]["field"] == "mediator_id", refusal
    colleague_id, colleague = await second_mediator(sifa)
    await ok(await mediator.post(f"{path}/accept", json={"mediator_id": colleague_id}))
    # From now on only the assigned mediator acts on it.
    at = (sifa.clock.now + dt.timedelta(hours=2)).isoformat()
    await error_of(
        await mediator.post(f"{path}/schedule", json={"scheduled_at": at}), 403, "forbidden"
    )
    await ok(await colleague.post(f"{path}/schedule", json={"scheduled_at": at}))
    past = (sifa.clock.now - dt.timedelta(hours=1)).isoformat()
    await error_of(
        await colleague.post(f"{path}/schedule", json={"scheduled_at": past}),
        422,
        "validation_failed",
    )


async def test_a_filing_is_checked_as_an_application_is(sifa: Sifa) -> None:
    mediator = await sifa.as_user("mediator")
    body = dispute(sifa.clock.now.date())
    body["parties"] = body["parties"][:1]
    await error_of(await mediator.post("/api/mediations", json=body), 422, "validation_failed")
    body = dispute(sifa.clock.now.date())
    body["parties"][0]["id_number"] = "440311198005120010"  # a wrong check digit
    answer = await error_of(
        await mediator.post("/api/mediations", json=body), 422, "validation_failed"
    )
    assert answer["fields"][0]["field"] == "parties[0].id_number", answer
    await error_of(await mediator.get("/api/mediations/999999"), 404, "not_found")
