"""aiortc participants through the real app: every file has audio and video, the right length,
and (nearly) every frame that was sent."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from recording.conftest import Served
from recording.recording_support import Sender, probe, wait_for
from sqlalchemy import select

from app.keys import SERVICES
from app.store.models import RecordingSegment

from integration.ruling_flow import ok, scheduled_case

SECONDS = 20.0


@dataclass
class Room:
    case_id: int
    judge: Any
    senders: list[Sender] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    span: dict[str, float] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)


async def open_room(served: Served, room_index: int) -> tuple[int, Any, str]:
    mediator, clerk = await served.as_user("mediator"), await served.as_user("clerk")
    judge = await served.as_user("judge")
    case_id = await scheduled_case(mediator, clerk, room_index=room_index)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    door = await ok(await judge.post(f"/api/cases/{case_id}/room-token"))
    started = await ok(await judge.post(f"/api/cases/{case_id}/recording/start", json={}))
    assert started["state"] == "recording"
    return case_id, judge, door


async def seat_senders(
    served: Served,
    session: aiohttp.ClientSession,
    case_id: int,
    door: dict[str, Any],
    others: list[tuple[str, str]],
    **media: Any,
) -> list[Sender]:
    judge = Sender(session, served.ws_url, door["participant_id"], **media)
    judge.auto_admit = True
    await judge.join(door["token"], case_id)
    senders = [judge]
    for pid, role in others:
        sender = Sender(session, served.ws_url, pid, **media)
        await sender.join(served.token(case_id, pid, role), case_id)
        senders.append(sender)
    await wait_for(
        lambda: all(s.video_sent > 0 and s.tones for s in senders), 15, "media to the recorder"
    )
    return senders


async def record(
    served: Served, session: aiohttp.ClientSession, room_index: int, others: list[tuple[str, str]]
) -> Room:
    case_id, judge, door = await open_room(served, room_index)
    room = Room(case_id, judge)
    room.senders = await seat_senders(served, session, case_id, door, others)
    await asyncio.sleep(SECONDS)
    room.view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
    for sender in room.senders:
        await sender.close()
        # What was sent to the recorder, until it hung up: every frame and its wall time.
        (video,) = sender.videos
        assert video.first_at is not None
        room.sent[sender.id] = video.sent
        room.span[sender.id] = video.last_at - video.first_at + 1 / video.fps
    return room


def check_room(served: Served, room: Room, names: dict[int, str]) -> list[str]:
    """Every participant has one closed segment with audio and video; returns a report."""
    report = []
    view = room.view
    assert view["state"] == "stopped"
    by_participant = {s["participant_id"]: s for s in view["segments"]}
    assert set(by_participant) == {s.id for s in room.senders}, view["segments"]
    assert not [e for e in view["timeline"] if e["kind"] != "segment"]
    for sender in room.senders:
        segment = by_participant[sender.id]
        assert segment["state"] == "closed" and len(segment["sha256"]) == 64
        assert segment["has_audio"] and segment["has_video"]
        path = served.recordings.config.directory / names[segment["id"]]
        info = probe(path)
        kinds = {s["codec_type"]: s for s in info["streams"]}
        assert set(kinds) == {"audio", "video"}, info
        assert (kinds["video"]["width"], kinds["video"]["height"]) == (640, 480)
        duration = float(info["format"]["duration"])
        wall = room.span[sender.id]
        frames = int(kinds["video"]["nb_read_frames"])
        sent = room.sent[sender.id]
        report.append(
            f"{sender.id}: {duration:.2f} s for {wall:.2f} s wall, {frames}/{sent} frames"
        )
        assert abs(duration - wall) <= 0.05 * wall, report[-1]
        assert frames >= 0.95 * sent, report[-1]
    return report


async def storage_names(served: Served) -> dict[int, str]:
    async with served.app[SERVICES].db.transaction() as session:
        return {row.id: row.storage_name for row in await session.scalars(select(RecordingSegment))}


@pytest.mark.slow
async def test_two_and_four_participants_for_twenty_seconds(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        two, four = await asyncio.gather(
            record(served, session, 0, [("kiosk-901", "kiosk")]),
            record(
                served,
                session,
                1,
                [("kiosk-902", "kiosk"), ("mediator-903", "mediator"), ("party-904", "party")],
            ),
        )
    names = await storage_names(served)
    report = check_room(served, two, names) + check_room(served, four, names)
    print("\n".join(report))
