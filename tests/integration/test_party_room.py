"""A party who is not at the hall joins the video room from their own device: a one-time code
from the mediator, a party token, a room token for the party's own seat, the lobby, the judge's
admission, and the same identity check as everyone else — all through the real app, signaling
server and aiortc peers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from app.domain.clock import COURT_TZ
from app.keys import SERVICES
from app.services import audit
from app.services.demo import sample_application
from app.web.session_api import PARTY_HEADER
from signaling.server import SERVER_KEY
from signaling.tokens import verify_room_token

from integration.conftest import Sifa
from integration.ruling_flow import PASSED, ok, scheduled_case
from integration.test_live_room import loopback_ice, served
from signaling_helpers import MediaPeer

__all__ = ["loopback_ice", "served"]

SELF_TEST = {"camera": True, "microphone": True, "network": True}
APPLICANTS: Any = sample_application(dt.datetime.now(COURT_TZ).date())["applicants"]
ID_NUMBERS = [a["id_number"] for a in APPLICANTS]


async def error(response: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    assert response.status == status, (response.status, await response.text())
    body: dict[str, Any] = (await response.json())["error"]
    return body


async def party_pass(
    served: Sifa, mediator: TestClient, case_id: int, party: int
) -> dict[str, str]:
    """The mediator issues a code; the party's own device redeems it for a party token."""
    issued = await ok(
        await mediator.post(f"/api/cases/{case_id}/party-codes", json={"party": party}), 201
    )
    device = await served.make_client(served.app)
    joined = await ok(await device.post("/api/join", json={"code": issued["code"]}))
    # A spent code is spent: a second redemption (another device, a replay) is refused.
    again = await error(await device.post("/api/join", json={"code": issued["code"]}), 403)
    assert again["code"] == "join_code_used"
    return {PARTY_HEADER: joined["token"]}


async def test_a_party_token_opens_only_that_partys_seat(served: Sifa) -> None:
    mediator, clerk = await served.as_user("mediator"), await served.as_user("clerk")
    case_id = await scheduled_case(mediator, clerk)
    headers = await party_pass(served, mediator, case_id, 1)
    device = await served.make_client(served.app)  # no login, no cookie: only the party token

    door = await ok(
        await device.post(
            f"/api/cases/{case_id}/room-token", json={"self_test": SELF_TEST}, headers=headers
        )
    )
    pid = f"party-{case_id}-1"
    assert door["role"] == "party" and door["participant_id"] == pid
    assert door["display_name"] == "赵六" and 0 < door["expires_in"] <= 120
    assert door["ice_servers"] == []
    svc = served.app[SERVICES]
    claims = verify_room_token(svc.secret, door["token"], now=served.clock.now.timestamp())
    assert (claims.case_id, claims.participant_id, claims.role) == (case_id, pid, "party")
    assert claims.display_name == "赵六"

    async with svc.db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
    issued = [e for e in events if e.action == "room.token_issued"]
    assert [e.actor for e in issued] == [pid]
    details = json.loads(issued[0].details)
    assert details == {
        "role": "party",
        "participant": pid,
        "party": 1,
        "device": "own_device",
        "self_test": SELF_TEST,
    }
    trail = " ".join(e.details + e.actor for e in events)
    assert not any(number in trail for number in ID_NUMBERS)  # never an ID number

    # Another case, booked or not, is not the party's: the same answer as a missing case.
    other = await scheduled_case(mediator, clerk, room_index=1, hours=3)
    for target in (other, 999_999):
        refused = await device.post(f"/api/cases/{target}/room-token", headers=headers)
        assert refused.status == 404, await refused.text()

    # A malformed self-test is refused rather than recorded.
    bad = await device.post(
        f"/api/cases/{case_id}/room-token", json={"self_test": {"camera": "yes"}}, headers=headers
    )
    assert bad.status == 422

    # A forged pass (another party's seat claimed by editing the token) and no pass at all.
    payload, signature = headers[PARTY_HEADER].split(".")
    forged = {PARTY_HEADER: f"{payload[:-2]}AA.{signature}"}
    await error(await device.post(f"/api/cases/{case_id}/room-token", headers=forged), 401)
    await error(await device.post(f"/api/cases/{case_id}/room-token"), 401)

    # The pass lives an hour; after that the device needs a new code.
    served.clock.now += dt.timedelta(minutes=61)
    body = await error(await device.post(f"/api/cases/{case_id}/room-token", headers=headers), 401)
    assert "过期" in body["message"]


async def test_the_judge_admits_a_remote_party_and_checks_identity(served: Sifa) -> None:
    mediator, clerk = await served.as_user("mediator"), await served.as_user("clerk")
    judge, kiosk = await served.as_user("judge"), await served.as_user("kiosk1")
    case_id = await scheduled_case(mediator, clerk)
    headers = await party_pass(served, mediator, case_id, 1)
    device = await served.make_client(served.app)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))

    judge_door = await ok(await judge.post(f"/api/cases/{case_id}/room-token"))
    kiosk_door = await ok(await kiosk.post(f"/api/cases/{case_id}/room-token"))
    party_door = await ok(
        await device.post(
            f"/api/cases/{case_id}/room-token", json={"self_test": SELF_TEST}, headers=headers
        )
    )
    ws_url = str(judge.make_url("/ws"))
    async with aiohttp.ClientSession() as session:
        judge_peer = MediaPeer(session, ws_url, judge_door["participant_id"])
        kiosk_peer = MediaPeer(session, ws_url, kiosk_door["participant_id"])
        party_peer = MediaPeer(session, ws_url, party_door["participant_id"])
        try:
            await judge_peer.join(judge_door["token"], case_id)
            await judge_peer.admits(kiosk_peer, kiosk_door["token"])

            # The party waits in the lobby, seeing nobody; the judge sees who waits, by name.
            welcome = await party_peer.join(party_door["token"], case_id)
            assert welcome["you"]["role"] == "party" and not welcome["you"]["admitted"]
            assert welcome["participants"] == []
            joined = await judge_peer.client.expect("presence", event="joined", within=5)
            assert joined["participant"]["id"] == party_peer.id
            assert joined["participant"]["role"] == "party"
            assert joined["participant"]["name"] == "赵六"
            await judge_peer.client.send({"type": "admit", "participant": party_peer.id})
            admitted = await party_peer.client.expect("admitted", within=5)
            assert {p["role"] for p in admitted["participants"]} == {"judge", "kiosk"}

            # Media both ways between the judge and the party, and between hall and party.
            await judge_peer.wait_frames(party_peer.id, video=15, audio=15, within=20)
            await party_peer.wait_frames(judge_peer.id, video=15, audio=15, within=20)
            await party_peer.wait_frames(kiosk_peer.id, video=5, audio=5, within=20)
            await kiosk_peer.wait_frames(party_peer.id, video=5, audio=5, within=20)

            # The judge checks the remote party's identity on camera like anyone else's.
            url = f"/api/cases/{case_id}/session"
            await ok(await judge.post(f"{url}/admit", json={}))
            state = await ok(await judge.post(f"{url}/identity", json={"party": 1, **PASSED}))
            assert state["parties"][1]["identity_passed"]
            seen = await ok(await device.get(url, headers=headers))
            assert seen["parties"][1]["identity"]["result"] == "passed"
            await ok(await device.post(f"{url}/warning-ack", json={}, headers=headers))
            state = await ok(await device.post(f"{url}/consent", json={}, headers=headers))
            assert state["parties"][1]["consented_at"] is not None
        finally:
            await party_peer.close()
            await kiosk_peer.close()
            await judge_peer.close()
    await served.app[SERVER_KEY].audit_flushed()

    # The record shows the party attended from their own device, and who checked them.
    async with served.app[SERVICES].db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
        report = await audit.verify(session)
    assert report.intact
    pid = party_door["participant_id"]
    actions = [(e.action, e.actor) for e in events]
    for action in ("session.party_joined", "room.token_issued", "room.join", "room.admit"):
        assert (action, pid) in actions, action
    join = next(e for e in events if (e.action, e.actor) == ("room.join", pid))
    assert json.loads(join.details)["role"] == "party"
    timeline = (await ok(await judge.get(f"/api/cases/{case_id}/timeline")))["timeline"]
    kinds = {(i["kind"], i["actor"]) for i in timeline}
    assert ("session.party_joined", pid) in kinds and ("room.join", pid) in kinds
    identity = next(i for i in timeline if i["kind"] == "identity")
    assert identity["party"] == 1 and identity["actor"] == "judge"
    consent = next(i for i in timeline if i["kind"] == "consent")
    assert consent["details"] == {"device": "own_device"} and consent["actor"] == pid
