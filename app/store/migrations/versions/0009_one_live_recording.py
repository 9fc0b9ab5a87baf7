"""one live recording: at most one run per case is recording, whichever server records it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Several servers share one database: the database itself refuses a second live run, so a
    # race between two servers cannot record one hearing twice (both backends know partial
    # indexes).
    op.create_index(
        "one_live_recording_per_case",
        "recording_runs",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("state = 'recording'"),
        sqlite_where=sa.text("state = 'recording'"),
    )


def downgrade() -> None:
    op.drop_index("one_live_recording_per_case", table_name="recording_runs")
