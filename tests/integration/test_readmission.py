"""The server remembers whom the judge let into the video room in the case's current session
(the audit of admissions, every node's): such a seat joining again comes in admitted with no
judge there to let it in, audited as readmitted; a further session (另行开庭) lets nobody in on
an earlier admission; a seat the judge removed stays out of the room formed again."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from app.keys import SERVICES
from app.main import create_app
from app.store.models import AuditEvent
from signaling.server import SERVER_KEY

from integration.conftest import Sifa
from integration.ruling_flow import Seat, ok, people, scheduled_case


async def joins(sifa: Sifa, case_id: int, participant: str) -> list[dict[str, object]]:
    await sifa.app[SERVER_KEY].audit_flushed()
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.case_id == case_id,
                AuditEvent.action == "room.join",
                AuditEvent.actor == participant,
            )
            .order_by(AuditEvent.seq)
        )
        return [json.loads(row.details) for row in rows]


async def test_an_admitted_seat_comes_back_in_by_itself_until_a_further_session(
    sifa: Sifa,
) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/open-session", json={}))
    judge_seat = await Seat(judge, case_id).join()
    kiosk_seat = await Seat(kiosk, case_id).join()
    assert not kiosk_seat.admitted.is_set()  # the first time, the judge lets it in
    await judge_seat.admit(kiosk_seat)

    # Both gone (as a server restart loses every seat); the kiosk is back first, alone.
    await judge_seat.leave()
    await kiosk_seat.leave()
    await sifa.app[SERVER_KEY].audit_flushed()  # the admission is on record
    again = await Seat(kiosk, case_id).join()
    assert again.admitted.is_set()
    await again.report()  # admitted in the room's eyes: it may report media
    await again.leave()

    # A further session verifies identity again: the judge lets the room in afresh.
    await ok(await judge.post(f"{path}/session/reconvene", json={}))
    await sifa.app[SERVER_KEY].audit_flushed()
    lobby = await Seat(kiosk, case_id).join()
    assert not lobby.admitted.is_set()
    await lobby.leave()

    details = await joins(sifa, case_id, kiosk_seat.id)
    assert [(d["admitted"], d.get("readmitted")) for d in details] == [
        (False, None),
        (True, True),
        (False, None),
    ], details


async def test_a_seat_the_judge_removed_stays_out_when_the_room_forms_again(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    judge_seat = await Seat(judge, case_id).join()
    kiosk_seat = await Seat(kiosk, case_id).join()
    await judge_seat.admit(kiosk_seat)
    assert judge_seat.ws is not None
    await judge_seat.ws.send_json(
        {"type": "remove", "participant": kiosk_seat.id, "reason": "扰乱秩序"}
    )
    for _ in range(100):
        if any(m["type"] == "removed" for m in kiosk_seat.received):
            break
        await asyncio.sleep(0.05)
    assert [m["reason"] for m in kiosk_seat.received if m["type"] == "removed"] == ["扰乱秩序"]
    await sifa.app[SERVER_KEY].audit_flushed()  # the removal is on record

    # The same data served afresh, as after a restart: the room forms again without the
    # removed seat, which is refused as the room it was removed from refused it.
    restarted = await sifa.make_client(create_app(sifa.settings, clock=sifa.clock))
    login = await restarted.post("/api/login", json={"username": "kiosk1", "password": "demo"})
    headers = {"Authorization": f"Bearer {(await ok(login))['token']}"}
    door = await ok(
        await restarted.post(f"/api/cases/{case_id}/room-token", json={}, headers=headers)
    )
    ws = await restarted.ws_connect("/ws")
    await ws.send_json({"type": "join", "v": 1, "case_id": case_id, "token": door["token"]})
    refusal = await ws.receive_json(timeout=10)
    await ws.close()
    assert (refusal["type"], refusal["code"]) == ("error", "removed"), refusal
    await judge_seat.leave()
