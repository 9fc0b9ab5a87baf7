"""mediation cases: disputes before the people's mediation committee, and their parties

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mediation_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("mediator_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("dispute_type", sa.String(length=50), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["committee_id"], ["committees.id"]),
        sa.ForeignKeyConstraint(["filed_by_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["mediator_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("committee_id", "mediator_id", "state"):
        op.create_index(f"ix_mediation_cases_{column}", "mediation_cases", [column])
    op.create_table(
        "mediation_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("ethnicity", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("id_type", sa.String(length=20), nullable=True),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("legal_representative", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(["mediation_id"], ["mediation_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mediation_parties_mediation_id", "mediation_parties", ["mediation_id"])


def downgrade() -> None:
    op.drop_index("ix_mediation_parties_mediation_id", table_name="mediation_parties")
    op.drop_table("mediation_parties")
    for column in ("committee_id", "mediator_id", "state"):
        op.drop_index(f"ix_mediation_cases_{column}", table_name="mediation_cases")
    op.drop_table("mediation_cases")
