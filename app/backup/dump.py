"""Taking the database while the server runs: SQLite through its online backup API, PostgreSQL
through pg_dump. Both give one consistent instant, and the files that instant points at are
read from the same instant, so the backup copies exactly what its database names."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from app.backup.errors import BackupError

SQLITE_DUMP = "database/sifa.sqlite3"
POSTGRES_DUMP = "database/sifa.pgdump"  # pg_dump custom format: pg_restore reads it
# Segments whose media should be on disk, checked against the hash the recorder took.
SEALED_SEGMENTS = ("closed", "recovered")
SEALED_MATERIAL = ".sealed"


@dataclass(frozen=True)
class Reference:
    """A file a database record names."""

    folder: str  # rulings, materials or recordings
    name: str  # the record's storage name, relative to that folder
    sha256: str | None  # the stored bytes' hash when the record holds it
    live: bool = False  # a recording segment still being written
    required: bool = True  # False: a segment whose media may be gone (purged, failed, empty)


@dataclass(frozen=True)
class Snapshot:
    revision: str | None
    audit_seq: int
    audit_hash: str
    references: list[Reference]
    live_nodes: list[str]


Rows = Sequence[Sequence[Any]]
Query = Callable[[str], Awaitable[Rows]]


async def read_snapshot(query: Query) -> Snapshot:
    """What the dumped instant holds: its schema revision, audit head and file references."""
    revision = await query("SELECT version_num FROM alembic_version")
    head = await query("SELECT seq, hash FROM audit_head WHERE id = 1")
    refs: list[Reference] = []
    for table, name, digest in (
        ("rulings", "storage_name", "sha256"),
        ("transcripts", "storage_name", "sha256"),
        ("service_receipts", "voucher_storage_name", "voucher_sha256"),
    ):
        for row in await query(f"SELECT {name}, {digest} FROM {table}"):
            refs.append(Reference("rulings", row[0], row[1]))
    for row in await query("SELECT DISTINCT storage_name, sha256 FROM materials"):
        # A sealed file's bytes are ciphertext; the record hashes the upload as it was.
        sealed = str(row[0]).endswith(SEALED_MATERIAL)
        refs.append(Reference("materials", row[0], None if sealed else row[1]))
    segments = await query(
        "SELECT s.storage_name, s.sha256, s.state, r.node FROM recording_segments s "
        "JOIN recording_runs r ON r.id = s.run_id"
    )
    nodes: set[str] = set()
    for name, digest, state, node in segments:
        live = state == "recording"
        if live:
            nodes.add(node or "")
        sealed = state in SEALED_SEGMENTS
        refs.append(Reference("recordings", name, digest if sealed else None, live, sealed))
    return Snapshot(
        revision=str(revision[0][0]) if revision else None,
        audit_seq=int(head[0][0]) if head else 0,
        audit_hash=str(head[0][1]) if head else "",
        references=refs,
        live_nodes=sorted(nodes),
    )


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError(
            "SIFA_DATABASE_URL 未指定 SQLite 文件。 / SIFA_DATABASE_URL names no file."
        )
    return Path(database)


async def dump_sqlite(url: str, target: Path) -> Snapshot:
    """The online backup API copies one consistent state while the server keeps writing (WAL
    readers never block writers); the copy is then a single file, not a WAL pair."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"数据库文件不存在：{source_path} / No database file at {source_path}")
    target.parent.mkdir(parents=True, exist_ok=True)

    def copy() -> None:
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one instant
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
            source.close()

    await asyncio.to_thread(copy)
    connection = sqlite3.connect(target)
    try:

        async def query(sql: str) -> Rows:
            return connection.execute(sql).fetchall()

        return await read_snapshot(query)
    finally:
        connection.close()


def libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump, pg_restore and psql; the password goes in the
    environment, never on a command line where `ps` shows it."""
    parsed = make_url(url)
    args = [f"--dbname={parsed.database}"]
    if parsed.host:
        args.append(f"--host={parsed.host}")
    if parsed.port:
        args.append(f"--port={parsed.port}")
    if parsed.username:
        args.append(f"--username={parsed.username}")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_tool(args: Iterable[str], env: dict[str, str], what: str) -> None:
    """Run a PostgreSQL client tool; its own message is kept when it fails."""
    argv = list(args)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        raise BackupError(f"找不到 {argv[0]}。 / {argv[0]} is not installed.") from None
    _out, err = await process.communicate()
    if process.returncode != 0:
        detail = err.decode(errors="replace").strip()[-2000:]
        if "No space left on device" in detail:
            raise OSError(28, detail)  # the caller's disk-full handling applies
        raise BackupError(f"{what} 失败 / failed ({argv[0]}): {detail}")


async def dump_postgres(url: str, target: Path) -> Snapshot:
    """pg_dump reads a snapshot exported from a transaction kept open meanwhile, and the file
    references are read in that same transaction: the same instant for both."""
    import asyncpg  # type: ignore[import-untyped]

    target.parent.mkdir(parents=True, exist_ok=True)
    args, env = libpq(url)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await connection.fetchval("SELECT pg_export_snapshot()")
            await run_tool(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={target}",
                    *args,
                ],
                env,
                "数据库转储 database dump",
            )

            async def query(sql: str) -> Rows:
                return [tuple(r) for r in await connection.fetch(sql)]

            return await read_snapshot(query)
    finally:
        await connection.close()
