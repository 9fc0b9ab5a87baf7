"""a mediation session's checks of each party: the mediator's identity check, and the party's
own taps (consent to online mediation, rights told, the sham-mediation warning)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.append_only import drop_statements, guard_statements

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_TABLE = "mediation_checks"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mediation_id", sa.Integer(), nullable=False),
        sa.Column("party_position", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=20), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mediation_id"], ["mediation_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mediation_id", "party_position", "check"),
    )
    op.create_index("ix_mediation_checks_mediation_id", _TABLE, ["mediation_id"])
    for statement in guard_statements(op.get_bind().dialect.name, _TABLE):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name, _TABLE):
        op.execute(statement)
    op.drop_index("ix_mediation_checks_mediation_id", table_name=_TABLE)
    op.drop_table(_TABLE)
