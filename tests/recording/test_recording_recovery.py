"""A server killed while recording: the next start seals what it left, honestly.

The crash is taken the way kill -9 leaves things: the database as committed at that instant
(SQLite's backup API) and the segment files as written so far (copied with their times) while
the recorder is still running. A fresh app then starts on those copies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from recording.conftest import Served, serve
from recording.recording_support import probe, wait_for
from recording.test_recording_media import open_room, seat_senders
from sqlalchemy import select

from app.domain.clock import court_date
from app.keyring import FieldCipher
from app.keys import SERVICES
from app.recording import recovery
from app.recording.peer import SegmentStart, Who
from app.recording.probe import examine
from app.recording.recovery import FAILED, RECOVERED, Found, Media
from app.recording.settings import RecordingConfig
from app.recording.sweep import SweepReport, recover_interrupted
from app.recording.writer import SegmentWriter
from app.services import accounts, audit, demo
from app.services.cases import create_case
from app.store.db import Database
from app.store.models import Account, AuditHead, Case, RecordingRun, RecordingSegment

from integration.conftest import make_settings, prepare, signaling_settled
from integration.ruling_flow import ok

T0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=1)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def media(seconds: float = 6.0, audio: int = 280, video: int = 90, **more: Any) -> Media:
    return Media(seconds, audio, video, decodes=more.pop("decodes", True), **more)


def readable(seconds: float = 6.0, **more: Any) -> Found:
    return Found(True, 120_000, at(seconds + 0.8), media=media(seconds, **more))


# -- the pure decision --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "state", "says"),
    [
        (Found(exists=False), FAILED, "no file"),
        (Found(True, 0, at(1)), FAILED, "empty"),
        (Found(True, 9000, at(1), unreadable="InvalidDataError: x"), FAILED, "unreadable"),
        (Found(True, 800, at(1), media=media(0.0, audio=0, video=0)), FAILED, "no media"),
        (readable(decodes=False), FAILED, "does not decode"),
        (Found(True, 800, at(1), media=media(0.0)), FAILED, "no duration"),
        (readable(), RECOVERED, "6.000 s readable"),
        (readable(video=0), RECOVERED, "6.000 s readable"),  # an audio-only file
        (readable(cut_short="InvalidDataError: y"), RECOVERED, "cut short"),
    ],
)
def test_what_a_segment_becomes(found: Found, state: str, says: str) -> None:
    verdict = recovery.settle_segment(found)
    assert verdict.state == state
    assert says in verdict.reason and verdict.reason.startswith("interrupted")


def test_a_recovered_segment_ends_where_its_media_ends_not_at_the_sweep() -> None:
    found = readable(6.0)
    end = recovery.segment_end(at(0), found, recovery.settle_segment(found), NOW)
    assert end == at(6.0)
    # A failed file ends at its last write; a missing one has no length at all.
    garbage = Found(True, 9000, at(4), unreadable="x")
    assert recovery.segment_end(at(0), garbage, recovery.settle_segment(garbage), NOW) == at(4)
    missing = Found(exists=False)
    assert recovery.segment_end(at(2), missing, recovery.settle_segment(missing), NOW) == at(2)


def test_file_times_that_cannot_be_right_are_kept_within_the_segment() -> None:
    early = Found(True, 9000, at(-30), unreadable="x")  # a clock stepped back
    assert recovery.segment_end(at(0), early, recovery.settle_segment(early), NOW) == at(0)
    late = Found(True, 9000, NOW + dt.timedelta(days=1), unreadable="x")
    assert recovery.segment_end(at(0), late, recovery.settle_segment(late), NOW) == NOW


def test_a_run_ends_at_its_last_known_instant() -> None:
    assert recovery.run_end(at(0), [at(5), None, at(7.5), at(3)], NOW) == at(7.5)
    assert recovery.run_end(at(0), [], NOW) == at(0)  # nothing known: its start, not now
    assert recovery.run_end(at(0), [None], NOW) == at(0)
    assert recovery.run_end(at(0), [NOW + dt.timedelta(hours=2)], NOW) == NOW


# -- what the writer leaves on disk -------------------------------------------------------------


def frames(writer: SegmentWriter, seconds: float, fps: int = 15) -> None:
    """A low-motion picture and silence: little data, which is what buffering hides."""
    for i in range(int(seconds * fps)):
        frame = av.VideoFrame(640, 480, "yuv420p")
        frame.planes[0].update(bytes([i * 7 % 256]) * frame.planes[0].buffer_size)
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        writer.push_video(frame, i / fps)
    for j in range(int(seconds / 0.02)):
        sound = av.AudioFrame(format="s16", layout="stereo", samples=960)
        sound.planes[0].update(bytes(sound.planes[0].buffer_size))
        sound.sample_rate = 48000
        writer.push_audio(sound, j * 0.02)


def test_a_killed_writer_leaves_every_finished_fragment_readable(tmp_path: Path) -> None:
    path = tmp_path / "001-judge.mp4"
    writer = SegmentWriter(path)
    frames(writer, 7.0)
    deadline = time.monotonic() + 30
    while writer.queued and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    crashed = tmp_path / "crashed.mp4"
    shutil.copy(path, crashed)  # what kill -9 would leave: the writer never closed it
    found = examine(crashed)
    writer.close().result(timeout=30)
    assert found.media is not None, found
    # Fragments are cut at the 2 s keyframes: 0-2, 2-4, 4-6 are whole; 6-7 was still open.
    assert found.media.video_frames >= 60 and found.media.audio_packets > 0, found
    assert 4.0 <= found.media.duration_seconds < 7.0, found
    assert found.media.decodes
    assert recovery.settle_segment(found).state == RECOVERED


# -- the whole app: record, kill, start again ---------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def crash_copy(before: Path, killed: Path) -> dt.datetime:
    """The disk as a kill -9 now would leave it, copied to another folder: the instant."""
    killed.mkdir()
    shutil.copytree(before / "certs", killed / "certs")
    source, target = sqlite3.connect(before / "sifa.db"), sqlite3.connect(killed / "sifa.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    # copy2 keeps the files' modification times, which the sweep reads. The recorder goes on
    # writing while they are copied, so the crash's instant is when the copy is complete: a
    # fragment written during the copy is on the "killed" disk and before that instant.
    shutil.copytree(before / "var" / "recordings", killed / "var" / "recordings")
    return dt.datetime.now(dt.UTC)


async def rows(served: Served, case_id: int) -> tuple[list[RecordingRun], list[RecordingSegment]]:
    async with served.app[SERVICES].db.transaction() as session:
        runs = await session.scalars(
            select(RecordingRun).where(RecordingRun.case_id == case_id).order_by(RecordingRun.id)
        )
        segments = await session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.case_id == case_id)
            .order_by(RecordingSegment.id)
        )
        return list(runs), list(segments)


async def everything(served: Served) -> dict[str, Any]:
    """Every recording row, the audit head and the files' modes and bytes: to see a change."""
    folder = served.recordings.config.directory
    async with served.app[SERVICES].db.transaction() as session:
        head = await session.get(AuditHead, 1)
        assert head is not None
        runs = [
            (r.id, r.state, r.started_at, r.ended_at, r.end_reason, r.failure)
            for r in await session.scalars(select(RecordingRun))
        ]
        segments = [
            (s.id, s.state, s.ended_at, s.sha256, s.size_bytes, s.duration_seconds, s.failure)
            for s in await session.scalars(select(RecordingSegment))
        ]
        seq = head.seq
    files = {
        str(p): (p.stat().st_mode, p.stat().st_mtime_ns, sha256(p))
        for p in sorted(folder.rglob("*.mp4"))
    }
    return {"runs": runs, "segments": segments, "audit": seq, "files": files}


async def audit_trail(served: Served, case_id: int) -> tuple[list[Any], bool]:
    async with served.app[SERVICES].db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
        report = await audit.verify(session)
    return [(e.action, json.loads(e.details)) for e in events], report.intact


async def record_and_kill(tmp_path: Path) -> tuple[Path, int, str, dt.datetime]:
    """Three people recorded for a few seconds, then the disk as a killed server left it."""
    before, killed = tmp_path / "before", tmp_path / "killed"
    first = await serve(before)
    try:
        async with aiohttp.ClientSession() as session:
            case_id, _judge, door = await open_room(first, 0)
            senders = await seat_senders(
                first,
                session,
                case_id,
                door,
                [("kiosk-911", "kiosk"), ("mediator-912", "mediator")],
            )

            async def three_open_segments() -> bool:
                _, segments = await rows(first, case_id)
                return len(segments) == 3 and all(s.state == "recording" for s in segments)

            await wait_for(three_open_segments, 15, "three segments being written")
            await asyncio.sleep(4.5)  # at least two fragments cut (keyframes every 2 s)
            instant = crash_copy(before, killed)
            for sender in senders:
                await sender.close()
    finally:
        await first.server.close()  # the original goes on to close normally; the copy does not
    return killed, case_id, door["participant_id"], instant


async def replay_intact(killed: Path, case_id: int, judge_id: str, instant: dt.datetime) -> None:
    after = killed.with_name("intact")
    shutil.copytree(killed, after)
    served = await serve(after, fresh=False)  # the sweep runs on start-up
    try:
        folder = served.recordings.config.directory
        (run,), segments = await rows(served, case_id)
        assert {s.participant_id for s in segments} == {judge_id, "kiosk-911", "mediator-912"}
        assert run.state == "failed" and run.end_reason == "interrupted"
        assert run.failure == recovery.RUN_FAILURE
        # The last known instant, never the sweep's "now".
        assert run.ended_at is not None and run.started_at < run.ended_at <= instant
        for row in segments:
            assert row.state == RECOVERED, row.failure
            path = folder / row.storage_name
            assert row.sha256 == sha256(path) and row.size_bytes == path.stat().st_size
            assert stat.S_IMODE(path.stat().st_mode) == 0o444
            assert row.failure is not None and "readable" in row.failure
            info = probe(path)  # ffprobe: a reader independent of the sweep's
            kinds = {s["codec_type"]: s for s in info["streams"]}
            assert set(kinds) == {"audio", "video"}, info
            assert int(kinds["video"]["nb_read_frames"]) == row.video_frames >= 30
            assert row.has_audio and row.has_video
            assert row.duration_seconds is not None and row.duration_seconds >= 2.0
            assert abs(float(info["format"]["duration"]) - row.duration_seconds) < 0.1
            assert row.ended_at == row.started_at + dt.timedelta(seconds=row.duration_seconds)
            assert row.ended_at <= run.ended_at

        judge = await served.as_user("judge")
        view = await ok(await judge.get(f"/api/cases/{case_id}/recording"))
        assert view["state"] == "failed" and view["indicator"]["level"] == "alert"
        assert view["failure"] == recovery.RUN_FAILURE
        assert not [e for e in view["timeline"] if e["open"]], view["timeline"]
        first_segment = view["segments"][0]
        assert first_segment["state"] == RECOVERED and first_segment["reason"]
        played = await judge.get(first_segment["url"])
        assert played.status == 200
        stored = next(s for s in segments if s.id == first_segment["id"])
        assert hashlib.sha256(await played.read()).hexdigest() == stored.sha256
        page = await judge.get(f"/cases/{case_id}/recording")
        assert page.status == 200 and "data-recovered" in await page.text()

        trail, intact = await audit_trail(served, case_id)
        assert intact
        settled = [d for action, d in trail if action == "recording.segment_interrupted"]
        assert sorted(d["segment"] for d in settled) == sorted(s.id for s in segments)
        assert {d["state"] for d in settled} == {RECOVERED}
        assert {d["sha256"] for d in settled} == {s.sha256 for s in segments}
        (ended,) = [d for action, d in trail if action == "recording.interrupted"]
        assert ended["run"] == run.id and ended["segments"] == {RECOVERED: 3, FAILED: 0}

        # The judge records again: the time the server was down is a gap on the timeline.
        restarted = await ok(await judge.post(f"/api/cases/{case_id}/recording/start", json={}))
        assert restarted["state"] == "recording"
        live = served.recordings.runs[case_id]
        probe_id = await live.segment_opened(
            SegmentStart(
                Who("probe-1", "kiosk", "probe"),
                1,
                live.folder / "001-probe-1.mp4",
                dt.datetime.now(dt.UTC),
            )
        )
        # A second sweep changes nothing, and never touches the run being recorded now. The
        # recorder takes its seat in the background and its joining is audited from signaling's
        # queue: let both land first, or the snapshot races them on a slow machine.
        await signaling_settled(served.app, case_id)
        unchanged = await everything(served)
        assert await served.recordings.recover_interrupted() == SweepReport()
        assert await everything(served) == unchanged
        live_rows = [s for s in unchanged["segments"] if s[0] == probe_id]
        assert [s[1] for s in live_rows] == ["recording"]
        assert [r[1] for r in unchanged["runs"]] == ["failed", "recording"]

        view = await ok(await judge.post(f"/api/cases/{case_id}/recording/stop", json={}))
        assert [r["state"] for r in view["runs"]] == ["failed", "stopped"]
        first_run, second_run = view["runs"]
        (gap,) = [e for e in view["timeline"] if e["kind"] == "recorder_gap"]
        assert (gap["start"], gap["end"]) == (first_run["ended_at"], second_run["started_at"])
        assert gap["seconds"] > 0
        await judge.close()
    finally:
        await served.server.close()


async def replay_damaged(
    killed: Path, case_id: int, judge_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    after = killed.with_name("damaged")
    shutil.copytree(killed, after)
    folder = after / "var" / "recordings"
    (kiosk_file,) = folder.rglob("*kiosk-911.mp4")
    (mediator_file,) = folder.rglob("*mediator-912.mp4")
    (judge_file,) = folder.rglob(f"*{judge_id}.mp4")
    # A torn header: the size and the time of the last write stay as the crash left them.
    written = kiosk_file.stat()
    garbled = bytes(4096) + kiosk_file.read_bytes()[4096:]
    kiosk_file.write_bytes(garbled)
    os.utime(kiosk_file, ns=(written.st_atime_ns, written.st_mtime_ns))
    mediator_file.unlink()  # the process died before the file was created
    last_write = max(
        dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC) for p in (kiosk_file, judge_file)
    )

    caplog.clear()
    with caplog.at_level("INFO", logger="app.recording.service"):
        served = await serve(after, fresh=False)
    try:
        summary = [r.getMessage() for r in caplog.records if "recording sweep" in r.getMessage()]
        assert summary == [
            "recording sweep: 1 runs interrupted, 1 segments recovered, 2 failed, 0 errors"
        ]
        (run,), segments = await rows(served, case_id)
        by_who = {s.participant_id: s for s in segments}
        judge_row, kiosk_row = by_who[judge_id], by_who["kiosk-911"]
        mediator_row = by_who["mediator-912"]
        assert judge_row.state == RECOVERED

        assert kiosk_row.state == FAILED and kiosk_row.failure is not None
        assert kiosk_row.failure.startswith("interrupted: the file")
        assert kiosk_file.read_bytes() == garbled  # kept as found, only sealed
        assert stat.S_IMODE(kiosk_file.stat().st_mode) == 0o444
        assert kiosk_row.sha256 == sha256(kiosk_file) and kiosk_row.size_bytes == len(garbled)
        assert not kiosk_row.has_video and kiosk_row.duration_seconds is None

        assert mediator_row.state == FAILED
        assert mediator_row.failure == "interrupted: no file was written"
        assert mediator_row.sha256 is None and mediator_row.size_bytes is None
        assert mediator_row.ended_at == mediator_row.started_at
        assert not mediator_file.exists()

        # The run ends at the last write the killed process made, not when the sweep ran.
        assert run.state == "failed" and run.end_reason == "interrupted"
        assert run.ended_at is not None
        assert abs((run.ended_at - last_write).total_seconds()) < 0.001

        judge = await served.as_user("judge")
        view = await ok(await judge.get(f"/api/cases/{case_id}/recording"))
        urls = {s["participant_id"]: s["url"] for s in view["segments"]}
        assert urls[judge_id] and urls["kiosk-911"] is None and urls["mediator-912"] is None
        failed_id = kiosk_row.id
        refused = await judge.get(f"/api/cases/{case_id}/recording/segments/{failed_id}/media")
        assert refused.status == 404

        trail, intact = await audit_trail(served, case_id)
        assert intact
        states = sorted(
            (d["participant"], d["state"])
            for action, d in trail
            if action == "recording.segment_interrupted"
        )
        assert states == sorted(
            [(judge_id, RECOVERED), ("kiosk-911", FAILED), ("mediator-912", FAILED)]
        )
        (ended,) = [d for action, d in trail if action == "recording.interrupted"]
        assert ended["segments"] == {RECOVERED: 1, FAILED: 2}
        await judge.close()
        # The judge's leaving is audited from signaling's queue: let it land before comparing.
        await asyncio.sleep(0.5)
        await served.recordings.server.audit_flushed()

        unchanged = await everything(served)
        assert await served.recordings.recover_interrupted() == SweepReport()
        assert await everything(served) == unchanged
    finally:
        await served.server.close()


@pytest.mark.slow
async def test_a_restart_seals_what_a_killed_recorder_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    killed, case_id, judge_id, instant = await record_and_kill(tmp_path)
    # The copy is the crash: its rows are still "recording", as nothing settled them.
    with sqlite3.connect(killed / "sifa.db") as db:
        left = db.execute("SELECT state FROM recording_segments").fetchall()
        runs = db.execute("SELECT state, ended_at FROM recording_runs").fetchall()
    assert left == [("recording",)] * 3 and runs == [("recording", None)]
    await replay_intact(killed, case_id, judge_id, instant)
    await replay_damaged(killed, case_id, judge_id, caplog)


async def test_a_server_settles_only_the_runs_it_recorded(tmp_path: Path) -> None:
    """Several servers on one database: a restarting server leaves another server's live run
    alone, and takes runs from before servers were named as its own. (One case has one live
    run at most: each server's run is of another case.)"""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    await prepare(settings, NOW)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            mediator = await session.scalar(select(Account).where(Account.username == "mediator"))
            assert mediator is not None
            cipher = FieldCipher.from_certs(settings.certs_dir)
            for _ in range(2):
                application = demo.sample_application(court_date(NOW))
                await create_case(
                    session, accounts.actor_of(mediator), application, cipher=cipher, now=NOW
                )
            case_ids = list(await session.scalars(select(Case.id).order_by(Case.id).limit(3)))
            assert len(case_ids) == 3
            run_ids = {}
            for case_id, node in zip(case_ids, ("node-a", "node-b", None), strict=True):
                run = RecordingRun(
                    case_id=case_id, state="recording", started_at=T0, started_by="t", node=node
                )
                session.add(run)
                await session.flush()
                session.add(
                    RecordingSegment(
                        run_id=run.id,
                        case_id=case_id,
                        participant_id="kiosk-1",
                        role="kiosk",
                        display_name="终端",
                        number=1,
                        storage_name=f"{node}-1.mp4",  # never written: the crash came first
                        state="recording",
                        started_at=T0,
                    )
                )
                run_ids[node] = run.id
        config = RecordingConfig(directory=tmp_path / "recordings", node="node-a")
        report = await recover_interrupted(
            db, config, live=lambda: (), clock=lambda: NOW, now=lambda: NOW
        )
        assert report == SweepReport(runs=2, failed=2)
        async with db.transaction() as session:
            states = {
                run.node: (run.state, run.end_reason)
                for run in await session.scalars(select(RecordingRun))
            }
            segments = {s.run_id: s.state for s in await session.scalars(select(RecordingSegment))}
        assert states == {
            "node-a": ("failed", recovery.INTERRUPTED),
            None: ("failed", recovery.INTERRUPTED),
            "node-b": ("recording", None),
        }
        assert segments[run_ids["node-b"]] == "recording"
        assert segments[run_ids["node-a"]] == segments[run_ids[None]] == "failed"
    finally:
        await db.close()
