"""`sifa restore SRC`: check everything first, then put it all in place, or nothing.

Order: the manifest and every hash; the keys (passphrase) or the installation's own data key;
that the installation is empty (unless forced). Only then is anything written: the folders
and the database are staged beside their targets, the folders swapped in by rename, and the
database put in place last (one rename for SQLite, one transaction for PostgreSQL); if that
fails the folders are swapped back. The schema is then brought to the newest revision and the
restore recorded in the audit chain. Stop every `sifa serve` of the installation first.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.backup import load
from app.backup.dump import sqlite_path
from app.backup.errors import BackupError
from app.backup.files import Swap, copy_hashed, has_files
from app.backup.keys import data_key_id, data_key_id_in, open_keys, unpack_keys
from app.backup.manifest import Manifest, check, read_manifest
from app.backup.take import FILES, folders
from app.config import Settings
from app.files import file_sha256
from app.services import audit
from app.store.db import Database, is_sqlite
from app.store.migrate import upgrade


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    files: int
    keys: bool


def _refuse_dialect(settings: Settings, manifest: Manifest) -> None:
    ours = "sqlite" if is_sqlite(settings.database_url) else "postgresql"
    if ours != manifest.dialect:
        raise BackupError(
            f"备份的数据库是 {manifest.dialect}，而 SIFA_DATABASE_URL 指向 {ours}。"
            f" / The backup holds a {manifest.dialect} database; SIFA_DATABASE_URL is {ours}."
        )


def _keys(
    settings: Settings, manifest: Manifest, src: Path, passphrase: str | None
) -> bytes | None:
    """The certs folder's tar from the backup, or None after checking the installation's own
    certs folder holds the data key the backup was encrypted with."""
    if manifest.keys is None:
        if data_key_id(settings.certs_dir) != manifest.data_key_id:
            raise BackupError(
                f"此备份不含密钥，需要原安装的密钥目录，而 {settings.certs_dir} 中的数据密钥"
                "与备份不符（或不存在）；请放回原来的密钥目录，或使用带 --with-keys 的备份。"
                f" / This backup carries no keys and needs the original certs folder, but the"
                f" data key in {settings.certs_dir} is not the backup's (or is missing): put the"
                " original certs folder back, or use a backup taken with --with-keys."
            )
        return None
    if passphrase is None:
        raise BackupError(
            "此备份含加密的密钥，需要口令（SIFA_BACKUP_PASSPHRASE）。"
            " / This backup holds encrypted keys: give the passphrase (SIFA_BACKUP_PASSPHRASE)."
        )
    tar = open_keys((src / manifest.keys).read_bytes(), passphrase)
    if data_key_id_in(tar) != manifest.data_key_id:
        raise BackupError(
            "备份中的密钥与其数据不符。 / The keys in the backup are not the ones its data "
            "was encrypted with."
        )
    return tar


async def _refuse_if_in_use(settings: Settings, manifest: Manifest, with_keys: bool) -> None:
    labels = {"rulings": "文书目录 rulings", "materials": "材料目录 materials"}
    used = [
        labels.get(name, f"录像目录 {name}")
        for name, folder in folders(settings).items()
        if has_files(folder)
    ]
    if await load.database_in_use(settings.database_url, manifest.dialect):
        used.insert(0, "数据库 database")
    if with_keys and data_key_id(settings.certs_dir) not in (None, manifest.data_key_id):
        used.append("密钥目录 certs (其他密钥 other keys)")
    if used:
        raise BackupError(
            f"目标安装不是空的（{', '.join(used)}），未作任何更改；确需覆盖请加 --force。"
            f" / The installation is not empty ({', '.join(used)}); nothing was changed. "
            "Add --force to replace it."
        )


def _stage_folder(src: Path, manifest: Manifest, kind: str, target: Path, tag: str) -> Path:
    """The backup's files for one folder, copied beside the target and hashed again."""
    staged = target.parent / f".{target.name}.restore-{tag}"
    staged.mkdir(parents=True)
    prefix = f"{FILES}/{kind}/"
    for entry in manifest.entries:
        if not entry.path.startswith(prefix):
            continue
        copied = copy_hashed(src / entry.path, staged / entry.path[len(prefix) :], mode=0o444)
        if copied.sha256 != entry.sha256:
            raise BackupError(f"复制时文件变化 / changed while copying: {entry.path}")
    return staged


async def restore_backup(
    settings: Settings,
    src: Path,
    *,
    passphrase: str | None,
    force: bool,
    now: dt.datetime,
) -> Restored:
    manifest = read_manifest(src)
    check(src, manifest)
    _refuse_dialect(settings, manifest)
    tar = _keys(settings, manifest, src, passphrase)
    if not force:
        await _refuse_if_in_use(settings, manifest, tar is not None)
    tag = secrets.token_hex(4)
    swap = Swap()
    staged: list[tuple[Path, Path]] = []
    scratch = Path(tempfile.mkdtemp(prefix="sifa-restore-"))
    try:
        targets = dict(folders(settings))
        for kind, target in targets.items():
            staged.append((_stage_folder(src, manifest, kind, target, tag), target))
        if tar is not None:
            keys_dir = settings.certs_dir.parent / f".{settings.certs_dir.name}.restore-{tag}"
            unpack_keys(tar, keys_dir)
            staged.append((keys_dir, settings.certs_dir))
        dump = src / manifest.database
        if manifest.dialect == "sqlite":
            database = load.stage_sqlite(dump, settings.database_url)
        else:
            database = await load.stage_postgres(dump, scratch)
        for folder, target in staged:
            swap.put(folder, target, target.parent / f".{target.name}.old-{tag}")
        staged.clear()
        try:
            if manifest.dialect == "sqlite":
                load.put_sqlite(database, settings.database_url)
            else:
                await load.put_postgres(database, settings.database_url)
        except BaseException:
            swap.undo()
            raise
        swap.commit()
    finally:
        for folder, _target in staged:
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
        if manifest.dialect == "sqlite":
            sqlite_path(settings.database_url).with_name(
                f".{sqlite_path(settings.database_url).name}.restore"
            ).unlink(missing_ok=True)
    await _settle(settings, manifest, src, now)
    files = sum(1 for e in manifest.entries if e.path.startswith(f"{FILES}/"))
    return Restored(manifest, files, tar is not None)


async def _settle(settings: Settings, manifest: Manifest, src: Path, now: dt.datetime) -> None:
    """Newest schema, and the restore on the record: what was restored, from which head."""
    db = Database(settings.database_url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            await audit.append(
                session,
                actor="system",
                action="system.restored",
                case_id=None,
                details={
                    "backup": src.name,
                    "backup_created_at": manifest.created_at,
                    "manifest_sha256": file_sha256(src / "manifest.json"),
                    "audit_seq": manifest.audit_seq,
                    "audit_hash": manifest.audit_hash,
                },
                now=now,
            )
    finally:
        await db.close()
