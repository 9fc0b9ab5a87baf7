"""Late video, a participant who drops and resumes, and a recorder failure with its restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from recording.conftest import Served, serve
from recording.recording_support import Sender, probe, wait_for
from recording.test_recording_media import open_room, seat_senders
from sqlalchemy import select

from app.keys import SERVICES
from app.recording.run import mp4_writers
from app.recording.writer import open_mp4
from app.services import audit
from app.store.models import RecordingSegment

from integration.ruling_flow import ok

pytestmark = pytest.mark.slow


async def storage_names(served: Served, case_id: int) -> dict[int, str]:
    async with served.app[SERVICES].db.transaction() as session:
        rows = await session.scalars(
            select(RecordingSegment).where(RecordingSegment.case_id == case_id)
        )
        return {row.id: row.storage_name for row in rows}


async def test_video_behind_audio_is_still_recorded(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        case_id, judge, door = await open_room(served, 0)
        (sender,) = await seat_senders(served, session, case_id, door, [], video_delay=0.6)
        await asyncio.sleep(4)
        view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
        await sender.close()
    (segment,) = view["segments"]
    assert segment["has_audio"] and segment["has_video"], segment
    names = await storage_names(served, case_id)
    info = probe(served.recordings.config.directory / names[segment["id"]])
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert set(kinds) == {"audio", "video"}
    (video,) = sender.videos
    assert int(kinds["video"]["nb_read_frames"]) >= 0.9 * video.sent
    # The audio began 0.6 s before the first picture: the file covers it.
    assert float(info["format"]["duration"]) >= 4.0


async def test_resume_continues_in_a_new_segment_with_the_gap_listed(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        case_id, judge, door = await open_room(served, 0)
        judge_peer, kiosk = await seat_senders(
            served, session, case_id, door, [("kiosk-911", "kiosk")]
        )
        await asyncio.sleep(2)
        await kiosk.client.cut()
        await judge_peer.client.expect("presence", event="dropped", within=5)
        # Long enough that the gap outlasts how late a busy machine closes the first segment
        # (one second was not, once, in a loaded suite: the segments then touched).
        await asyncio.sleep(2.5)
        await kiosk.resume()
        await wait_for(lambda: len(kiosk.videos) == 2 and kiosk.videos[1].sent > 15, 15, "seg 2")
        await asyncio.sleep(1)
        view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
        await kiosk.close()
        await judge_peer.close()
    kiosk_segments = [s for s in view["segments"] if s["participant_id"] == "kiosk-911"]
    assert [s["number"] for s in kiosk_segments] == [1, 2]
    assert all(s["state"] == "closed" and s["has_video"] for s in kiosk_segments)
    first, second = kiosk_segments
    assert first["ended_at"] <= second["started_at"]
    gaps = [e for e in view["timeline"] if e["kind"] == "gap"]
    assert len(gaps) == 1, view["timeline"]
    (gap,) = gaps
    assert gap["participant_id"] == "kiosk-911" and gap["seconds"] > 0
    assert (gap["start"], gap["end"]) == (first["ended_at"], second["started_at"])
    # The judge's own recording went on in one piece.
    assert [s["number"] for s in view["segments"] if s["role"] == "judge"] == [1]


class FlakyDisk:
    """Opens files like the real recorder until told the disk is gone."""

    def __init__(self) -> None:
        self.broken = False

    def __call__(self, path: Path) -> Any:
        if self.broken:
            raise OSError(28, "No space left on device", str(path))
        return open_mp4(path)


async def test_failure_alerts_the_judge_and_restart_records_again(tmp_path: Path) -> None:
    disk = FlakyDisk()
    disk.broken = True
    served = await serve(tmp_path, writer_factory=mp4_writers(disk))
    try:
        async with aiohttp.ClientSession() as session:
            case_id, judge, door = await open_room(served, 0)
            judge_peer = Sender(session, served.ws_url, door["participant_id"])
            await judge_peer.join(door["token"], case_id)
            alert = await judge_peer.client.expect("recording", within=15, state="failed")
            assert "No space left" in alert["reason"]
            status = await ok(await judge.get(f"/api/cases/{case_id}/recording"))
            assert status["state"] == "failed" and status["indicator"]["level"] == "alert"
            assert "No space left" in status["failure"]
            # Only the judge may restart.
            clerk = await served.as_user("clerk")
            restarted = await clerk.post(f"/api/cases/{case_id}/recording/restart", json={})
            assert restarted.status == 403
            disk.broken = False
            restarted_view = await ok(
                await judge.post(f"/api/cases/{case_id}/recording/restart", json={})
            )
            assert restarted_view["state"] == "recording"
            await judge_peer.client.expect("recording", within=5, state="recording")
            await wait_for(lambda: len(judge_peer.videos) >= 2, 10, "a new offer")
            await asyncio.sleep(2)
            view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
            await judge_peer.close()
        assert [r["state"] for r in view["runs"]] == ["failed", "stopped"]
        closed = [s for s in view["segments"] if s["state"] == "closed"]
        assert len(closed) == 1 and closed[0]["has_video"] and closed[0]["has_audio"]
        assert [s["state"] for s in view["segments"] if s["run"] == view["runs"][0]["id"]] == [
            "failed"
        ]
        assert any(e["kind"] == "recorder_gap" for e in view["timeline"])
        async with served.app[SERVICES].db.transaction() as session:
            actions = [e.action for e in await audit.events_for_case(session, case_id)]
        for action in ("recording.failed", "recording.restarted", "recording.stopped"):
            assert action in actions
    finally:
        await served.server.close()
