"""unique court names: an installation runs many courts, each named once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 12:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The name is what rulings print and what the administrator picks a court by: two courts
    # of one name would be told apart only by their codes. An index, not a table constraint,
    # so SQLite need not rebuild a table that others reference.
    op.create_index("ix_courts_name", "courts", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_courts_name", table_name="courts")
