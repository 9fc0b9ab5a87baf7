"""Recording runs for the app: start, stop, restart, failure alerts, files, database and audit.

One run per case at a time. Everything that goes wrong is logged, audited, shown by the API
(state "failed") and sent to the judge as a signaling message of type "recording"; it is never
silent. A restart starts a new run, so the time without a recorder stays a visible gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import RTCConfiguration, RTCIceServer
from sqlalchemy import select

from app.keys import SERVICES, Clock
from app.recording.peer import RECORDER_ID, RECORDER_NAME, RecorderPeer, SegmentStart
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
FAILED = "failed"
ACTOR = "recorder"
READ_ONLY = 0o444


@dataclass(frozen=True)
class RecordingConfig:
    directory: Path
    retention_days: int = 3650
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    # Case bundles carry recordings up to this size each; larger ones are listed by hash.
    bundle_media_limit_bytes: int = 32 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        if self.bundle_media_limit_bytes < 0:
            raise ValueError("bundle_media_limit_bytes cannot be negative")


def recording_config(directory: Path, retention_days: int) -> RecordingConfig:
    """From the settings SIFA_RECORDINGS_DIR and SIFA_RECORDINGS_RETENTION_DAYS."""
    return RecordingConfig(directory=Path(directory), retention_days=retention_days)


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
                    case_id=case_id, state=RECORDING, started_at=started, started_by=by[:80]
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

    async def finish(_app: web.Application) -> None:
        await recordings.close()

    app.cleanup_ctx.append(lifecycle)
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
                    RecordingSegment.state.in_(("closed", "failed", "empty")),
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
