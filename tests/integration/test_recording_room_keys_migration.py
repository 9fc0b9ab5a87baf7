"""Migration 0019 on each backend, with recordings in the tables: the foreign keys from the
recording tables to cases go (a mediation room's key names no case) and come back on a
downgrade; no row is lost either way, and the models match the migrated schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.keyring import FieldCipher
from app.services import demo
from app.store.db import Database
from app.store.migrate import upgrade
from app.store.models import Base, Case
from signaling.room_keys import mediation_room

from integration.conftest import make_settings
from integration.test_transcript_archive import _downgrade

TABLES = ("recording_runs", "recording_segments")


def _case_keys(connection: Connection) -> dict[str, list[str]]:
    found = {}
    for table in TABLES:
        found[table] = [
            fk["referred_table"]
            for fk in inspect(connection).get_foreign_keys(table)
            if fk["constrained_columns"] == ["case_id"]
        ]
    return found


def _model_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        diff
        for diff in compare_metadata(context, Base.metadata)
        if any(table in repr(diff) for table in TABLES)
    ]


async def _record(db: Database, key: int, run_id: int, number: int) -> None:
    """A stopped run of the room and one closed segment of it."""
    at = dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO recording_runs (id, case_id, state, started_at, ended_at, "
                "started_by, end_reason, node) VALUES (:id, :key, 'stopped', :at, :at, "
                "'judge', 'judge', 'n1')"
            ),
            {"id": run_id, "key": key, "at": at},
        )
        await conn.execute(
            text(
                "INSERT INTO recording_segments (run_id, case_id, participant_id, role, "
                "display_name, number, storage_name, state, started_at, has_audio, has_video, "
                "video_frames) VALUES (:run, :key, 'judge-1', 'judge', 'judge', :n, :name, "
                "'closed', :at, true, true, 10)"
            ),
            {"run": run_id, "key": key, "n": number, "name": f"run-{run_id}.mp4", "at": at},
        )


async def _count(db: Database) -> tuple[int, int]:
    async with db.engine.connect() as conn:
        runs = (await conn.execute(text("SELECT count(*) FROM recording_runs"))).scalar_one()
        segments = (
            await conn.execute(text("SELECT count(*) FROM recording_segments"))
        ).scalar_one()
    return int(runs), int(segments)


async def test_0019_drops_and_restores_the_case_keys_with_recordings_kept(
    database_url: str, tmp_path: Any
) -> None:
    settings = make_settings(tmp_path, database_url)
    db = Database(database_url)
    try:
        await upgrade(db.engine, "0018")
        async with db.transaction() as session:
            await demo.load(
                session,
                password="demo",
                now=dt.datetime.now(dt.UTC),
                cipher=FieldCipher.from_certs(settings.certs_dir),
            )
            case_id = await session.scalar(select(Case.id).limit(1))
        assert case_id is not None
        await _record(db, case_id, 1, 1)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_case_keys) == {t: ["cases"] for t in TABLES}

        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_case_keys) == {t: [] for t in TABLES}
            assert await conn.run_sync(_model_differences) == []
        assert await _count(db) == (1, 1)
        # A mediation room's recording is stored now.
        await _record(db, mediation_room(7), 2, 1)
        assert await _count(db) == (2, 2)

        # A downgrade would orphan it: refused, nothing changed.
        with pytest.raises(RuntimeError, match="mediation rooms"):
            async with db.engine.begin() as conn:
                await conn.run_sync(_downgrade, "0018")
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM recording_segments WHERE run_id = 2"))
            await conn.execute(text("DELETE FROM recording_runs WHERE id = 2"))

        async with db.engine.begin() as conn:
            await conn.run_sync(_downgrade, "0018")
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_case_keys) == {t: ["cases"] for t in TABLES}
        assert await _count(db) == (1, 1)
        # The keys hold again: no run of a room that is no case.
        with pytest.raises(DBAPIError):
            await _record(db, mediation_room(8), 3, 1)

        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_case_keys) == {t: [] for t in TABLES}
            assert await conn.run_sync(_model_differences) == []
        assert await _count(db) == (1, 1)
    finally:
        await db.close()
