"""Recordings after the fact: media past its retention, and what a killed process (or a lost
server) left recording."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select

from app.files import file_sha256
from app.keys import Clock
from app.recording import recovery
from app.recording.probe import examine
from app.recording.settings import (
    ACTOR,
    FAILED,
    PLAYABLE,
    READ_ONLY,
    RECORDING,
    RECOVERED,
    RecordingConfig,
)
from app.services import audit
from app.store.db import Database
from app.store.models import RecordingRun, RecordingSegment

log = logging.getLogger(__name__)


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
            done = await settle_run(db, config, run_id, live, clock, now)
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


async def settle_run(
    db: Database,
    config: RecordingConfig,
    run_id: int,
    live: Callable[[], Collection[int]],
    clock: Clock,
    now: Callable[[], dt.datetime],
    *,
    failure: str = recovery.RUN_FAILURE,
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
            run.failure = failure
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
