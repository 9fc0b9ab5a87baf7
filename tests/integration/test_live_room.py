"""The video room through the whole app: room tokens from the API, seats checked against the
database, and every join and admission in the case's hash-chained audit log."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aioice.ice
import pytest

from app.keys import SERVICES
from app.main import create_app
from app.services import audit
from signaling.server import SERVER_KEY

from integration.conftest import Clock, Sifa, make_settings, on_a_real_port, prepare
from integration.ruling_flow import ok, scheduled_case
from signaling_helpers import MediaPeer


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice leaves out 127.0.0.1; on loopback-only tests that leaves no candidate at all.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Sifa]:
    """The app on a real port, so WebSocket and HTTP clients reach the same server."""
    async with on_a_real_port(tmp_path, Clock()) as sifa:
        yield sifa


async def test_kiosk_and_judge_meet_through_the_app(served: Sifa) -> None:
    mediator, clerk = await served.as_user("mediator"), await served.as_user("clerk")
    judge, kiosk = await served.as_user("judge"), await served.as_user("kiosk1")
    case_id = await scheduled_case(mediator, clerk)
    judge_door = await ok(await judge.post(f"/api/cases/{case_id}/room-token"))
    kiosk_door = await ok(await kiosk.post(f"/api/cases/{case_id}/room-token"))
    assert judge_door["role"] == "judge" and kiosk_door["role"] == "kiosk"
    assert judge_door["ice_servers"] == []  # no public STUN server unless configured
    ws_url = str(judge.make_url("/ws"))
    async with aiohttp.ClientSession() as session:
        judge_peer = MediaPeer(session, ws_url, judge_door["participant_id"])
        kiosk_peer = MediaPeer(session, ws_url, kiosk_door["participant_id"])
        try:
            await judge_peer.join(judge_door["token"], case_id)
            await judge_peer.admits(kiosk_peer, kiosk_door["token"])
            await judge_peer.wait_frames(kiosk_peer.id, video=15, audio=15)
            await kiosk_peer.wait_frames(judge_peer.id, video=15, audio=15)
        finally:
            await kiosk_peer.close()
            await judge_peer.close()
    await served.app[SERVER_KEY].audit_flushed()
    async with served.app[SERVICES].db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
        report = await audit.verify(session)
    actions = [(e.action, e.actor) for e in events]
    assert ("room.join", judge_door["participant_id"]) in actions
    assert ("room.join", kiosk_door["participant_id"]) in actions
    assert ("room.admit", kiosk_door["participant_id"]) in actions
    assert report.intact


async def test_room_tokens_only_for_the_case_people(served: Sifa) -> None:
    mediator, clerk = await served.as_user("mediator"), await served.as_user("clerk")
    case_id = await scheduled_case(mediator, clerk)
    admin = await served.as_user("admin")
    other_kiosk = await served.as_user("kiosk2")
    assert (await admin.post(f"/api/cases/{case_id}/room-token")).status == 404
    assert (await other_kiosk.post(f"/api/cases/{case_id}/room-token")).status == 404
    observer = await ok(await clerk.post(f"/api/cases/{case_id}/room-token"))
    assert observer["role"] == "clerk"
    # A case that is not booked has no open room.
    draft = await ok(await mediator.get("/api/cases"))
    draft_id = next(c["id"] for c in draft["cases"] if c["state"] == "draft")
    response = await mediator.post(f"/api/cases/{draft_id}/room-token")
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "wrong_state"
    anonymous = await served.make_client(served.app)
    assert (await anonymous.post(f"/api/cases/{case_id}/room-token")).status == 401


async def test_turn_credentials_from_configuration(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    clock = Clock()
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}",
        SIFA_STUN_URLS="stun:turn.court.example:3478",
        SIFA_TURN_URLS="turn:turn.court.example:3478?transport=udp",
        SIFA_TURN_SECRET="shared-secret-with-coturn",
    )
    await prepare(settings, clock.now)
    sifa = Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)
    case_id = await scheduled_case(await sifa.as_user("mediator"), await sifa.as_user("clerk"))
    door = await ok(await (await sifa.as_user("judge")).post(f"/api/cases/{case_id}/room-token"))
    stun, turn = door["ice_servers"]
    assert stun == {"urls": ["stun:turn.court.example:3478"]}
    expiry, participant = turn["username"].split(":", 1)
    assert participant == door["participant_id"] and int(expiry) > clock.now.timestamp()
    expected = base64.b64encode(
        hmac.new(b"shared-secret-with-coturn", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
