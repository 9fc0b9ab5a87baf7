"""audit chain seal: where the chain was keyed with the installation's audit key

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: not sealed yet. The key lives outside the database, so the migration cannot seal
    # the existing chain; `sifa init` (or the first append of a process holding the key) does,
    # writing the seal as an event of the chain. Verification trusts the chain, not this
    # column: it only tells appenders whether a seal is still to be written.
    op.add_column("audit_head", sa.Column("sealed_seq", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Keyed links stay keyed: after a downgrade the old code reports them as broken, which is
    # the truth about what it can check.
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("sealed_seq")
