"""Recording runs for the app: start, stop, restart, failure alerts, files, database and audit.

One run per case at a time. Everything that goes wrong is logged, audited, shown by the API
(state "failed") and sent to the judge as a signaling message of type "recording"; it is never
silent. A restart starts a new run, so the time without a recorder stays a visible gap. What a
killed process left "recording" is settled when the next one starts (recover_interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import RTCConfiguration, RTCIceServer
from sqlalchemy import or_, select

from app.files import file_sha256
from app.keys import SERVICES, Clock
from app.recording import recovery
from app.recording.peer import RECORDER_ID, RECORDER_NAME, RecorderPeer, SegmentStart
from app.recording.probe import examine
from app.recording.writer import EncoderSettings, OpenOutput, SegmentWriter, WrittenFile, open_mp4
from app.services import audit
from app.store.db import Database
from app.store.models import RecordingRun, RecordingSegment
from app.web.signaling_setup import ICE_KEY
from signaling.ice import IceSettings, ice_servers_for
from signaling.local import LocalConnection
from signaling.server import SERVER_KEY, SignalingServer
from signaling.tokens import issue_room_token

log = logging.getLogger(__name__)

RECORDING = "recording"
STOPPED = "stopped"
FAILED = recovery.FAILED
RECOVERED = recovery.RECOVERED
PLAYABLE = recovery.PLAYABLE
ACTOR = "recorder"
READ_ONLY = 0o444


@dataclass(frozen=True)
class RecordingConfig:
    directory: Path
    retention_days: int = 3650
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    # Case bundles carry recordings up to this size each; larger ones are listed by hash.
    bundle_media_limit_bytes: int = 32 * 1024 * 1024
    # Runs are stamped with the server that records them: after a crash each server settles
    # only its own, never a live run of another server on the same database.
    node: str = "local"

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        if self.bundle_media_limit_bytes < 0:
            raise ValueError("bundle_media_limit_bytes cannot be negative")


def recording_config(directory: Path, retention_days: int, node: str) -> RecordingConfig:
    """From the settings SIFA_RECORDINGS_DIR, SIFA_RECORDINGS_RETENTION_DAYS, SIFA_NODE_NAME."""
    return RecordingConfig(directory=Path(directory), retention_days=retention_days, node=node)


def rtc_configuration(ice: IceSettings, now: float) -> RTCConfiguration:
    """The platform's own ICE servers (none by default), never a public STUN server."""
    servers = []
    for entry in ice_servers_for(ice, RECORDER_ID, now):
        urls = entry["urls"]
        username, credential = entry.get("username"), entry.get("credential")
        servers.append(
            RTCIceServer(
                urls=[str(u) for u in urls] if isinstance(urls, list) else str(urls),
                username=None if username is None else str(username),
                credential=None if credential is None else str(credential),
            )
        )
    return RTCConfiguration(iceServers=servers)


class Run:
    """One recorder in one room; implements peer.RunSink."""

    def __init__(self, owner: Recordings, case_id: int, run_id: int, folder: Path) -> None:
        self.owner = owner
        self.case_id = case_id
        self.run_id = run_id
        self.folder = folder
        self.failure: str | None = None
        self.writers: list[SegmentWriter] = []
        self.connection = LocalConnection(owner.server)
        self.peer = RecorderPeer(
            self.connection,
            case_id=case_id,
            token=self._token,
            folder=folder,
            config=rtc_configuration(owner.ice, owner.wall_clock()),
            sink=self,
            wall_clock=owner.wall_clock,
        )
        self.task: asyncio.Task[None] | None = None
        self.ending: asyncio.Task[None] | None = None

    def _token(self) -> str:
        return issue_room_token(
            self.owner.server.config.secret,
            case_id=self.case_id,
            participant_id=RECORDER_ID,
            role="recorder",
            display_name=RECORDER_NAME,
            ttl_seconds=60,
            now=self.owner.wall_clock(),
        )

    # -- RunSink --------------------------------------------------------------------------

    def new_writer(self, start: SegmentStart) -> SegmentWriter:
        loop = asyncio.get_running_loop()

        def failed(exc: Exception) -> None:
            loop.call_soon_threadsafe(self.failed, f"{start.path.name}: {exc}")

        writer = self.owner.writer_factory(start.path, self.owner.config.encoder, failed)
        self.writers.append(writer)
        return writer

    async def segment_opened(self, start: SegmentStart) -> int:
        row = RecordingSegment(
            run_id=self.run_id,
            case_id=self.case_id,
            participant_id=start.who.participant_id,
            role=start.who.role,
            display_name=start.who.name[:100],
            number=start.number,
            storage_name=str(start.path.relative_to(self.owner.config.directory)),
            state=RECORDING,
            started_at=start.started_at,
            has_audio=False,
            has_video=False,
            video_frames=0,
        )
        async with self.owner.db.transaction() as session:
            session.add(row)
            await session.flush()
            return row.id

    async def segment_closed(
        self, segment_id: int, start: SegmentStart, result: WrittenFile | None, error: str | None
    ) -> None:
        await self.owner.close_segment(self.case_id, segment_id, start, result, error)

    def failed(self, reason: str) -> None:
        if self.failure is not None or self.ending is not None:
            return
        self.failure = reason
        self.ending = asyncio.ensure_future(self.owner.end_run(self, FAILED, reason))

    def room_empty(self) -> None:
        self.owner.spawn(self.owner.stop(self.case_id, "room_empty", ACTOR))


WriterFactory = Callable[[Path, EncoderSettings, Callable[[Exception], None]], SegmentWriter]


def mp4_writers(open_output: OpenOutput = open_mp4) -> WriterFactory:
    def make(path: Path, settings: EncoderSettings, failed: Callable[[Exception], None]) -> Any:
        return SegmentWriter(path, settings, open_output=open_output, on_failure=failed)

    return make


class Recordings:
    def __init__(
        self,
        config: RecordingConfig,
        *,
        db: Database,
        server: SignalingServer,
        ice: IceSettings,
        clock: Clock,
        writer_factory: WriterFactory | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.db = db
        self.server = server
        self.ice = ice
        self.clock = clock
        self.writer_factory = writer_factory or mp4_writers()
        self.wall_clock = wall_clock
        self.runs: dict[int, Run] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = asyncio.Lock()

    def _utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.wall_clock(), dt.UTC)

    def spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the three verbs --------------------------------------------------------------------

    async def start(self, case_id: int, by: str) -> int:
        """Start recording the case's room (idempotent while a run is live): the run id."""
        async with self._lock:
            live = self.runs.get(case_id)
            if live is not None:
                return live.run_id
            started = self._utc()
            async with self.db.transaction() as session:
                row = RecordingRun(
                    case_id=case_id,
                    state=RECORDING,
                    started_at=started,
                    started_by=by[:80],
                    node=self.config.node,
                )
                session.add(row)
                await session.flush()
                run_id = row.id
                await audit.append(
                    session,
                    actor=by,
                    action="recording.started",
                    case_id=case_id,
                    details={"run": run_id},
                    now=self.clock(),
                )
            folder = self.config.directory / f"case-{case_id}" / f"run-{run_id}"
            run = Run(self, case_id, run_id, folder)
            self.runs[case_id] = run
            run.task = asyncio.ensure_future(run.peer.run())
        log.info("recording case %s: run %s started by %s", case_id, run_id, by)
        self.server.tell_judge(case_id, {"type": "recording", "state": RECORDING, "run": run_id})
        return run_id

    async def stop(self, case_id: int, reason: str, by: str) -> None:
        """End the case's run (the session ended): files closed, hashed, made read-only."""
        run = self.runs.get(case_id)
        if run is None:
            return
        if run.ending is None:
            run.ending = asyncio.ensure_future(self.end_run(run, STOPPED, reason, by))
        await asyncio.shield(run.ending)

    async def restart(self, case_id: int, by: str) -> int:
        run = self.runs.get(case_id)
        if run is not None and run.ending is not None:
            await asyncio.shield(run.ending)
        elif run is not None:
            await self.stop(case_id, "restart", by)
        run_id = await self.start(case_id, by)
        async with self.db.transaction() as session:
            await audit.append(
                session,
                actor=by,
                action="recording.restarted",
                case_id=case_id,
                details={"run": run_id},
                now=self.clock(),
            )
        return run_id

    async def recover_interrupted(self) -> SweepReport:
        """Settle what an earlier process left recording; this process's live runs are kept."""
        return await recover_interrupted(
            self.db,
            self.config,
            live=lambda: {run.run_id for run in self.runs.values()},
            clock=self.clock,
            now=self._utc,
        )

    async def close(self) -> None:
        """App shutdown: finish every run's files."""
        for case_id in list(self.runs):
            await self.stop(case_id, "shutdown", ACTOR)
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task

    # -- endings --------------------------------------------------------------------------

    async def end_run(self, run: Run, state: str, reason: str, by: str = ACTOR) -> None:
        if state == FAILED:
            log.error("recording case %s run %s FAILED: %s", run.case_id, run.run_id, reason)
            self.server.tell_judge(
                run.case_id,
                {"type": "recording", "state": FAILED, "run": run.run_id, "reason": reason[:200]},
            )
        try:
            await run.peer.stop()
        except Exception:
            log.exception("stopping the recorder of case %s", run.case_id)
        if run.task is not None:
            run.task.cancel()
            with contextlib.suppress(BaseException):
                await run.task
        async with self.db.transaction() as session:
            row = await session.get(RecordingRun, run.run_id)
            assert row is not None
            row.state = state
            row.ended_at = self._utc()
            row.end_reason = reason[:40] if state != FAILED else "failure"
            row.failure = reason if state == FAILED else None
            await audit.append(
                session,
                actor=by,
                action="recording.failed" if state == FAILED else "recording.stopped",
                case_id=run.case_id,
                details={"run": run.run_id, "reason": reason[:200]},
                now=self.clock(),
            )
        if self.runs.get(run.case_id) is run:
            del self.runs[run.case_id]
        if state != FAILED:
            self.server.tell_judge(
                run.case_id, {"type": "recording", "state": STOPPED, "run": run.run_id}
            )

    async def close_segment(
        self,
        case_id: int,
        segment_id: int,
        start: SegmentStart,
        result: WrittenFile | None,
        error: str | None,
    ) -> None:
        if result is not None and result.sha256:
            os.chmod(result.path, READ_ONLY)
        async with self.db.transaction() as session:
            row = await session.get(RecordingSegment, segment_id)
            assert row is not None
            if result is not None and result.sha256:
                row.state = "closed"
                row.sha256 = result.sha256
                row.size_bytes = result.size_bytes
                row.duration_seconds = result.duration_seconds
                row.ended_at = start.started_at + dt.timedelta(seconds=result.duration_seconds)
                row.has_audio, row.has_video = result.has_audio, result.has_video
                row.video_frames = result.video_frames
            else:
                row.state = "failed" if error else "empty"
                row.failure = error
                row.ended_at = self._utc()
            await audit.append(
                session,
                actor=ACTOR,
                action="recording.segment_closed",
                case_id=case_id,
                details={
                    "segment": segment_id,
                    "participant": row.participant_id,
                    "state": row.state,
                    "sha256": row.sha256,
                    "duration_seconds": row.duration_seconds,
                    "started_at": row.started_at.isoformat(),
                },
                now=self.clock(),
            )


RECORDINGS_KEY = web.AppKey("recordings", Recordings)


def setup_recording(
    app: web.Application,
    config: RecordingConfig,
    *,
    writer_factory: WriterFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> Recordings:
    """Call after the signaling server is attached (create_app does that first)."""
    svc = app[SERVICES]
    recordings = Recordings(
        config,
        db=svc.db,
        server=app[SERVER_KEY],
        ice=app[ICE_KEY],
        clock=svc.clock,
        writer_factory=writer_factory,
        wall_clock=wall_clock,
    )
    app[RECORDINGS_KEY] = recordings

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        config.directory.mkdir(parents=True, exist_ok=True)
        yield

    async def sweep(_app: web.Application) -> None:
        await recordings.recover_interrupted()

    async def finish(_app: web.Application) -> None:
        await recordings.close()

    app.cleanup_ctx.append(lifecycle)
    # The sweep is a start-up signal, set up here because create_app calls this for `sifa
    # serve` and for every test app alike. aiohttp runs all cleanup contexts before the other
    # start-up signals, so the database's schema check (main._database) has passed, and the
    # signals before the first request, so no judge can have started a run in this process.
    app.on_startup.append(sweep)
    # Before signaling's own shutdown closes the seats: files are finished while the
    # database is still open (cleanup contexts close it later).
    app.on_shutdown.insert(0, finish)
    return recordings


# -- retention --------------------------------------------------------------------------------


async def purge_expired(db: Database, config: RecordingConfig, now: dt.datetime) -> list[int]:
    """Delete media older than the retention period; keep the rows, marked purged. Segment ids."""
    horizon = now - dt.timedelta(days=config.retention_days)
    purged: list[int] = []
    async with db.transaction() as session:
        rows = (
            await session.scalars(
                select(RecordingSegment).where(
                    RecordingSegment.ended_at < horizon,
                    RecordingSegment.purged_at.is_(None),
                    RecordingSegment.state.in_((*PLAYABLE, "failed", "empty")),
                )
            )
        ).all()
        for row in rows:
            path = config.directory / row.storage_name
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            row.state = "purged"
            row.purged_at = now
            purged.append(row.id)
            await audit.append(
                session,
                actor=ACTOR,
                action="recording.purged",
                case_id=row.case_id,
                details={
                    "segment": row.id,
                    "sha256": row.sha256,
                    "retention_days": config.retention_days,
                },
                now=now,
            )
    return purged


# -- after a crash ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepReport:
    runs: int = 0  # runs ended as interrupted
    recovered: int = 0
    failed: int = 0
    errors: int = 0  # runs left as they were (logged); the next start tries again


@dataclass(frozen=True, slots=True)
class _Examined:
    segment_id: int
    path: Path
    found: recovery.Found
    sha256: str | None


async def recover_interrupted(
    db: Database,
    config: RecordingConfig,
    *,
    live: Callable[[], Collection[int]],
    clock: Clock,
    now: Callable[[], dt.datetime],
) -> SweepReport:
    """End every run, and seal every segment, that a killed process left "recording".

    live() gives the run ids this process is recording; they are never touched. Each run is
    settled in one transaction with its audit events; files are made read-only only after it
    commits, and only for the segments it settled. Running it again changes nothing.
    """
    # Runs from before runs named their server (node NULL) are taken as this server's own.
    ours = or_(RecordingRun.node == config.node, RecordingRun.node.is_(None))
    async with db.transaction() as session:
        runs = await session.scalars(
            select(RecordingRun.id).where(RecordingRun.state == RECORDING, ours)
        )
        segments = await session.scalars(
            select(RecordingSegment.run_id)
            .join(RecordingRun, RecordingRun.id == RecordingSegment.run_id)
            .where(RecordingSegment.state == RECORDING, ours)
        )
        candidates = sorted({*runs, *segments} - set(live()))
    totals = {"runs": 0, RECOVERED: 0, FAILED: 0, "errors": 0}
    for run_id in candidates:
        try:
            done = await _settle_run(db, config, run_id, live, clock, now)
        except Exception:
            log.exception("recording sweep: run %s could not be settled", run_id)
            totals["errors"] += 1
            continue
        for key, n in done.items():
            totals[key] += n
    report = SweepReport(**totals)
    if candidates:
        log.warning(
            "recording sweep: %d runs interrupted, %d segments recovered, %d failed, %d errors",
            report.runs,
            report.recovered,
            report.failed,
            report.errors,
        )
    else:
        log.info("recording sweep: nothing was left recording")
    return report


async def _settle_run(
    db: Database,
    config: RecordingConfig,
    run_id: int,
    live: Callable[[], Collection[int]],
    clock: Clock,
    now: Callable[[], dt.datetime],
) -> dict[str, int]:
    async with db.transaction() as session:
        open_segments = (
            await session.execute(
                select(RecordingSegment.id, RecordingSegment.storage_name).where(
                    RecordingSegment.run_id == run_id, RecordingSegment.state == RECORDING
                )
            )
        ).all()
    # Reading and hashing happen outside the transaction: a long file must not hold the
    # database's write lock.
    examined = []
    for segment_id, storage_name in open_segments:
        path = config.directory / storage_name
        found = await asyncio.to_thread(examine, path)
        sha256 = None
        if found.exists and found.size_bytes:
            sha256 = await asyncio.to_thread(file_sha256, path)
        examined.append(_Examined(segment_id, path, found, sha256))
    counts = {"runs": 0, RECOVERED: 0, FAILED: 0}
    sealed: list[Path] = []
    at = now()
    async with db.transaction() as session:
        run = await session.get(RecordingRun, run_id, with_for_update=True)
        assert run is not None
        if run_id in live():
            return counts
        for item in examined:
            row = await session.get(RecordingSegment, item.segment_id, with_for_update=True)
            if row is None or row.state != RECORDING:
                continue  # settled meanwhile by another sweep
            verdict = recovery.settle_segment(item.found)
            row.state = verdict.state
            row.failure = verdict.reason
            row.ended_at = recovery.segment_end(row.started_at, item.found, verdict, at)
            row.sha256 = item.sha256
            row.size_bytes = item.found.size_bytes if item.found.exists else None
            media = item.found.media
            if verdict.state == RECOVERED and media is not None:
                row.duration_seconds = media.duration_seconds
                row.has_audio = media.audio_packets > 0
                row.has_video = media.video_frames > 0
                row.video_frames = media.video_frames
            await audit.append(
                session,
                actor=ACTOR,
                action="recording.segment_interrupted",
                case_id=row.case_id,
                details={
                    "run": run_id,
                    "segment": row.id,
                    "participant": row.participant_id,
                    "state": row.state,
                    "reason": verdict.reason,
                    "sha256": row.sha256,
                    "size_bytes": row.size_bytes,
                    "duration_seconds": row.duration_seconds,
                    "started_at": row.started_at.isoformat(),
                    "ended_at": row.ended_at.isoformat(),
                },
                now=clock(),
            )
            counts[verdict.state] += 1
            if item.found.exists:
                sealed.append(item.path)
        if run.state == RECORDING:
            segments = (
                await session.scalars(
                    select(RecordingSegment).where(RecordingSegment.run_id == run_id)
                )
            ).all()
            writes = [item.found.modified_at for item in examined]
            run.ended_at = recovery.run_end(
                run.started_at, [*(s.ended_at for s in segments), *writes], at
            )
            run.state = FAILED
            run.end_reason = recovery.INTERRUPTED
            run.failure = recovery.RUN_FAILURE
            await audit.append(
                session,
                actor=ACTOR,
                action="recording.interrupted",
                case_id=run.case_id,
                details={
                    "run": run_id,
                    "reason": recovery.INTERRUPTED,
                    "started_at": run.started_at.isoformat(),
                    "ended_at": run.ended_at.isoformat(),
                    "segments": {RECOVERED: counts[RECOVERED], FAILED: counts[FAILED]},
                },
                now=clock(),
            )
            counts["runs"] = 1
    for path in sealed:
        try:
            os.chmod(path, READ_ONLY)
        except OSError as exc:
            # strerror, not the exception: its text carries the path, named after a person.
            log.error("recording sweep: run %s: a file stays writable: %s", run_id, exc.strerror)
    return counts
