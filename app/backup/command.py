"""The `sifa backup` and `sifa restore` subcommands (wired into app/cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import os
import sys
from pathlib import Path

from app.backup.errors import BackupError
from app.backup.keys import PASSPHRASE_ENV, check_passphrase
from app.backup.restore import restore_backup
from app.backup.take import require_keys_folder, take_backup
from app.config import Settings

# Exit codes: 0 done; 1 refused or failed (nothing changed); 3 backup complete, with warnings
# about the installation it copied (a file its database names is missing or altered).
WARNINGS = 3


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="write a consistent backup of the database and files into a new folder under DEST "
        "(safe while serving); keys only with --with-keys",
    )
    backup.add_argument("dest", type=Path)
    backup.add_argument(
        "--with-keys",
        action="store_true",
        help=f"include SIFA_CERTS_DIR, encrypted with a passphrase (${PASSPHRASE_ENV} or prompt)",
    )
    restore = sub.add_parser(
        "restore",
        help="check a backup's manifest and restore it into an empty installation "
        "(stop the server first)",
    )
    restore.add_argument("src", type=Path, help="the backup's folder (sifa-backup-…)")
    restore.add_argument("--force", action="store_true", help="replace a non-empty installation")


def _passphrase(*, confirm: bool) -> str | None:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("备份密钥口令 / Backup passphrase: ")
    if confirm and getpass.getpass("再输入一次 / Repeat: ") != first:
        raise BackupError("两次输入的口令不一致。 / The passphrases do not match.")
    return first


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    passphrase = None
    if args.with_keys:
        require_keys_folder(settings)
        passphrase = _passphrase(confirm=True)
        if passphrase is None:
            raise BackupError(
                f"--with-keys 需要口令：设置 {PASSPHRASE_ENV} 或在终端输入。"
                f" / --with-keys needs a passphrase: set {PASSPHRASE_ENV} or type it."
            )
        check_passphrase(passphrase)
    taken = asyncio.run(
        take_backup(settings, args.dest, passphrase=passphrase, now=dt.datetime.now(dt.UTC))
    )
    m = taken.manifest
    print(f"备份完成 / backup complete: {taken.path}")
    print(
        f"  {len(m.entries)} files, {taken.bytes / 1e6:.1f} MB; schema {m.schema_revision}; "
        f"audit head #{m.audit_seq} {m.audit_hash[:16]}…"
    )
    if m.keys is None:
        print(
            "  不含密钥：恢复时需要原安装的密钥目录 SIFA_CERTS_DIR。"
            " / Keys not included: a restore needs this installation's SIFA_CERTS_DIR."
        )
    else:
        print("  含密钥（口令加密） / keys included, encrypted with the passphrase")
    if m.live_recording_nodes:
        print(
            "  含正在录制的录像，恢复后以相同 SIFA_NODE_NAME 启动即封存"
            f" / live recordings copied so far; sealed by a server named {m.live_recording_nodes}"
        )
    for warning in taken.warnings:
        print(f"  警告 warning: {warning}", file=sys.stderr)
    return WARNINGS if taken.warnings else 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    manifest_keys = (args.src / "keys.enc").exists()
    passphrase = _passphrase(confirm=False) if manifest_keys else None
    done = asyncio.run(
        restore_backup(
            settings,
            args.src,
            passphrase=passphrase,
            force=args.force,
            now=dt.datetime.now(dt.UTC),
        )
    )
    m = done.manifest
    print(f"恢复完成 / restore complete: {args.src.name} ({m.created_at})")
    print(
        f"  {done.files} files; database {m.dialect} at the newest schema; audit head of the "
        f"backup #{m.audit_seq}; keys {'restored' if done.keys else 'kept (this certs folder)'}"
    )
    print("  下一步 next: sifa audit verify")
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return _backup(settings, args) if args.command == "backup" else _restore(settings, args)
    except BackupError as error:
        print(f"错误 error: {error.message}", file=sys.stderr)
        return error.exit_code
