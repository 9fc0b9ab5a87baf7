"""an application for confirmation made from an online mediation's sealed agreement; a failed
mediation's sealed termination record

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mediation_cases", sa.Column("termination_pdf", sa.String(300), nullable=True))
    op.add_column("mediation_cases", sa.Column("termination_sha256", sa.String(64), nullable=True))
    # Batch: SQLite adds a foreign key only by rebuilding the table.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("mediation_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_cases_mediation_id", ["mediation_id"])
        batch.create_foreign_key(
            "fk_cases_mediation_id", "mediation_cases", ["mediation_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_mediation_id", type_="foreignkey")
        batch.drop_constraint("uq_cases_mediation_id", type_="unique")
        batch.drop_column("mediation_id")
    with op.batch_alter_table("mediation_cases") as batch:
        batch.drop_column("termination_sha256")
        batch.drop_column("termination_pdf")
