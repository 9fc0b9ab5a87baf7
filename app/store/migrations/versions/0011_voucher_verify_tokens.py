"""voucher verification tokens: each electronic service voucher has its own public page

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written in the same INSERT as the receipt, so the append-only triggers stay as they are.
    # Nullable: a voucher signed before this revision printed the ruling's token, and its
    # record cannot be updated (nor should it be: no printed QR code would carry a new token).
    op.add_column(
        "service_receipts", sa.Column("verify_token", sa.String(length=64), nullable=True)
    )
    # An index, not a batch-copied constraint: a batch copy would rebuild the table without
    # its triggers. Both backends let a unique index hold many NULLs.
    op.create_index(
        "ix_service_receipts_verify_token", "service_receipts", ["verify_token"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_service_receipts_verify_token", table_name="service_receipts")
    op.drop_column("service_receipts", "verify_token")
