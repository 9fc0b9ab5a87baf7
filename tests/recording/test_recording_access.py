"""Who may play a recording back, the files' integrity, retention, and the bundle listing."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import replace

import aiohttp
import pytest
from recording.conftest import Served
from recording.test_recording_media import open_room, seat_senders
from sqlalchemy import select

from app.domain.roles import Role
from app.keys import SERVICES
from app.recording.bundle import bundle_media
from app.recording.sweep import purge_expired
from app.services import accounts, audit
from app.store.models import Committee, Court, RecordingSegment

from integration.ruling_flow import ok

pytestmark = pytest.mark.slow


async def add_outsiders(served: Served) -> None:
    now = served.sifa.clock.now
    async with served.app[SERVICES].db.transaction() as session:
        court = Court(name="深圳市宝安区人民法院", code="粤0306")
        session.add(court)
        await session.flush()
        session.add(Committee(name="新安街道人民调解委员会", court_id=court.id))
        await session.flush()
        for username, role, binding in (
            ("clerk_ba", Role.CLERK, accounts.Binding(court="粤0306")),
            ("judge_gm2", Role.JUDGE, accounts.Binding(court="粤0311")),
        ):
            await accounts.add_account(
                session,
                username=username,
                password="violet-lantern-river-1",
                role=role,
                display_name=username,
                binding=binding,
                now=now,
            )


async def test_only_the_judge_and_the_courts_clerks_play_it_back(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        case_id, judge, door = await open_room(served, 0)
        (sender,) = await seat_senders(served, session, case_id, door, [])
        await asyncio.sleep(3)
        view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
        await sender.close()
    (segment,) = view["segments"]
    url = segment["url"]
    page = f"/cases/{case_id}/recording"
    async with served.app[SERVICES].db.transaction() as db:
        row = await db.get(RecordingSegment, segment["id"])
        assert row is not None
        path = served.recordings.config.directory / row.storage_name
    # Closed, hashed, read-only.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == segment["sha256"]
    assert path.stat().st_mode & 0o222 == 0

    clerk = await served.as_user("clerk")
    for who in (judge, clerk):
        whole = await who.get(url)
        assert whole.status == 200 and whole.content_type == "video/mp4"
        assert len(await whole.read()) == segment["size_bytes"]
        part = await who.get(url, headers={"Range": "bytes=100-199"})
        assert part.status == 206 and len(await part.read()) == 100
        html = await (await who.get(page)).text()
        assert "<video" in html and segment["started_local"] in html

    await add_outsiders(served)
    refusals = {
        await served.as_user("mediator"): 403,
        await served.as_user("kiosk1"): 403,  # the kiosk of the case's room
        await served.as_user("judge_gm2", "violet-lantern-river-1"): 404,  # another judge
        await served.as_user("clerk_ba", "violet-lantern-river-1"): 404,  # another court's clerk
        await served.sifa.make_client(served.app): 401,  # anonymous
    }
    for client, status in refusals.items():
        for target in (url, f"/api/cases/{case_id}/recording"):
            response = await client.get(target)
            assert response.status == status, (target, status, await response.text())
            assert response.content_type != "video/mp4"
        response = await client.post(f"/api/cases/{case_id}/recording/restart", json={})
        assert response.status in (status, 403)

    # The bundle lists every recording by hash, and carries the small ones.
    directory = served.recordings.config.directory
    async with served.app[SERVICES].db.transaction() as db:
        (listed,) = await bundle_media(db, case_id, directory, 1 << 30)
        (by_hash,) = await bundle_media(db, case_id, directory, 0)
    assert listed.path == path and listed.entry["included"] is True
    assert by_hash.path is None and by_hash.entry["sha256"] == segment["sha256"]
    assert by_hash.entry["included"] is False

    # Retention: the media goes, the record stays, marked purged.
    config = replace(served.recordings.config, retention_days=1)
    ended = dt.datetime.fromisoformat(segment["ended_at"])
    db_ = served.app[SERVICES].db
    assert await purge_expired(db_, config, ended + dt.timedelta(hours=23)) == []
    assert await purge_expired(db_, config, ended + dt.timedelta(days=2)) == [segment["id"]]
    assert not path.exists()
    after = await ok(await judge.get(f"/api/cases/{case_id}/recording"))
    (kept,) = after["segments"]
    assert kept["state"] == "purged" and kept["sha256"] == segment["sha256"]
    assert kept["url"] is None
    assert (await judge.get(url)).status == 404
    async with db_.transaction() as db:
        actions = [e.action for e in await audit.events_for_case(db, case_id)]
        purged_at = await db.scalar(
            select(RecordingSegment.purged_at).where(RecordingSegment.id == segment["id"])
        )
    assert "recording.purged" in actions and "recording.segment_closed" in actions
    assert "recording.viewed" in actions
    assert purged_at is not None
