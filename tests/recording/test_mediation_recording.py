"""A mediation's video session through the real app, with aiortc participants: the recorder
joins when the mediator starts the session and records the mediator and a party on their own
phone; when the mediation ends the run stops, every file is closed, hashed and plays, and the
room closes on every screen (4010). Only the committee's mediators play it back, and only the
segments of that mediation's room."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from recording.conftest import Served, serve
from recording.recording_support import Sender, probe, wait_for
from sqlalchemy import select

from app.keys import SERVICES
from app.store.db import Database
from app.store.models import AuditEvent, RecordingRun, RecordingSegment
from signaling.live import CLOSE_OVER
from signaling.room_keys import mediation_room

from integration.conftest import Sifa
from integration.ruling_flow import ok
from integration.test_admin_accounts import cookie_login, page_csrf
from integration.test_mediation_agreement_api import in_mediation, sealed
from integration.test_mediation_api import filed
from integration.test_mediation_pages import post
from integration.test_mediation_room_api import PASS, phone_pass, seat

SECONDS = 4.0


async def seated(
    served: Served, session: aiohttp.ClientSession, client: Any, mediation_id: int, **extra: Any
) -> Sender:
    """A participant with real media, in through the mediation's own room-token route."""
    path = f"/api/mediations/{mediation_id}/room-token"
    door = await ok(await client.post(path, json={}, **extra))
    sender = Sender(session, served.ws_url, door["participant_id"])
    await sender.join(door["token"], door["room_key"])
    return sender


async def trail(served: Served, key: int) -> list[str]:
    async with served.app[SERVICES].db.transaction() as db:
        return list(
            await db.scalars(
                select(AuditEvent.action).where(AuditEvent.case_id == key).order_by(AuditEvent.seq)
            )
        )


async def closed_segments(served: Served, key: int) -> int:
    async with served.app[SERVICES].db.transaction() as db:
        rows = await db.scalars(
            select(RecordingSegment.id).where(
                RecordingSegment.case_id == key, RecordingSegment.state == "closed"
            )
        )
        return len(list(rows))


async def media_flowing(senders: list[Sender]) -> None:
    await wait_for(
        lambda: all(s.video_sent > 0 and s.tones for s in senders), 15, "media to the recorder"
    )


@pytest.mark.slow
async def test_a_mediation_session_is_recorded_whole_and_played_back(served: Served) -> None:
    sifa = served.sifa
    mediator, mediation_id = await in_mediation(sifa, checked=False)
    key = mediation_room(mediation_id)
    one = f"/api/mediations/{mediation_id}"
    # The session's start started the recorder: in the room before anyone.
    assert (await ok(await mediator.get(f"{one}/recording")))["state"] == "recording"
    token = await phone_pass(sifa, mediator, mediation_id, 1)
    phone = await sifa.make_client(sifa.app)

    async with aiohttp.ClientSession() as session:

        async def everyone() -> list[Sender]:
            host = await seated(served, session, mediator, mediation_id)
            host.auto_admit = True  # the mediator lets the party in from the lobby
            party = await seated(served, session, phone, mediation_id, headers={PASS: token})
            await media_flowing([host, party])
            return [host, party]

        first = await everyone()
        await asyncio.sleep(SECONDS)
        # Everyone leaves for a while: the session is not over, the recorder keeps its seat
        # and records them again when they come back (a new segment each).
        for sender in first:
            await sender.client.send({"type": "leave"})
            await sender.close()

        async def both_closed() -> bool:
            return await closed_segments(served, key) == 2

        await wait_for(both_closed, 10, "the first files closed")
        assert key in served.recordings.runs
        senders = await everyone()
        await asyncio.sleep(SECONDS / 2)
        sifa.clock.now += dt.timedelta(minutes=5)
        ended = await ok(await mediator.post(f"{one}/fail", json={"note": "双方未能达成一致"}))
        assert ended["state"] == "failed"
        # The room closed on every screen, for good: no way back in.
        for sender in senders:
            await asyncio.wait_for(sender.client.closed.wait(), 10)
            assert sender.client.close_code == CLOSE_OVER
            await sender.close()
    again = await mediator.post(f"{one}/room-token", json={})
    assert again.status == 409, await again.text()

    # One run, stopped by the session's end; every file closed with its hash, with video.
    view = await ok(await mediator.get(f"{one}/recording"))
    assert view["state"] == "stopped" and view["room_key"] == key
    (run,) = view["runs"]
    assert run["end_reason"] == "mediation_ended"
    host_id, party_id = first[0].id, first[1].id
    numbers = sorted((s["participant_id"], s["number"]) for s in view["segments"])
    assert numbers == sorted([(host_id, 1), (host_id, 2), (party_id, 1), (party_id, 2)])
    # The recorder itself never stopped: no gap for everyone. The time each was away shows as
    # that one's own gap, when longer than the set-up a reconnection takes (GAP_TOLERANCE,
    # 5 s: a quick return may leave none).
    kinds = {e["kind"] for e in view["timeline"]}
    assert "recorder_gap" not in kinds, view["timeline"]
    gaps = {e["participant_id"] for e in view["timeline"] if e["kind"] == "gap"}
    assert gaps <= {host_id, party_id}, view["timeline"]
    directory = served.recordings.config.directory
    async with served.app[SERVICES].db.transaction() as db:
        names = {
            row.id: row.storage_name
            for row in await db.scalars(
                select(RecordingSegment).where(RecordingSegment.case_id == key)
            )
        }
    for segment in view["segments"]:
        assert segment["state"] == "closed" and segment["has_video"] and segment["has_audio"]
        path = directory / names[segment["id"]]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == segment["sha256"]
        assert path.stat().st_mode & 0o222 == 0
        info = probe(path)
        kinds = {s["codec_type"]: s for s in info["streams"]}
        assert set(kinds) == {"audio", "video"}, info
        assert int(kinds["video"]["nb_read_frames"]) > 0
        assert float(info["format"]["duration"]) >= 1.0, info
    (first_of_party,) = (
        s for s in view["segments"] if (s["participant_id"], s["number"]) == (party_id, 1)
    )

    # Played back to the mediator, on the page too (and that look is in the room's trail).
    url = first_of_party["url"]
    assert url == f"{one}/recording/segments/{first_of_party['id']}/media"
    whole = await mediator.get(url)
    assert whole.status == 200 and whole.content_type == "video/mp4"
    assert len(await whole.read()) == first_of_party["size_bytes"]
    part = await mediator.get(url, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and len(await part.read()) == 100
    page = await mediator.get(f"/mediations/{mediation_id}/recording")
    html = await page.text()
    assert page.status == 200 and "<video" in html and url in html
    assert "调解录像" in html or "Mediation recording" in html

    # Nobody else: a kiosk of the hall, another committee's mediator, a party's pass, anonymous.
    refusals = {
        await sifa.as_user("kiosk1"): 403,
        await sifa.as_user("mediator_ns"): 404,
        phone: 401,
    }
    for client, status in refusals.items():
        for target in (url, f"{one}/recording", f"/mediations/{mediation_id}/recording"):
            answer = await client.get(target, headers={PASS: token}, allow_redirects=False)
            if status == 401 and not target.startswith("/api/"):
                status = 303  # a page sends whoever is not logged in to log in
            assert answer.status == status, (target, status, await answer.text())
            assert answer.content_type != "video/mp4"
    # Nor is a segment served under another room's key, even to a mediator of both.
    _, other_id = await in_mediation(sifa, checked=False)
    segment_id = first_of_party["id"]
    elsewhere = await mediator.get(
        f"/api/mediations/{other_id}/recording/segments/{segment_id}/media"
    )
    assert elsewhere.status == 404 and elsewhere.content_type != "video/mp4"
    # The recording's trail is the room's: started, each file closed, stopped, viewed.
    actions = await trail(served, key)
    for action in ("recording.started", "recording.segment_closed", "recording.stopped"):
        assert action in actions, actions
    assert "recording.viewed" in actions


async def scheduled(sifa: Sifa) -> int:
    """A mediation accepted by the demo mediator and scheduled: its session not started."""
    mediator = await sifa.as_user("mediator")
    mediation_id = int((await filed(mediator, sifa))["id"])
    one = f"/api/mediations/{mediation_id}"
    me = (await ok(await mediator.get("/api/me")))["id"]
    await ok(await mediator.post(f"{one}/accept", json={"mediator_id": me}))
    at = (sifa.clock.now + dt.timedelta(hours=1)).isoformat()
    await ok(await mediator.post(f"{one}/schedule", json={"scheduled_at": at}))
    return mediation_id


async def last_run(served: Served | Database, key: int) -> tuple[str, str | None] | None:
    """The state and end reason of the room's last run."""
    db = served if isinstance(served, Database) else served.app[SERVICES].db
    async with db.transaction() as session:
        run = await session.scalar(
            select(RecordingRun)
            .where(RecordingRun.case_id == key)
            .order_by(RecordingRun.id.desc())
            .limit(1)
        )
        return None if run is None else (run.state, run.end_reason)


async def test_the_pages_and_the_seal_start_and_end_the_recording(served: Served) -> None:
    sifa = served.sifa
    # Started and withdrawn through the mediation's page forms.
    mediation_id = await scheduled(sifa)
    key = mediation_room(mediation_id)
    page = f"/mediations/{mediation_id}"
    mediator = await cookie_login(sifa, "mediator")
    _, csrf = await page_csrf(mediator, page)
    assert (await post(mediator, f"{page}/start", {"csrf_token": csrf}))[:2] == (303, page)
    assert await last_run(served, key) == ("recording", None)
    form = {"csrf_token": csrf, "party": "0", "note": "张某要求终止调解"}
    assert (await post(mediator, f"{page}/withdraw", form))[:2] == (303, page)
    assert await last_run(served, key) == ("stopped", "mediation_ended")
    # Agreed: the committee's seal ends the session.
    _, sealed_id = await sealed(sifa)
    assert await last_run(served, mediation_room(sealed_id)) == ("stopped", "mediation_ended")


async def test_a_recording_that_cannot_start_leaves_the_session_started(served: Served) -> None:
    """A live run of the room already held in the database (another server's): the start is
    refused, which is logged and audited in the room's trail; the session goes on."""
    sifa = served.sifa
    mediator = await sifa.as_user("mediator")
    mediation_id = await scheduled(sifa)
    key = mediation_room(mediation_id)
    one = f"/api/mediations/{mediation_id}"
    async with served.app[SERVICES].db.transaction() as db:
        db.add(
            RecordingRun(
                case_id=key,
                state="recording",
                started_at=sifa.clock.now,
                started_by="mediator",
                node="elsewhere",
            )
        )
    started = await ok(await mediator.post(f"{one}/start", json={}))
    assert started["state"] == "in_mediation"
    assert key not in served.recordings.runs
    assert "recording.start_failed" in await trail(served, key)


async def test_a_mediation_recording_starts_again_after_its_server_restarted(
    tmp_path: Path,
) -> None:
    """The server stopped mid-session: when the mediator comes back to the room on the new
    process, the session is still on and the recording starts again by itself."""
    first = await serve(tmp_path)
    try:
        _, mediation_id = await in_mediation(first.sifa, checked=False)
        key = mediation_room(mediation_id)
        assert key in first.recordings.runs
    finally:
        await first.server.close()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")  # no server running
    try:
        assert await last_run(db, key) == ("stopped", "shutdown")
    finally:
        await db.close()
    second = await serve(tmp_path, fresh=False)
    try:
        mediator = await second.as_user("mediator")
        host = await seat(mediator, mediation_id).join()
        await wait_for(lambda: key in second.recordings.runs, 10, "the recording again")
        assert "recording.restarted" in await trail(second, key)
        await ok(await mediator.post(f"/api/mediations/{mediation_id}/fail", json={"note": "未成"}))
        assert await last_run(second, key) == ("stopped", "mediation_ended")
        await host.close_quietly()
    finally:
        await second.server.close()
