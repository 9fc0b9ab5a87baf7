"""A hearing with real aiortc media: the recorder's live segments are the evidence of presence;
the kiosk drops during the inquiry, a record is refused while it is away, and the transcript
says when it was in the room, lists the recording's segments with their hashes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aioice.ice
import pytest
from sqlalchemy import select

from app.domain.clock import court_time
from app.keys import SERVICES
from app.store.models import AuditEvent, RecordingSegment, SessionEventRow
from signaling.server import SERVER_KEY

from integration.conftest import Clock, Sifa, on_a_real_port
from integration.ruling_flow import (
    ALL_ABSENT,
    PASSED,
    ok,
    people,
    review_transcript,
    scheduled_case,
)
from integration.test_rulings_issue import tool
from signaling_helpers import MediaPeer

ROOM = "光明社区在线司法确认室一"
SELF_TEST = {"camera": True, "microphone": True, "network": True}
YES = {"agreed_freely": True, "understands": True}


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class WallClock(Clock):
    """The recorder stamps segments with the wall clock; the app's records must agree."""

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Sifa]:
    async with on_a_real_port(tmp_path, WallClock()) as sifa:
        yield sifa


async def live_segment(sifa: Sifa, case_id: int, participant: str, other_than: int = 0) -> int:
    """The recorder's live segment for a participant (a new one after `other_than`)."""
    for _ in range(300):
        async with sifa.app[SERVICES].db.transaction() as session:
            found = await session.scalar(
                select(RecordingSegment.id).where(
                    RecordingSegment.case_id == case_id,
                    RecordingSegment.participant_id == participant,
                    RecordingSegment.state == "recording",
                    RecordingSegment.id > other_than,
                )
            )
        if found is not None:
            return int(found)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no live segment for {participant}")


async def presence_of(sifa: Sifa, case_id: int, kind: str, party: int) -> dict[str, Any]:
    async with sifa.app[SERVICES].db.transaction() as session:
        payload = await session.scalar(
            select(SessionEventRow.payload)
            .where(
                SessionEventRow.case_id == case_id,
                SessionEventRow.kind == kind,
                SessionEventRow.party_position == party,
            )
            .order_by(SessionEventRow.id.desc())
        )
    assert payload is not None
    found: dict[str, Any] = json.loads(payload)["presence"]
    return found


@pytest.mark.slow
async def test_a_kiosk_that_drops_during_the_inquiry(live: Sifa, tmp_path: Path) -> None:
    mediator, clerk, judge, kiosk = await people(live)
    case_id = await scheduled_case(mediator, clerk)
    url = f"/api/cases/{case_id}/session"
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await ok(await kiosk.post(f"{url}/check-in", json=SELF_TEST))
    judge_door = await ok(await judge.post(f"/api/cases/{case_id}/room-token"))
    kiosk_door = await ok(await kiosk.post(f"/api/cases/{case_id}/room-token"))
    ws_url = str(judge.make_url("/ws"))
    kiosk_id = kiosk_door["participant_id"]
    async with aiohttp.ClientSession() as http:
        judge_peer = MediaPeer(http, ws_url, judge_door["participant_id"])
        kiosk_peer = MediaPeer(http, ws_url, kiosk_id)
        back = MediaPeer(http, ws_url, kiosk_id)
        try:
            await judge_peer.join(judge_door["token"], case_id)
            await judge_peer.admits(kiosk_peer, kiosk_door["token"])
            await ok(await judge.post(f"{url}/admit", json={}))
            first = await live_segment(live, case_id, kiosk_id)
            judge_segment = await live_segment(live, case_id, judge_peer.id)
            for party in (0, 1):
                await ok(await judge.post(f"{url}/identity", json={"party": party, **PASSED}))
                await ok(await kiosk.post(f"{url}/warning-ack", json={"party": party}))
                await ok(await kiosk.post(f"{url}/consent", json={"party": party}))
            seen = await presence_of(live, case_id, "identity", 0)
            assert seen["participant"] == kiosk_id and seen["media"]["segment"] == first
            await ok(await judge.post(f"{url}/answers", json={"party": 0, **YES}))

            # The kiosk's device is lost in the middle of the inquiry.
            await kiosk_peer.close()
            server = live.app[SERVER_KEY]
            for _ in range(100):
                if not server.rooms[case_id].room.seats[kiosk_id].connected:
                    break
                await asyncio.sleep(0.05)
            response = await judge.post(f"{url}/answers", json={"party": 1, **YES})
            assert response.status == 409, await response.text()
            assert (await response.json())["error"]["missing"] == [
                "申请人赵六（确认室终端或本人设备）的视频连接已中断"
            ]

            # It comes back: the recorder starts a new segment, and the record goes through.
            back.resume_token = kiosk_peer.resume_token
            back.case_id = case_id
            back.client.last_seq = kiosk_peer.client.last_seq
            await back.resume()
            second = await live_segment(live, case_id, kiosk_id, other_than=first)
            await ok(await judge.post(f"{url}/answers", json={"party": 1, **YES}))
            assert (await presence_of(live, case_id, "answers", 1))["media"]["segment"] == second
            await ok(await judge.post(f"{url}/review", json=ALL_ABSENT))
            await ok(
                await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "confirm"})
            )
            await review_transcript(kiosk, case_id)
            await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
        finally:
            for peer in (back, kiosk_peer, judge_peer):
                await peer.close()
    await live.app[SERVER_KEY].audit_flushed()
    async with live.app[SERVICES].db.transaction() as session:
        details = await session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "case.confirm"
            )
        )
        segment = await session.get(RecordingSegment, first)
        room = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.case_id == case_id, AuditEvent.actor == kiosk_id)
                .where(AuditEvent.action.in_(["room.admit", "room.drop", "room.resume"]))
                .order_by(AuditEvent.seq)
            )
        )
    assert details is not None
    assert json.loads(details)["presence"]["judge"]["media"]["segment"] == judge_segment
    assert segment is not None and segment.sha256
    # The transcript covers the session from its first record: an admission a moment before
    # it is shown from the session's start (a second later, when the two straddle a second).
    view = await ok(await clerk.get(f"/api/cases/{case_id}/session"))
    begun = dt.datetime.fromisoformat(view["started_at"])
    moments = [max(room[0].at, begun), room[1].at, room[2].at]
    admitted, dropped, resumed = (court_time(at).strftime("%H:%M:%S") for at in moments)
    assert [e.action for e in room[:3]] == ["room.admit", "room.drop", "room.resume"]

    response = await clerk.get(f"/api/cases/{case_id}/transcript.pdf")
    assert response.status == 200 and response.headers["X-Sifa-Transcript"] == "archived"
    path = tmp_path / "transcript.pdf"
    path.write_bytes(await response.read())
    flat = "".join(tool("pdftotext", "-enc", "UTF-8", str(path), "-").stdout.split())
    assert f"{ROOM}（在线视频方式进行）" in flat
    assert f"申请人张三：在{ROOM}现场参加，通过确认室终端参与视频询问。" in flat
    kiosk_line = re.search(rf"确认室终端（{ROOM}）：(.*?)在视频确认室。", flat)
    assert kiosk_line is not None, flat
    stays = kiosk_line.group(1)
    assert stays.startswith(f"{admitted}至{dropped}（视频连接中断）、{resumed}至"), stays
    assert "录像分段：第1段" in flat and "第2段" in flat
    assert f"SHA-256：{segment.sha256}" in flat
    assert "审判员" in flat and "（法院端浏览器）" in flat
