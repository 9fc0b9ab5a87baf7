"""recording nodes: each recording run names the server that records it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # After a crash a server settles only its own runs: several may share one database.
    op.add_column("recording_runs", sa.Column("node", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("recording_runs", "node")
