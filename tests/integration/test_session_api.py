"""The live session's API through HTTP on the real app: records, refusals, join codes, the
timeline and the transcript."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from app.domain.errors import ValidationError
from app.domain.grounds import RejectGround
from app.domain.session import NotReady
from app.keys import SERVICES
from app.main import create_app
from app.services import sessions
from app.store.models import AuditEvent, Case
from app.web import session_api

from integration.conftest import Clock, Sifa, make_settings, prepare
from integration.ruling_flow import ok, review_transcript, scheduled_case, seat_room, sign_for
from realdeps import require_tool

PASSED = {"method": "id_card_camera", "result": "passed", "note": "与身份证原件一致"}
YES = {"agreed_freely": True, "understands": True}
ALL_ABSENT = {"items": {g.value: {"present": False} for g in RejectGround}}
SELF_TEST = {"camera": True, "microphone": True, "network": True}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated demo data, made once per module: hashing the demo accounts' passwords is
    most of the cost of a fresh app, and each test here only needs its own copy."""
    folder = tmp_path_factory.mktemp("session-template")
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'sifa.db'}")
    asyncio.run(prepare(settings, dt.datetime.now(dt.UTC)))
    return folder


@pytest.fixture
def sifa(prepared: Path, tmp_path: Path, clock: Clock, aiohttp_client: Callable[..., Any]) -> Sifa:
    """Like conftest's `sifa`, from a copy of the prepared database, keys and certificates."""
    folder = tmp_path / "sifa"
    shutil.copytree(prepared, folder)
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'sifa.db'}")
    return Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)


@dataclass
class People:
    mediator: TestClient
    clerk: TestClient
    judge: TestClient
    kiosk: TestClient  # the kiosk of the room the case is booked into
    other_kiosk: TestClient  # the kiosk of another room


@pytest.fixture
async def people(sifa: Sifa) -> People:
    return People(
        await sifa.as_user("mediator"),
        await sifa.as_user("clerk"),
        await sifa.as_user("judge"),
        await sifa.as_user("kiosk1"),
        await sifa.as_user("kiosk2"),
    )


def url(case_id: int, tail: str = "") -> str:
    return f"/api/cases/{case_id}/session{tail}"


async def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = (await response.json())["error"]
    return body


def tick(sifa: Sifa, minutes: float) -> None:
    sifa.clock.now += dt.timedelta(minutes=minutes)


async def open_case(sifa: Sifa, p: People) -> int:
    case_id = await scheduled_case(p.mediator, p.clerk)
    await ok(await p.kiosk.post(url(case_id, "/check-in"), json=SELF_TEST))
    await ok(await p.judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await seat_room(p.judge, p.kiosk, case_id)
    await ok(await p.judge.post(url(case_id, "/admit"), json={}))
    return case_id


async def complete_session(sifa: Sifa, p: People, case_id: int) -> dict[str, Any]:
    """Every record a confirmation needs, a minute apart (a helper for decision tests)."""
    for party in (0, 1):
        tick(sifa, 1)
        await ok(await p.judge.post(url(case_id, "/identity"), json={"party": party, **PASSED}))
    tick(sifa, 1)
    for party in (0, 1):
        await ok(await p.kiosk.post(url(case_id, "/warning-ack"), json={"party": party}))
        await ok(await p.judge.post(url(case_id, "/answers"), json={"party": party, **YES}))
        await ok(await p.kiosk.post(url(case_id, "/consent"), json={"party": party}))
    tick(sifa, 1)
    state: dict[str, Any] = await ok(await p.judge.post(url(case_id, "/review"), json=ALL_ABSENT))
    return state


async def check_ready(sifa: Sifa, case_id: int, decision: str, ground: str | None = None) -> None:
    """What rulings.decide will call once the lead wires it in."""
    async with sifa.app[SERVICES].db.transaction() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        await sessions.check_ready(session, case, decision, ground)


# --- the whole session ---------------------------------------------------------------------


async def test_a_session_from_check_in_to_ready_to_confirm(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    state = await ok(await p.judge.get(url(case_id)))
    assert state["step"] == "identity" and state["session"] == 1
    assert state["check_in"]["ok"] is True and state["admitted_at"] is not None
    assert [x["name"] for x in state["parties"]] == ["张三", "赵六"]
    assert not state["ready_to_confirm"]

    state = await complete_session(sifa, p, case_id)
    assert state["step"] == "review" and state["ready_to_confirm"]
    assert state["missing_for_confirm"] == [] and state["review"]["unanswered"] == []
    assert [t["step"] for t in state["timings"]] == ["identity", "inquiry", "review"]
    assert state["timings"][0]["seconds"] == 120 and state["elapsed_seconds"] == 240
    assert state["target_seconds"] == 1200 and not state["over_target"]
    party = state["parties"][0]
    assert (
        party["identity"]["result"] == "passed" and party["identity"]["note"] == "与身份证原件一致"
    )
    assert party["consented_at"] and party["warning_acknowledged_at"]

    # A reload (a new GET, by anyone who may see the case) gives the same state.
    for client in (p.judge, p.kiosk, p.clerk, p.mediator):
        assert await ok(await client.get(url(case_id))) == state

    await check_ready(sifa, case_id, "confirm")
    tick(sifa, 1)
    await ok(await p.judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"}))
    state = await ok(await p.kiosk.get(url(case_id)))
    assert state["step"] == "service" and state["decision"]["decision"] == "confirm"


async def test_the_judge_cannot_confirm_before_every_condition(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await ok(await p.judge.post(url(case_id, "/identity"), json={"party": 0, **PASSED}))
    with pytest.raises(NotReady) as refused:
        await check_ready(sifa, case_id, "confirm")
    missing = refused.value.missing
    assert "申请人赵六尚未核验身份" in missing and "申请人张三尚未在终端确认" in missing
    state = await ok(await p.judge.get(url(case_id)))
    assert state["missing_for_confirm"] == list(missing)
    items = state["missing_for_confirm_items"]
    assert [i["zh"] for i in items] == list(missing)
    assert {
        "code": "identity_pending",
        "party": 1,
        "party_name": "赵六",
        "grounds": [],
        "zh": "申请人赵六尚未核验身份",
        "en": "Applicant 赵六: identity not yet checked",
    } in items
    unclear = next(i for i in items if i["grounds"] == ["unclear"])
    assert unclear["code"] == "review_pending" and unclear["party"] is None
    assert unclear["en"] == "Review item “Content unclear” not yet reviewed"
    with pytest.raises(NotReady, match="未经审查认定"):
        await check_ready(sifa, case_id, "reject", "unclear")
    with pytest.raises(ValidationError):
        await check_ready(sifa, case_id, "reject", None)
    await check_ready(sifa, case_id, "withdraw")  # always allowed (Interp 357)


async def test_a_rejection_rests_on_a_ground_found_or_a_no(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await ok(await p.judge.post(url(case_id, "/identity"), json={"party": 1, **PASSED}))
    no = {"party": 1, "agreed_freely": False, "understands": True, "note": "称系受胁迫签字"}
    await ok(await p.judge.post(url(case_id, "/answers"), json=no))
    await check_ready(sifa, case_id, "reject", "not_voluntary")
    found = {"items": {"public_order": {"present": True, "note": "协议约定偿还赌债"}}}
    await ok(await p.judge.post(url(case_id, "/review"), json=found))
    await check_ready(sifa, case_id, "reject", "public_order")
    with pytest.raises(NotReady):
        await check_ready(sifa, case_id, "reject", "mandatory_law")


# --- refusals ------------------------------------------------------------------------------


async def test_each_record_belongs_to_one_role(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    identity = {"party": 0, **PASSED}
    for client, path, body in [
        (p.kiosk, "/identity", identity),
        (p.mediator, "/identity", identity),
        (p.clerk, "/answers", {"party": 0, **YES}),
        (p.kiosk, "/review", ALL_ABSENT),
        (p.kiosk, "/admit", {}),
        (p.judge, "/check-in", SELF_TEST),
        (p.judge, "/consent", {"party": 0}),
        (p.mediator, "/warning-ack", {"party": 0}),
        (p.kiosk, "/reconvene", {}),
    ]:
        body = await error(await client.post(url(case_id, path), json=body), 403)
        assert body["code"] == "forbidden", (path, body)


async def test_another_rooms_kiosk_and_strangers_see_nothing(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    assert (await error(await p.other_kiosk.get(url(case_id)), 404))["code"] == "not_found"
    await error(await p.other_kiosk.post(url(case_id, "/consent"), json={"party": 0}), 404)
    await error(await p.other_kiosk.post(url(case_id, "/check-in"), json=SELF_TEST), 404)
    await error(await p.other_kiosk.get(f"/api/cases/{case_id}/timeline"), 404)
    anonymous = await sifa.make_client(sifa.app)
    assert (await error(await anonymous.get(url(case_id)), 401))["code"] == "unauthenticated"
    await error(await p.judge.get(url(999999)), 404)


async def test_consent_before_identity_names_what_is_missing(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await ok(await p.kiosk.post(url(case_id, "/warning-ack"), json={"party": 0}))
    body = await error(await p.kiosk.post(url(case_id, "/consent"), json={"party": 0}), 409)
    assert body["code"] == "session_refused" and "申请人张三的身份核验尚未通过" in body["message"]
    body = await error(await p.judge.post(url(case_id, "/answers"), json={"party": 1, **YES}), 409)
    assert "申请人赵六的身份核验尚未通过" in body["message"]
    await ok(await p.judge.post(url(case_id, "/identity"), json={"party": 0, **PASSED}))
    await ok(await p.kiosk.post(url(case_id, "/consent"), json={"party": 0}))
    body = await error(await p.kiosk.post(url(case_id, "/consent"), json={"party": 0}), 409)
    assert body["code"] == "conflict"


async def test_records_wait_for_the_session_and_stop_after_the_decision(
    sifa: Sifa, people: People
) -> None:
    p = people
    case_id = await scheduled_case(p.mediator, p.clerk)
    await ok(await p.kiosk.post(url(case_id, "/check-in"), json=SELF_TEST))  # before opening
    body = await error(
        await p.judge.post(url(case_id, "/identity"), json={"party": 0, **PASSED}), 409
    )
    assert body["code"] == "wrong_state" and "scheduled" in body["message"]
    await ok(await p.judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await ok(await p.judge.post(f"/api/cases/{case_id}/decision", json={"decision": "withdraw"}))
    await error(await p.kiosk.post(url(case_id, "/warning-ack"), json={"party": 0}), 409)
    state = await ok(await p.judge.get(url(case_id)))
    assert state["step"] == "service" and state["decision"]["decision"] == "withdraw"


async def test_bad_bodies_are_refused_field_by_field(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await ok(await p.judge.post(url(case_id, "/identity"), json={"party": 0, **PASSED}))
    bad = [
        ("/identity", {"party": 0, "method": "fingerprint", "result": "passed"}, "method"),
        ("/identity", {"party": 9, **PASSED}, "party"),
        ("/identity", {"party": "0", **PASSED}, "party"),
        ("/identity", {"party": 0, "method": "identity_platform", "result": "passed"}, "reference"),
        ("/identity", {"party": 0, **PASSED, "note": "号码440311198005120015"}, "note"),
        ("/review", {"items": {"astrology": {"present": False}}}, "items.astrology"),
        ("/review", {"items": {"unclear": {"present": True}}}, "items.unclear.note"),
        ("/answers", {"party": 0, "agreed_freely": "yes", "understands": True}, "agreed_freely"),
    ]
    for path, payload, field in bad:
        body = await error(await p.judge.post(url(case_id, path), json=payload), 422)
        assert body["fields"][0]["field"] == field, (path, body)
    body = await error(await p.kiosk.post(url(case_id, "/check-in"), json={"camera": 1}), 422)
    assert {f["field"] for f in body["fields"]} == {"camera", "microphone", "network"}


# --- one-time codes and a party's own device -----------------------------------------------


async def issue_code(p: People, case_id: int, party: int) -> str:
    body = await ok(
        await p.mediator.post(f"/api/cases/{case_id}/party-codes", json={"party": party}), 201
    )
    assert body["party"] == party and len(body["code"]) == 11  # XXXXX-XXXXX
    code: str = body["code"]
    return code


async def test_a_party_joins_with_a_code_and_confirms_for_themself(
    sifa: Sifa, people: People
) -> None:
    p = people
    case_id = await open_case(sifa, p)
    code = await issue_code(p, case_id, 1)
    device = await sifa.make_client(sifa.app)
    joined = await ok(await device.post("/api/join", json={"code": code.lower()}))
    assert joined["role"] == "party" and joined["case_id"] == case_id and joined["party"] == 1
    assert joined["party_name"] == "赵六"
    headers = {session_api.PARTY_HEADER: joined["token"]}

    await ok(await p.judge.post(url(case_id, "/identity"), json={"party": 1, **PASSED}))
    state = await ok(await device.get(url(case_id), headers=headers))
    assert state["parties"][1]["identity"]["result"] == "passed"
    assert state["parties"][1]["identity"]["note"] is None  # notes stay with the court

    await ok(await device.post(url(case_id, "/warning-ack"), json={}, headers=headers))
    state = await ok(await device.post(url(case_id, "/consent"), json={}, headers=headers))
    assert state["parties"][1]["consented_at"] is not None

    # Only for themself, only these steps, only this case.
    body = await error(
        await device.post(url(case_id, "/consent"), json={"party": 0}, headers=headers), 403
    )
    assert "本人" in body["message"]
    await error(
        await device.post(url(case_id, "/identity"), json={"party": 1, **PASSED}, headers=headers),
        401,
    )
    await error(await device.get(f"/api/cases/{case_id}/timeline", headers=headers), 401)
    other = await scheduled_case(p.mediator, p.clerk, room_index=1, hours=3)
    await error(await device.get(url(other), headers=headers), 404)
    await error(await device.post(url(other, "/consent"), json={}, headers=headers), 404)

    # A forged or stale token is refused.
    forged = {session_api.PARTY_HEADER: joined["token"][:-2] + "AA"}
    await error(await device.get(url(case_id), headers=forged), 401)
    tick(sifa, 61)
    body = await error(await device.get(url(case_id), headers=headers), 401)
    assert "过期" in body["message"]


async def test_a_code_is_single_use_and_short_lived(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    device = await sifa.make_client(sifa.app)
    code = await issue_code(p, case_id, 0)
    await ok(await device.post("/api/join", json={"code": code}))
    body = await error(await device.post("/api/join", json={"code": code}), 403)
    assert body["code"] == "join_code_used" and "已使用" in body["message"]

    late = await issue_code(p, case_id, 0)
    tick(sifa, 10)
    body = await error(await device.post("/api/join", json={"code": late}), 403)
    assert body["code"] == "join_code_expired" and "已过期" in body["message"]

    await error(await device.post("/api/join", json={"code": "ABCDE-FGHJK"}), 404)
    await error(await device.post("/api/join", json={"code": "short"}), 422)


async def test_only_the_cases_mediator_issues_codes(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    for client in (p.judge, p.kiosk, p.clerk):
        await error(await client.post(f"/api/cases/{case_id}/party-codes", json={"party": 0}), 403)
    await error(await p.mediator.post(f"/api/cases/{case_id}/party-codes", json={"party": 5}), 422)
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = (await session.execute(text("SELECT code_hash FROM party_codes"))).all()
    assert rows == []  # nothing issued by the refusals; and codes are stored only as hashes


# --- new sessions, audit, timeline, transcript ---------------------------------------------


async def test_a_reconvened_session_verifies_identity_again(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await complete_session(sifa, p, case_id)
    tick(sifa, 30)
    state = await ok(await p.judge.post(url(case_id, "/reconvene"), json={}))
    assert state["session"] == 2 and state["step"] == "identity"
    assert all(x["identity"] is None and x["consented_at"] is None for x in state["parties"])
    assert await ok(await p.kiosk.get(url(case_id))) == state
    with pytest.raises(NotReady):
        await check_ready(sifa, case_id, "confirm")


async def test_records_are_append_only_and_audited_without_notes(
    sifa: Sifa, people: People
) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await complete_session(sifa, p, case_id)
    async with sifa.app[SERVICES].db.engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            await conn.execute(text("UPDATE session_events SET kind = 'review'"))
        await conn.rollback()
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = (
            await session.execute(
                select(AuditEvent).where(
                    AuditEvent.case_id == case_id, AuditEvent.action.like("session.%")
                )
            )
        ).scalars()
        actions = {r.action: json.loads(r.details) for r in rows}
    assert set(actions) >= {
        "session.check_in",
        "session.admit",
        "session.identity",
        "session.warning_ack",
        "session.consent",
        "session.answers",
        "session.review",
    }
    assert actions["session.identity"] == {
        "session": 1,
        "party": 1,
        "method": "id_card_camera",
        "result": "passed",
    }


async def test_the_timeline_lists_every_step_in_order(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await open_case(sifa, p)
    await complete_session(sifa, p, case_id)
    tick(sifa, 1)
    await ok(await p.judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"}))
    tick(sifa, 1)
    await review_transcript(p.kiosk, case_id)
    await ok(await p.judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    for party in (0, 1):
        tick(sifa, 1)
        await ok(await sign_for(p.kiosk, case_id, party), 201)

    body = await ok(await p.clerk.get(f"/api/cases/{case_id}/timeline"))
    kinds = [i["kind"] for i in body["timeline"]]
    for expected in (
        "case.schedule",
        "check_in",
        "case.open_session",
        "admit",
        "identity",
        "warning_ack",
        "consent",
        "answers",
        "review",
        "case.confirm",
        "case.issue_ruling",
        "service.acknowledged",
        "case.serve",
    ):
        assert expected in kinds, expected
    assert kinds.count("identity") == 2 and kinds.count("service.acknowledged") == 2
    times = [i["at"] for i in body["timeline"]]
    assert times == sorted(times, key=dt.datetime.fromisoformat)
    assert kinds.index("review") < kinds.index("case.confirm") < kinds.index("case.serve")
    assert all("note" not in (i["details"] or {}) for i in body["timeline"])

    state = await ok(await p.judge.get(url(case_id)))
    assert state["step"] == "closed"
    assert [t["step"] for t in state["timings"]] == ["identity", "inquiry", "review", "service"]
    assert state["timings"][-1]["seconds"] == 180 and state["elapsed_seconds"] == 8 * 60


def pdf_text(path: Path) -> str:
    """The PDF's text as poppler extracts it, whitespace removed (Chinese has none)."""
    out = subprocess.run(
        [require_tool("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return "".join(out.split())


async def test_the_transcript_is_a_signed_chinese_pdf(
    sifa: Sifa, people: People, tmp_path: Any
) -> None:
    p = people
    case_id = await open_case(sifa, p)
    for client in (p.judge, p.clerk):  # nothing said yet, but the session has begun
        assert (await client.get(f"/api/cases/{case_id}/transcript.pdf")).status == 200
    await complete_session(sifa, p, case_id)
    await ok(await p.judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"}))

    for client in (p.mediator, p.kiosk):
        await error(await client.get(f"/api/cases/{case_id}/transcript.pdf"), 403)
    response = await p.clerk.get(f"/api/cases/{case_id}/transcript.pdf")
    assert response.status == 200 and response.content_type == "application/pdf"
    pdf = await response.read()
    result = await sifa.app[SERVICES].desk.verify(pdf, None)
    assert result.ok, result.problems

    path = tmp_path / "transcript.pdf"
    path.write_bytes(pdf)
    flat = pdf_text(path)
    for needle in (
        "深圳市光明区人民法院",
        "笔录",
        "民特",
        "审判员王明",
        "书记员陈静",
        "调解员李华",
        "申请人张三：以“当庭出示身份证件比对”方式核验身份，结果：通过",
        "申请人赵六答：是。",
        "虚假调解",
        "（四）违反自愿原则：不存在。",
        "裁定该调解协议有效",
    ):
        assert needle in flat, needle
    assert "4403111980" not in flat  # no ID numbers in the transcript


async def test_no_transcript_before_the_session_begins(sifa: Sifa, people: People) -> None:
    p = people
    case_id = await scheduled_case(p.mediator, p.clerk)
    await error(await p.judge.get(f"/api/cases/{case_id}/transcript.pdf"), 409)
