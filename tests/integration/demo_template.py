"""A migrated SQLite database with the demo data, built once per test process and copied.

Loading the demo hashes some twenty passwords with Argon2id (64 MiB, 3 passes): about three
seconds of CPU, paid by nearly every test. The first preparation for a given set of keys and
court day runs for real (migrations, then demo.load); later ones copy its database file and the
key files it created. The copy is the same bytes the real run wrote, so every test still runs
on a real, migrated database holding what `sifa demo` loads; `sifa init` and `sifa demo`
themselves are run for real in tests/integration/test_cli_commands.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from app.domain.clock import court_date

# A template serves clocks from the moment it was made to this much later, on the same court
# day: a test whose clock stands earlier than the template was made gets its own real run.
_FRESH_FOR = dt.timedelta(hours=6)


@dataclass(frozen=True)
class _Template:
    database: Path
    made_at: dt.datetime
    created_keys: dict[str, bytes]  # files prepare added to certs/, by name


_templates: dict[tuple[str, dt.date], _Template] = {}
_folder: Path | None = None


def _fingerprint(certs: Path) -> str:
    digest = hashlib.sha256()
    for name, content in sorted(_files(certs).items()):
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def _files(certs: Path) -> dict[str, bytes]:
    if not certs.exists():
        return {}
    return {p.name: p.read_bytes() for p in certs.iterdir() if p.is_file()}


def sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def _copy(source: Path, target: Path) -> None:
    temporary = target.with_name(target.name + ".part")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


async def prepared(
    database: Path, certs: Path, now: dt.datetime, real: Callable[[], Awaitable[None]]
) -> None:
    """The demo database at `database`, copied from this process's template when one fits,
    else made by `real()` and kept as the template."""
    key = (_fingerprint(certs), court_date(now))
    template = _templates.get(key)
    fits = template is not None and template.made_at <= now <= template.made_at + _FRESH_FOR
    if template is not None and fits and not database.exists():  # noqa: ASYNC240 (test setup)
        _restore(template, database, certs)
        return
    before = _files(certs)
    fresh = not database.exists()  # noqa: ASYNC240 (test setup)
    await real()
    if fresh:
        _keep(key, database, certs, before, now)


def _restore(template: _Template, database: Path, certs: Path) -> None:
    certs.mkdir(parents=True, exist_ok=True)
    for name, content in template.created_keys.items():
        (certs / name).write_bytes(content)
        (certs / name).chmod(0o600)
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy(template.database, database)


def _keep(
    key: tuple[str, dt.date],
    database: Path,
    certs: Path,
    before: dict[str, bytes],
    now: dt.datetime,
) -> None:
    """Keep a database `real()` made from nothing, once closed (no write-ahead log left)."""
    global _folder
    if not database.exists() or database.with_name(database.name + "-wal").exists():
        return
    _folder = _folder or Path(tempfile.mkdtemp(prefix="sifa-test-demo-db-"))
    kept = _folder / f"{len(_templates)}-{key[1]}.db"
    _copy(database, kept)
    added = {name: b for name, b in _files(certs).items() if before.get(name) != b}
    _templates[key] = _Template(kept, now, added)
