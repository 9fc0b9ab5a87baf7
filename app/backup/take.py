"""`sifa backup DEST`: a consistent copy of a serving installation.

Order is what makes it consistent. The storage folders are listed first, then the database is
dumped at one instant, then files are copied: every file that instant names (issued documents
and sealed materials never change once written, so copying them later copies what was named),
and the files that were there before the dump began. A file written after the listing whose
record committed after the dump is neither named nor listed: it belongs to the next backup,
and this one holds no file its database does not know. A recording still being written is
copied as far as it had reached (fragmented MP4: every finished fragment plays), marked live.

Everything is written under a hidden ".partial" name in DEST and renamed when the manifest is
complete, so a half backup never looks like one; any failure removes it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from app.backup.dump import POSTGRES_DUMP, SQLITE_DUMP, Snapshot, dump_postgres, dump_sqlite
from app.backup.errors import BackupError, DestinationFull
from app.backup.files import copy_hashed, fsync_tree, stored_files
from app.backup.keys import KEYS_FILE, data_key_id, seal_keys
from app.backup.manifest import Entry, Manifest, write_manifest
from app.config import Settings
from app.files import file_sha256, is_no_space
from app.store.db import is_sqlite

FILES = "files"


def sifa_version() -> str:
    try:
        return metadata.version("sifa")
    except metadata.PackageNotFoundError:
        return "unknown"


def folders(settings: Settings) -> dict[str, Path]:
    """The storage folders by the name they have inside a backup."""
    return {
        "rulings": settings.rulings_dir,
        "materials": settings.materials_dir,
        "recordings": settings.recordings_dir,
    }


@dataclass
class Taken:
    path: Path
    manifest: Manifest
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)


async def take_backup(
    settings: Settings, dest: Path, *, passphrase: str | None, now: dt.datetime
) -> Taken:
    """Write the backup into a new folder under dest; passphrase: include the keys.

    Async only for the PostgreSQL driver: this runs alone in the `sifa backup` process, so
    its file work blocks nothing else."""
    dest.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    name = f"sifa-backup-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    final = dest / name
    suffix = 1
    while final.exists():
        suffix += 1
        final = dest / f"{name}-{suffix}"
    work = dest / f".{final.name}.partial"
    try:
        # The database holds names, addresses and phone numbers in the clear: owner only.
        work.mkdir(mode=0o700)
        manifest = await _fill(settings, work, passphrase, now)
        write_manifest(work, manifest)
        fsync_tree(work)
        work.rename(final)
    except BaseException as error:
        shutil.rmtree(work, ignore_errors=True)
        if _no_space(error):
            raise DestinationFull(str(dest)) from error
        raise
    total = sum(e.size for e in manifest.entries)
    return Taken(final, manifest, total, manifest.warnings)


def _no_space(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if is_no_space(seen) or (
            isinstance(seen, sqlite3.OperationalError) and "full" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _fill(
    settings: Settings, work: Path, passphrase: str | None, now: dt.datetime
) -> Manifest:
    storage = folders(settings)
    before = {kind: set(stored_files(folder)) for kind, folder in storage.items()}
    entries: list[Entry] = []
    warnings: list[str] = []
    if is_sqlite(settings.database_url):
        dialect, dump_name = "sqlite", SQLITE_DUMP
        snapshot = await dump_sqlite(settings.database_url, work / dump_name)
    else:
        dialect, dump_name = "postgresql", POSTGRES_DUMP
        snapshot = await dump_postgres(settings.database_url, work / dump_name)
    dump = work / dump_name
    os.chmod(dump, 0o600)
    entries.append(Entry(dump_name, file_sha256(dump), dump.stat().st_size))
    entries += _copy_files(storage, before, snapshot, work, warnings)
    keys = None
    if passphrase is not None:
        sealed = seal_keys(settings.certs_dir, passphrase)
        (work / KEYS_FILE).write_bytes(sealed)
        os.chmod(work / KEYS_FILE, 0o600)
        keys = KEYS_FILE
        entries.append(Entry(KEYS_FILE, file_sha256(work / KEYS_FILE), len(sealed)))
    return Manifest(
        sifa_version=sifa_version(),
        schema_revision=snapshot.revision,
        created_at=now.astimezone(dt.UTC).isoformat(),
        dialect=dialect,
        database=dump_name,
        audit_seq=snapshot.audit_seq,
        audit_hash=snapshot.audit_hash,
        data_key_id=data_key_id(settings.certs_dir),
        keys=keys,
        entries=entries,
        warnings=warnings,
        live_recording_nodes=snapshot.live_nodes,
    )


def _copy_files(
    storage: dict[str, Path],
    before: dict[str, set[str]],
    snapshot: Snapshot,
    work: Path,
    warnings: list[str],
) -> list[Entry]:
    entries: list[Entry] = []
    named: set[tuple[str, str]] = set()
    for ref in snapshot.references:
        if (ref.folder, ref.name) in named:
            continue
        named.add((ref.folder, ref.name))
        source = storage[ref.folder] / ref.name
        path = f"{FILES}/{ref.folder}/{ref.name}"
        if not source.is_file():
            if ref.required:
                warnings.append(f"缺失 missing on the server: {ref.folder}/{ref.name}")
            continue
        copied = copy_hashed(source, work / path)
        if ref.sha256 is not None and copied.sha256 != ref.sha256:
            warnings.append(f"与记录的哈希不符 does not match its record: {ref.folder}/{ref.name}")
        entries.append(Entry(path, copied.sha256, copied.size, referenced=True, live=ref.live))
    for kind, names in before.items():
        for name in sorted(names):
            if (kind, name) in named or not (storage[kind] / name).is_file():
                continue
            path = f"{FILES}/{kind}/{name}"
            copied = copy_hashed(storage[kind] / name, work / path)
            entries.append(Entry(path, copied.sha256, copied.size, referenced=False))
    return entries


def require_keys_folder(settings: Settings) -> None:
    if not (settings.certs_dir / "data.key").is_file():
        raise BackupError(
            f"{settings.certs_dir} 中没有数据密钥（data.key）。"
            f" / No data key (data.key) in {settings.certs_dir}."
        )
