"""Engine and transactions. SQLite (embedded default) and PostgreSQL run the same code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.domain.errors import InsufficientStorage


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    # A failed statement's parameters (names, encrypted ID numbers) stay out of exception
    # text and so out of logs and tracebacks.
    if is_sqlite(url):
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, hide_parameters=True
        )
        _make_sqlite_serialisable(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


def _make_sqlite_serialisable(engine: AsyncEngine) -> None:
    """Take the write lock when a transaction begins.

    SQLite's default deferred transactions upgrade a read lock to a write lock midway, which
    fails at once ("database is locked") when two writers meet; BEGIN IMMEDIATE makes the second
    wait for the first instead, so concurrent acceptances queue rather than fail.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


SQLITE_FULL = 13
POSTGRES_DISK_FULL = "53100"


def storage_full(error: DBAPIError) -> bool:
    """SQLite's "database or disk is full", or PostgreSQL's disk_full (SQLSTATE 53100)."""
    orig = error.orig
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    return getattr(orig, "sqlstate", None) == POSTGRES_DISK_FULL


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back on any error. A
        database whose disk is full refuses it as InsufficientStorage (507), not a crash."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except DBAPIError as error:
            if storage_full(error):
                raise InsufficientStorage("the database") from error
            raise

    async def close(self) -> None:
        await self.engine.dispose()
