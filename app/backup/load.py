"""Putting a dumped database in place: SQLite by renaming a checked copy over the file,
PostgreSQL by replaying the dump in one transaction. Either the whole database is the
backup's, or it is as it was."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.backup.dump import asyncpg_dsn, libpq, run_tool, sqlite_path
from app.backup.errors import BackupDamaged, BackupError
from app.backup.manifest import CHANGED, DUMP

# Any of these with a row means the installation has been used.
USED_TABLES = ("audit_events", "accounts", "cases")


def _sqlite_in_use(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(path, timeout=30)
    try:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        if tables and "alembic_version" not in tables:
            return True  # somebody else's database
        return any(
            connection.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
            for t in USED_TABLES
            if t in tables
        )
    finally:
        connection.close()


async def database_in_use(url: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return _sqlite_in_use(sqlite_path(url))
    import asyncpg  # type: ignore[import-untyped]

    try:
        connection = await asyncpg.connect(asyncpg_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        raise BackupError(
            "目标数据库不存在，请先创建（createdb）。 / The target database does not exist; "
            "create it first (createdb)."
        ) from None
    try:
        tables = {
            r[0]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        if tables and "alembic_version" not in tables:
            return True
        for table in USED_TABLES:
            if table in tables and await connection.fetchval(f"SELECT 1 FROM {table} LIMIT 1"):
                return True
        return False
    finally:
        await connection.close()


def stage_sqlite(dump: Path, url: str) -> Path:
    """A checked copy beside the database file (the same file system, so the rename that
    puts it in place is atomic)."""
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore")
    staged.unlink(missing_ok=True)
    staged.write_bytes(dump.read_bytes())
    connection = sqlite3.connect(staged)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        verdict = (str(error),)
    finally:
        connection.close()
    if verdict is None or verdict[0] != "ok":
        staged.unlink(missing_ok=True)
        raise BackupDamaged([(str(dump.name), f"{DUMP}, {CHANGED} ({verdict})")])
    with staged.open("rb") as handle:
        os.fsync(handle.fileno())
    return staged


def put_sqlite(staged: Path, url: str) -> None:
    target = sqlite_path(url)
    # A write-ahead log left from the old file would be replayed into the new one.
    for extra in ("-wal", "-shm", "-journal"):
        Path(f"{target}{extra}").unlink(missing_ok=True)
    os.replace(staged, target)


async def stage_postgres(dump: Path, scratch: Path) -> Path:
    """The dump as SQL (pg_restore reads it fully, which also proves it is a whole dump),
    wrapped so psql replays it in one transaction over an emptied schema."""
    sql = scratch / "restore.sql"
    await run_tool(
        ["pg_restore", "--no-owner", "--no-privileges", f"--file={sql}", str(dump)],
        dict(os.environ),
        "读取数据库转储 reading the database dump",
    )
    wrapper = scratch / "replay.sql"
    wrapper.write_text(
        "\\set ON_ERROR_STOP on\n"
        "DROP SCHEMA IF EXISTS public CASCADE;\n"
        "CREATE SCHEMA public;\n"
        f"\\i '{sql}'\n"
    )
    return wrapper


async def put_postgres(wrapper: Path, url: str) -> None:
    args, env = libpq(url)
    await run_tool(
        ["psql", "--no-psqlrc", "--quiet", "--single-transaction", f"--file={wrapper}", *args],
        env,
        "恢复数据库 restoring the database",
    )
