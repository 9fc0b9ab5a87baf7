"""The server remembers whom the judge let into the video room in the case's current session
(the audit of admissions, every node's): such a seat joining again comes in admitted with no
judge there to let it in, audited as readmitted; a further session (另行开庭) lets nobody in on
an earlier admission."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.keys import SERVICES
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
