"""Service of the ruling on a party's own device, and the transcript saying how each party
attended: one party in the hall at the kiosk, the other at home with a one-time code, through
the real app, signaling server, signer and poppler."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.keys import SERVICES
from app.ruling.chinese import beijing_datetime
from app.services import audit, serving
from app.services.party_codes import PARTY_TOKEN_TTL
from app.store.models import ServiceReceipt
from app.web.session_api import PARTY_HEADER
from signaling.server import SERVER_KEY

from integration.conftest import Sifa
from integration.ruling_flow import (
    ALL_ABSENT,
    PASSED,
    Seat,
    ok,
    people,
    review_transcript,
    scheduled_case,
    seat_room,
    sign_for,
)
from integration.test_live_room import served
from integration.test_party_room import ID_NUMBERS, SELF_TEST, error, party_pass
from integration.test_rulings_issue import check_with_tools, tool

__all__ = ["served"]

ROOM = "光明社区在线司法确认室一"  # the demo room the cases are booked into


@dataclass
class Hearing:
    case_id: int
    mediator: TestClient
    clerk: TestClient
    judge: TestClient
    kiosk: TestClient
    device: TestClient  # the remote party's own device: no login, only its pass
    headers: dict[str, str]
    joined_at: dt.datetime  # when the device entered the video room
    ruling_sha256: str


async def mixed_hearing(served: Sifa) -> Hearing:
    """Party 0 (张三) at the hall's kiosk, party 1 (赵六) on their own device; confirmed and
    the ruling issued."""
    mediator, clerk, judge, kiosk = await people(served)
    case_id = await scheduled_case(mediator, clerk)
    headers = await party_pass(served, mediator, case_id, 1)
    device = await served.make_client(served.app)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))

    # The device enters the video room a little after redeeming its code: the transcript
    # names the entry, recorded by the signaling server, not the redemption.
    served.clock.now += dt.timedelta(minutes=2)
    joined_at = served.clock.now
    seat = Seat(device, case_id, headers=headers, body={"self_test": SELF_TEST})
    await seat.join()
    assert seat.role == "party"
    await served.app[SERVER_KEY].audit_flushed()
    served.clock.now += dt.timedelta(minutes=1)

    url = f"/api/cases/{case_id}/session"
    await ok(await kiosk.post(f"{url}/check-in", json=SELF_TEST))
    room = await seat_room(judge, kiosk, case_id)
    await room.judge.admit(seat)
    await ok(await judge.post(f"{url}/admit", json={}))
    for party in (0, 1):
        await ok(await judge.post(f"{url}/identity", json={"party": party, **PASSED}))
    await ok(await kiosk.post(f"{url}/warning-ack", json={"party": 0}))
    await ok(await kiosk.post(f"{url}/consent", json={"party": 0}))
    await ok(await device.post(f"{url}/warning-ack", json={}, headers=headers))
    await ok(await device.post(f"{url}/consent", json={}, headers=headers))
    for party in (0, 1):
        answers = {"party": party, "agreed_freely": True, "understands": True}
        await ok(await judge.post(f"{url}/answers", json=answers))
    await ok(await judge.post(f"{url}/review", json=ALL_ABSENT))
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"}))
    await review_transcript(kiosk, case_id, (0,))
    await review_transcript(device, case_id, (None,), headers)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    await seat.drop()
    await served.app[SERVER_KEY].audit_flushed()
    return Hearing(
        case_id,
        mediator,
        clerk,
        judge,
        kiosk,
        device,
        headers,
        joined_at,
        issued["sha256"],
    )


async def test_a_remote_party_reads_and_acknowledges_the_ruling_on_its_own_device(
    served: Sifa, tmp_path: Path
) -> None:
    h = await mixed_hearing(served)
    case_id, device, headers = h.case_id, h.device, h.headers
    svc = served.app[SERVICES]

    # The ruling, with the party's pass alone: the signed bytes that were issued.
    response = await device.get(f"/api/cases/{case_id}/ruling.pdf", headers=headers)
    assert response.status == 200 and response.content_type == "application/pdf"
    pdf = await response.read()
    assert hashlib.sha256(pdf).hexdigest() == h.ruling_sha256
    verdict = await svc.desk.verify(pdf, h.ruling_sha256)  # pyHanko, against the court's root
    assert verdict.ok, verdict.problems

    # The party's page may frame the bytes it fetched with its pass (a frame sends no header).
    page = await device.get(f"/party/session/{case_id}")
    assert "frame-src 'self' blob:" in page.headers["Content-Security-Policy"]

    # Refused: another party's receipt, another case's ruling, no pass, a forged pass.
    receipts = f"/api/cases/{case_id}/receipts"
    body = await error(await sign_for(device, case_id, 0, headers), 403)
    assert "本人" in body["message"]
    other = await scheduled_case(h.mediator, h.clerk, room_index=1, hours=3)
    for target in (other, 999_999):
        for path in ("ruling.pdf", "receipts"):
            refused = await device.get(f"/api/cases/{target}/{path}", headers=headers)
            assert refused.status == 404, (target, path, await refused.text())
        refused = await device.post(f"/api/cases/{target}/receipts", json={}, headers=headers)
        assert refused.status == 404, await refused.text()
    payload, signature = headers[PARTY_HEADER].split(".")
    forged = {PARTY_HEADER: f"{payload[:-2]}AA.{signature}"}
    await error(await device.get(f"/api/cases/{case_id}/ruling.pdf", headers=forged), 401)
    await error(await device.post(receipts, json={}, headers=forged), 401)
    await error(await device.post(receipts, json={}), 401)

    # The hall's party signs at the kiosk; the device does not learn where or when.
    await ok(await sign_for(h.kiosk, case_id, 0), 201)
    mine = await ok(await device.get(receipts, headers=headers))
    assert mine["receipts"] == [] and mine["state"] == "ruling_issued"

    # The remote party acknowledges on its own device: the last receipt completes service.
    receipt = await ok(await sign_for(device, case_id, None, headers), 201)
    assert receipt["party"] == 1 and receipt["recipient"] == "赵六"
    assert receipt["device"] == "受送达人本人设备"
    assert "本人设备" in receipt["method"] and "在线服务平台" in receipt["method"]
    assert (await ok(await h.clerk.get(f"/api/cases/{case_id}")))["state"] == "served"
    mine = await ok(await device.get(receipts, headers=headers))
    assert [r["party"] for r in mine["receipts"]] == [1]

    # Once only, wherever the second attempt comes from.
    again = await error(await device.post(receipts, json={"party": 1}, headers=headers), 409)
    assert again["code"] == "already_acknowledged"
    again = await error(await h.kiosk.post(receipts, json={"party": 1}), 409)
    assert again["code"] == "already_acknowledged"
    async with svc.db.transaction() as session:
        query = select(ServiceReceipt).where(ServiceReceipt.case_id == case_id)
        rows = list(await session.scalars(query.order_by(ServiceReceipt.party_position)))
    assert [(r.party_position, r.device) for r in rows] == [
        (0, ROOM),  # the room by its name, not the kiosk's account
        (1, "受送达人本人设备"),
    ]
    assert rows[1].method == receipt["method"]

    # The party's own voucher, signed; not the other party's.
    response = await device.get(f"/api/cases/{case_id}/vouchers/1.pdf", headers=headers)
    assert response.status == 200
    voucher = await response.read()
    assert hashlib.sha256(voucher).hexdigest() == rows[1].voucher_sha256
    assert (await svc.desk.verify(voucher, rows[1].voucher_sha256)).ok
    await error(await device.get(f"/api/cases/{case_id}/vouchers/0.pdf", headers=headers), 404)
    (tmp_path / "own").mkdir()
    own = tmp_path / "own" / "voucher.pdf"
    own.write_bytes(voucher)
    check_with_tools(
        own,
        served,
        [
            "电子送达凭证",
            "赵六",
            h.ruling_sha256,
            "接收设备受送达人本人设备",
            "通过人民法院在线服务平台向受送达人本人设备电子送达",
            "受送达人于本人设备确认签收",
            "（北京时间）表示同意电子送达。依照",
            "《人民法院在线诉讼规则》第二十九条至第三十二条",
        ],
    )
    # The hall's voucher names the room, not the kiosk's account.
    (tmp_path / "hall").mkdir()
    hall = tmp_path / "hall" / "voucher.pdf"
    hall.write_bytes(await (await h.clerk.get(f"/api/cases/{case_id}/vouchers/0.pdf")).read())
    check_with_tools(hall, served, ["张三", f"送达地点{ROOM}", "受送达人于终端确认签收"])
    assert "kiosk" not in tool("pdftotext", str(hall), "-").stdout

    # The trail: who read the ruling and who signed, from which device; never an ID number.
    async with svc.db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
    pid = f"party-{case_id}-1"
    signed = [json.loads(e.details) for e in events if e.action == "service.acknowledged"]
    assert [(d["party"], d["device"]) for d in signed] == [
        (0, ROOM),  # the room by its name, not the kiosk's account
        (1, "受送达人本人设备"),
    ]
    assert signed[1]["code"] > 0  # which redemption of which join code
    assert ("service.acknowledged", pid) in [(e.action, e.actor) for e in events]
    read = [
        json.loads(e.details) for e in events if (e.action, e.actor) == ("ruling.downloaded", pid)
    ]
    assert read and read[0]["device"] == "own_device"
    trail = " ".join(e.details + e.actor for e in events)
    assert not any(number in trail for number in ID_NUMBERS)

    # The pass lives an hour: after that the device needs a new code to read anything.
    served.clock.now += dt.timedelta(minutes=61)
    expired = await error(
        await device.get(f"/api/cases/{case_id}/ruling.pdf", headers=headers), 401
    )
    assert "过期" in expired["message"]


async def test_the_transcript_says_how_each_party_attended(served: Sifa, tmp_path: Path) -> None:
    h = await mixed_hearing(served)
    response = await h.clerk.get(f"/api/cases/{h.case_id}/transcript.pdf")
    assert response.status == 200 and response.headers["X-Sifa-Transcript"] == "archived"
    pdf = await response.read()
    assert (await served.app[SERVICES].desk.verify(pdf, None)).ok
    path = tmp_path / "transcript.pdf"
    path.write_bytes(pdf)
    check_with_tools(
        path,
        served,
        [
            "参加方式",
            f"申请人张三：在{ROOM}现场参加，通过确认室终端参与视频询问。",
            "申请人赵六：经人民法院在线服务平台在本人设备上远程参加，"
            f"于{beijing_datetime(h.joined_at)}（北京时间）加入。",
            "在确认室终端上阅读上述告知并确认知悉",
            "在本人设备上阅读上述告知并确认知悉",
            "在确认室终端上确认申请司法确认该调解协议",
            "在本人设备上确认申请司法确认该调解协议",
        ],
    )
    flat = "".join(tool("pdftotext", "-enc", "UTF-8", str(path), "-").stdout.split())
    assert "申请人张三：经人民法院在线服务平台" not in flat
    assert "申请人赵六：在" + ROOM not in flat


async def test_a_party_whose_pass_ran_out_is_served_with_a_new_code(served: Sifa) -> None:
    """After the hearing, a party away from the hall who has not signed (the phone died, the
    ruling came after the pass expired) gets a new code, reads the ruling and signs for it."""
    h = await mixed_hearing(served)
    case_id, mediator = h.case_id, h.mediator
    codes = f"/api/cases/{case_id}/party-codes"
    served.clock.now += PARTY_TOKEN_TTL + dt.timedelta(minutes=1)
    stale = await h.device.get(f"/api/cases/{case_id}/ruling/screen", headers=h.headers)
    assert stale.status == 401 and "过期" in (await stale.json())["error"]["message"]

    # The party in the hall signs at the kiosk: nobody issues them a code any more.
    await ok(await sign_for(h.kiosk, case_id, 0), 201)
    refused = await error(await mediator.post(codes, json={"party": 0}), 409)
    assert refused["code"] == "already_acknowledged"
    # Only the case's mediator issues codes, after the hearing as before it.
    assert (await h.clerk.post(codes, json={"party": 1})).status == 403

    headers = await party_pass(served, mediator, case_id, 1)
    device = await served.make_client(served.app)
    copy = await ok(await device.get(f"/api/cases/{case_id}/ruling/screen", headers=headers))
    assert copy["sha256"] == h.ruling_sha256
    receipt = await ok(await sign_for(device, case_id, None, headers), 201)
    assert receipt["party"] == 1 and receipt["method"] == serving.OWN_DEVICE_METHOD
    state = await ok(await device.get(f"/api/cases/{case_id}/session", headers=headers))
    assert state["case_state"] == "served"
    # Served on everyone: the case takes no more codes.
    body = await error(await mediator.post(codes, json={"party": 1}), 409)
    assert "served" in body["message"]
