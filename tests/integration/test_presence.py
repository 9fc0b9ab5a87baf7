"""Records of the hearing need the people they concern in the video room, with media as the
server sees it: refused with what is missing until they are, and the evidence stored once
they are. Light signaling clients here (stats reports); real aiortc media in
test_presence_media.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.keys import SERVICES
from app.store.models import AuditEvent, SessionEventRow
from signaling.server import SERVER_KEY

from integration.conftest import Sifa
from integration.ruling_flow import (
    ALL_ABSENT,
    PASSED,
    Seat,
    ok,
    people,
    scheduled_case,
)
from integration.test_live_room import served

__all__ = ["served"]
SELF_TEST = {"camera": True, "microphone": True, "network": True}
YES = {"agreed_freely": True, "understands": True}


async def refused(response: Any) -> list[str]:
    assert response.status == 409, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "not_present"
    zh, en = error["message"].split(" / ")
    assert zh and en  # Chinese first, then English
    missing: list[str] = error["missing"]
    return missing


async def payloads(served: Sifa, case_id: int, kind: str) -> list[dict[str, Any]]:
    async with served.app[SERVICES].db.transaction() as session:
        rows = await session.scalars(
            select(SessionEventRow.payload).where(
                SessionEventRow.case_id == case_id, SessionEventRow.kind == kind
            )
        )
        return [json.loads(p) for p in rows]


async def test_each_record_waits_for_the_people_it_concerns(served: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(served)
    case_id = await scheduled_case(mediator, clerk)
    url = f"/api/cases/{case_id}/session"
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await ok(await kiosk.post(f"{url}/check-in", json=SELF_TEST))

    # Nobody in the room: no admission, no identity check.
    missing = await refused(await judge.post(f"{url}/admit", json={}))
    assert missing == ["审判员不在视频确认室", "等候区没有确认室终端或当事人"]
    missing = await refused(await judge.post(f"{url}/identity", json={"party": 0, **PASSED}))
    assert missing == ["申请人张三（确认室终端或本人设备）不在视频确认室"]

    # The judge alone: the lobby is still empty.
    judge_seat = await Seat(judge, case_id).join()
    missing = await refused(await judge.post(f"{url}/admit", json={}))
    assert missing == ["等候区没有确认室终端或当事人"]

    # The kiosk waits in the lobby: it may be admitted, but nobody is heard from there yet.
    kiosk_seat = await Seat(kiosk, case_id, stats=False).join()
    await ok(await judge.post(f"{url}/admit", json={}))
    missing = await refused(await judge.post(f"{url}/identity", json={"party": 0, **PASSED}))
    assert missing == ["申请人张三（确认室终端或本人设备）仍在等候区，尚未准许入室"]

    # Admitted, but the server sees no media from it (no segment, no stats report).
    await judge_seat.admit(kiosk_seat)
    missing = await refused(await judge.post(f"{url}/identity", json={"party": 0, **PASSED}))
    assert missing == [
        "服务器未收到申请人张三（确认室终端或本人设备）的音视频（没有录像分段，15秒内也没有媒体统计报告）"
    ]

    # Its device reports stats: the kiosk's parties are heard, and each record says how.
    kiosk_seat.stats = True
    await kiosk_seat.report()
    # When the kiosk was admitted is read from the room's audit log, which signaling writes
    # in the background: let it land, so the evidence below can name the time.
    await served.app[SERVER_KEY].audit_flushed()
    for party in (0, 1):
        await ok(await judge.post(f"{url}/identity", json={"party": party, **PASSED}))
        await ok(await kiosk.post(f"{url}/warning-ack", json={"party": party}))
        await ok(await kiosk.post(f"{url}/consent", json={"party": party}))
        await ok(await judge.post(f"{url}/answers", json={"party": party, **YES}))
    await ok(await judge.post(f"{url}/review", json=ALL_ABSENT))
    (admission,) = await payloads(served, case_id, "admit")
    assert admission["presence"]["seats"] == [
        {"participant": kiosk_seat.id, "role": "kiosk", "admitted": False}
    ]
    for record in await payloads(served, case_id, "identity") + await payloads(
        served, case_id, "answers"
    ):
        seen = record["presence"]
        assert seen["participant"] == kiosk_seat.id and seen["role"] == "kiosk"
        assert seen["admitted_since"] is not None
        assert "stats_at" in seen["media"] and "segment" not in seen["media"]

    # The judge leaves: nothing is decided in an empty courtroom (a withdrawal still is).
    await judge_seat.leave()
    missing = await refused(
        await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"})
    )
    assert missing == ["审判员不在视频确认室"]
    judge_seat = await Seat(judge, case_id).join()
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"}))
    async with served.app[SERVICES].db.transaction() as session:
        confirm = await session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.confirm"
            )
        )
    assert confirm is not None
    heard = json.loads(confirm)["presence"]
    assert heard["judge"]["participant"] == judge_seat.id
    assert set(heard["parties"]) == {f"party-{case_id}-0", f"party-{case_id}-1"}
    assert {p["participant"] for p in heard["parties"].values()} == {kiosk_seat.id}
    await kiosk_seat.leave()
    await judge_seat.leave()
