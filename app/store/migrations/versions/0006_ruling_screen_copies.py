"""ruling screen copies: the issued text with ID numbers masked, for shared screens

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written in the same INSERT as the ruling; the append-only triggers stay as they are.
    op.add_column("rulings", sa.Column("screen_text", sa.Text(), nullable=True))


def downgrade() -> None:
    # Not a batch copy: that would rebuild the table without its append-only triggers.
    op.drop_column("rulings", "screen_text")
