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
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict
from app.keys import SERVICES, Clock
from app.logs import case_context
from app.metrics.counts import RecordingStats
from app.recording import recovery
from app.recording.peer import SegmentStart
from app.recording.restart import RESTART_CAUSES, SHUTDOWN, hearing_in_progress
from app.recording.run import Run, WriterFactory, mp4_writers
from app.recording.settings import (
    ACTOR,
    FAILED,
    HANDOVER,
    READ_ONLY,
    RECORDING,
    STOPPED,
    RecordingConfig,
)
from app.recording.sweep import SweepReport, recover_interrupted, settle_run
from app.recording.writer import WrittenFile
from app.services import audit
from app.store.db import Database
from app.store.models import RecordingRun, RecordingSegment
from app.web.signaling_setup import ICE_KEY
from signaling.ice import IceSettings
from signaling.server import SERVER_KEY, SignalingServer

log = logging.getLogger(__name__)


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
        self.stats = RecordingStats()
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
            try:
                run_id = await self._new_run(case_id, by, started)
            except IntegrityError:
                node = await self.live_node(case_id)
                raise Conflict(
                    f"本案已在服务器 {node} 录像。 / Case {case_id} is already being recorded on "
                    f"server {node}.",
                    code="already_recording",
                ) from None
            folder = self.config.directory / f"case-{case_id}" / f"run-{run_id}"
            run = Run(self, case_id, run_id, folder)
            self.runs[case_id] = run
            # The recorder's tasks (and their log lines) carry the case id.
            run.task = asyncio.get_running_loop().create_task(
                run.peer.run(), context=case_context(case_id)
            )
        log.info("recording case %s: run %s started by %s", case_id, run_id, by)
        self.server.tell_judge(case_id, {"type": "recording", "state": RECORDING, "run": run_id})
        return run_id

    async def _new_run(self, case_id: int, by: str, started: dt.datetime) -> int:
        """The run's row; the database refuses a second live run of the case (any server)."""
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
            await audit.append(
                session,
                actor=by,
                action="recording.started",
                case_id=case_id,
                details={"run": row.id, "node": self.config.node},
                now=self.clock(),
            )
            return row.id

    async def live_node(self, case_id: int) -> str | None:
        """The server holding the case's live run, if any (this one, or another's)."""
        if case_id in self.runs:
            return self.config.node
        async with self.db.transaction() as session:
            node = await session.scalar(
                select(RecordingRun.node).where(
                    RecordingRun.case_id == case_id, RecordingRun.state == RECORDING
                )
            )
        return None if node is None else str(node)

    async def end_lost(self, case_id: int, node: str) -> None:
        """The server recording the case is gone (it no longer listens on the bus): settle its
        run as the start-up sweep would, from what its files hold (recordings are on storage
        every server shares), so nothing recorded before the loss is lost."""
        async with self.db.transaction() as session:
            run_ids = list(
                await session.scalars(
                    select(RecordingRun.id).where(
                        RecordingRun.case_id == case_id,
                        RecordingRun.state == RECORDING,
                        RecordingRun.node == node,
                    )
                )
            )
        for run_id in run_ids:
            log.warning("case %s: run %s of lost server %s settled here", case_id, run_id, node)
            await settle_run(
                self.db,
                self.config,
                run_id,
                lambda: (),
                self.clock,
                self._utc,
                failure=recovery.LOST_FAILURE,
            )

    async def carry_on(self, case_id: int, *, after_restart: bool = False) -> None:
        """This server took the room over: if its last run ended because its server stopped
        (handover) or was lost, record on here. The time between stays a gap.

        after_restart: the room opened afresh here; a run that ended because a server stopped
        (shutdown) or died (interrupted, settled by the start-up sweep) while the hearing was
        still on starts again, audited as restarted after that cause."""
        if case_id in self.runs:
            return
        async with self.db.transaction() as session:
            last = await session.scalar(
                select(RecordingRun)
                .where(RecordingRun.case_id == case_id)
                .order_by(RecordingRun.id.desc())
                .limit(1)
            )
            if last is None:
                return
            state, reason, node, last_id = last.state, last.end_reason, last.node, last.id
            hearing_on = await hearing_in_progress(session, case_id)
        if state == RECORDING and node != self.config.node:
            await self.end_lost(case_id, str(node))
            await self.start(case_id, ACTOR)
        elif state == STOPPED and reason == HANDOVER:
            await self.start(case_id, ACTOR)
        elif after_restart and hearing_on and reason in RESTART_CAUSES:
            await self._restarted(case_id, ACTOR, after=reason, previous_run=last_id)

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
        return await self._restarted(case_id, by)

    async def _restarted(self, case_id: int, by: str, **why: Any) -> int:
        """A new run, audited as the recording started again (and why, when it restarted by
        itself after its server stopped or died)."""
        run_id = await self.start(case_id, by)
        async with self.db.transaction() as session:
            await audit.append(
                session,
                actor=by,
                action="recording.restarted",
                case_id=case_id,
                details={"run": run_id, **why},
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

    async def close(self, reason: str = SHUTDOWN) -> None:
        """App shutdown: finish every run's files (reason "handover" when another server
        takes the rooms over and records on)."""
        for case_id in list(self.runs):
            try:
                await self.stop(case_id, reason, ACTOR)
            except Exception:
                # The process is going away all the same: a run whose end could not be
                # written (the database busy or gone) is settled as interrupted by the next
                # start's sweep, its files as far as they got. The other runs still end.
                log.exception("recording case %s: its end could not be recorded", case_id)
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task

    # -- endings --------------------------------------------------------------------------

    async def end_run(self, run: Run, state: str, reason: str, by: str = ACTOR) -> None:
        if state == FAILED:
            self.stats.runs_failed += 1
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
        self.stats.frames_lost_ended += sum(writer.dropped for writer in run.writers)
        if self.runs.get(run.case_id) is run:
            del self.runs[run.case_id]
        if state != FAILED:
            self.server.tell_judge(
                run.case_id,
                {"type": "recording", "state": STOPPED, "run": run.run_id, "reason": reason},
            )

    async def close_segment(
        self,
        case_id: int,
        segment_id: int,
        start: SegmentStart,
        result: WrittenFile | None,
        error: str | None,
    ) -> None:
        self.stats.segment_closed(error)
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
        await recordings.close(HANDOVER if recordings.server.cluster is not None else "shutdown")

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
