"""the mediation transcript (调解笔录), sealed with the agreement

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mediation_agreements") as batch:
        batch.add_column(sa.Column("transcript_pdf", sa.String(300), nullable=True))
        batch.add_column(sa.Column("transcript_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mediation_agreements") as batch:
        batch.drop_column("transcript_sha256")
        batch.drop_column("transcript_pdf")
