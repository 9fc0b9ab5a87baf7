"""paper receipts: a party who declines electronic service signs a paper 送达回证

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.append_only import drop_statements, guard_statements

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("party_position", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(length=100), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "party_position"),
    )
    op.create_index("ix_paper_receipts_case_id", "paper_receipts", ["case_id"])
    # A record of service, like the electronic receipts: never changed or removed.
    dialect = op.get_bind().dialect.name
    for statement in guard_statements(dialect, "paper_receipts"):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect, "paper_receipts"):
        op.execute(statement)
    op.drop_index("ix_paper_receipts_case_id", table_name="paper_receipts")
    op.drop_table("paper_receipts")
