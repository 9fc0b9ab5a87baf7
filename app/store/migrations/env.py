"""Alembic environment. Migrations run on a connection handed in by `app.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from app.store.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through `sifa init` (app.store.migrate), not bare alembic")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
