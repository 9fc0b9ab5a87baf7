"""the people's mediation agreement: drafts, signatures, the sealed document

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.append_only import drop_statements, guard_statements

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_RECORDS = ("agreement_drafts", "agreement_signatures")


def upgrade() -> None:
    op.create_table(
        "mediation_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("draft_version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pdf_path", sa.String(length=300), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mediation_id"], ["mediation_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mediation_id"),
    )
    op.create_table(
        "agreement_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediation_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mediation_id"], ["mediation_cases.id"]),
        sa.ForeignKeyConstraint(["saved_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mediation_id", "version"),
    )
    op.create_index("ix_agreement_drafts_mediation_id", "agreement_drafts", ["mediation_id"])
    op.create_table(
        "agreement_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediation_id", sa.Integer(), nullable=False),
        sa.Column("draft_version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("party_position", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("signer_name", sa.String(length=100), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("proof", sa.String(length=200), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("applies_for_confirmation", sa.Boolean(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mediation_id"], ["mediation_cases.id"]),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_agreement_signatures_mediation_id", "agreement_signatures", ["mediation_id"]
    )
    # Records for good: a draft once saved and a signature once made are never changed.
    dialect = op.get_bind().dialect.name
    for table in _RECORDS:
        for statement in guard_statements(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _RECORDS:
        for statement in drop_statements(dialect, table):
            op.execute(statement)
    op.drop_index("ix_agreement_signatures_mediation_id", table_name="agreement_signatures")
    op.drop_table("agreement_signatures")
    op.drop_index("ix_agreement_drafts_mediation_id", table_name="agreement_drafts")
    op.drop_table("agreement_drafts")
    op.drop_table("mediation_agreements")
