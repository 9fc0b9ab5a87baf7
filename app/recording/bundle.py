"""Recordings in the case bundle: every segment listed by SHA-256, small files included.

A segment sealed after an interruption ("recovered") is included like a closed one; its state
in the manifest tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.recording.recovery import PLAYABLE
from app.store.models import RecordingSegment


@dataclass(frozen=True, slots=True)
class BundleMedia:
    entry: dict[str, object]  # for the manifest
    name: str  # inside the zip
    path: Path | None  # the file to include, or None: listed by hash only


async def bundle_media(
    session: AsyncSession, case_id: int, directory: Path | None, limit_bytes: int
) -> list[BundleMedia]:
    """Every segment of the case for the bundle manifest; files up to limit_bytes included."""
    rows = (
        await session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.case_id == case_id)
            .order_by(RecordingSegment.started_at, RecordingSegment.id)
        )
    ).all()
    out = []
    for row in rows:
        name = f"recordings/{row.id}-{row.participant_id}-{row.number}.mp4"
        path = None if directory is None else directory / row.storage_name
        include = (
            path is not None
            and row.state in PLAYABLE
            and row.size_bytes is not None
            and row.size_bytes <= limit_bytes
            and path.is_file()
        )
        entry: dict[str, object] = {
            "name": name,
            "sha256": row.sha256,
            "size_bytes": row.size_bytes,
            "participant": row.participant_id,
            "role": row.role,
            "started_at": row.started_at.isoformat(),
            "ended_at": row.ended_at.isoformat() if row.ended_at else None,
            "duration_seconds": row.duration_seconds,
            "state": row.state,
            "included": include,
        }
        out.append(BundleMedia(entry, name, path if include else None))
    return out
