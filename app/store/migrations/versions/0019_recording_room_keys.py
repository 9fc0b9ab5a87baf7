"""recordings keyed by room: recording_runs.case_id and recording_segments.case_id hold a room
key (signaling/room_keys.py), a confirmation case's id or a mediation's room key, so their
foreign keys to cases.id go

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TABLES = ("recording_runs", "recording_segments")
# SQLite's foreign keys have no names: batch mode reflects them under this convention, so the
# one to drop can be named. PostgreSQL's have real names, read from the database.
_CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_MEDIATION_BASE = 2**30  # signaling/room_keys.py, frozen here as this revision knows it


def _case_fk(table: str) -> str | None:
    for fk in sa.inspect(op.get_bind()).get_foreign_keys(table):
        if fk["referred_table"] == "cases" and fk["constrained_columns"] == ["case_id"]:
            return fk["name"] or f"fk_{table}_case_id_cases"
    return None


def _parked_segments() -> bool:
    """SQLite rebuilds a table to drop a foreign key, and dropping recording_runs while
    segments point at it breaks their run_id key (foreign keys are on and cannot be turned off
    inside the migration's transaction). The segments wait in a plain copy meanwhile."""
    if op.get_bind().dialect.name != "sqlite":
        return False
    op.execute("CREATE TEMP TABLE parked_recording_segments AS SELECT * FROM recording_segments")
    op.execute("DELETE FROM recording_segments")
    return True


def _unpark_segments() -> None:
    op.execute("INSERT INTO recording_segments SELECT * FROM parked_recording_segments")
    op.execute("DROP TABLE parked_recording_segments")


def upgrade() -> None:
    parked = _parked_segments()
    for table in _TABLES:
        name = _case_fk(table)
        if name is None:
            continue
        with op.batch_alter_table(table, naming_convention=_CONVENTION) as batch:
            batch.drop_constraint(name, type_="foreignkey")
    if parked:
        _unpark_segments()


def downgrade() -> None:
    # A mediation room's recordings name no case: the keys cannot come back while they exist,
    # and a downgrade does not delete recordings.
    for table in _TABLES:
        rooms = op.get_bind().scalar(
            sa.text(f"SELECT count(*) FROM {table} WHERE case_id > :base"),
            {"base": _MEDIATION_BASE},
        )
        if rooms:
            raise RuntimeError(
                f"{table} holds {rooms} rows of mediation rooms: archive and remove them "
                "before downgrading below 0019"
            )
    sqlite = op.get_bind().dialect.name == "sqlite"
    parked = _parked_segments()
    for table in _TABLES:
        if _case_fk(table) is not None:
            continue
        # PostgreSQL's name as 0004 left it; SQLite's batch mode wants one too.
        name = f"fk_{table}_case_id_cases" if sqlite else f"{table}_case_id_fkey"
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(name, "cases", ["case_id"], ["id"])
    if parked:
        _unpark_segments()
