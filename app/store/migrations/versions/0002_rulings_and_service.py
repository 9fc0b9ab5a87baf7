"""rulings and service

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 00:08:04.502563
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.append_only import drop_statements, guard_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rulings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("storage_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("signer_cert_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature_level", sa.String(length=10), nullable=False),
        sa.Column("verify_token", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("storage_name"),
        sa.UniqueConstraint("verify_token"),
    )
    op.create_table(
        "service_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("party_position", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(length=100), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device", sa.String(length=120), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("voucher_storage_name", sa.String(length=200), nullable=False),
        sa.Column("voucher_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "party_position"),
        sa.UniqueConstraint("voucher_storage_name"),
    )
    with op.batch_alter_table("service_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_receipts_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("decision_ground", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("decision_reasons", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))

    # An issued ruling and a recorded receipt are never changed or removed.
    dialect = op.get_bind().dialect.name
    for table in ("rulings", "service_receipts"):
        for statement in guard_statements(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("rulings", "service_receipts"):
        for statement in drop_statements(dialect, table):
            op.execute(statement)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decision_reasons")
        batch_op.drop_column("decision_ground")
        batch_op.drop_column("decision")

    with op.batch_alter_table("service_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_receipts_case_id"))

    op.drop_table("service_receipts")
    op.drop_table("rulings")
