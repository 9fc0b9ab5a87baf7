"""The backup's manifest: every file in it with its SHA-256 and size, what the database dump
is, and what the installation was when it was taken. A restore trusts nothing the manifest
does not vouch for."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.backup.errors import BackupDamaged, BackupError
from app.files import file_sha256, write_atomically

FORMAT = "sifa-backup/1"
MANIFEST = "manifest.json"

# Labels of the damage a restore reports, Chinese first.
CHANGED = "已改动 changed"
MISSING = "缺失 missing"
EXTRA = "多余 extra"
DUMP = "数据库转储 database dump"


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the backup's folder, with "/"
    sha256: str
    size: int
    # The database points at it (or it is the dump or the keys); False: a file that was in a
    # storage folder before the dump began but that no record names.
    referenced: bool = True
    # A recording segment still being written when copied: what was on disk then.
    live: bool = False


@dataclass(frozen=True)
class Manifest:
    sifa_version: str
    schema_revision: str | None
    created_at: str
    dialect: str  # sqlite or postgresql
    database: str  # the dump's path among the entries
    audit_seq: int
    audit_hash: str
    # Fingerprint of the personal-data key the database and materials are encrypted with;
    # a restore without keys checks that the installation's certs folder holds this key.
    data_key_id: str | None
    keys: str | None  # the encrypted keys' path among the entries, or None: keys left out
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)
    # Servers whose recordings were still being written: after a restore, a server started
    # under the same SIFA_NODE_NAME seals them, as after a crash.
    live_recording_nodes: list[str] = field(default_factory=list)
    format: str = FORMAT

    def entry(self, path: str) -> Entry:
        return next(e for e in self.entries if e.path == path)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data: dict[str, Any] = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        data["entries"] = [Entry(**e) for e in data["entries"]]
        return cls(**data)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    write_atomically(folder / MANIFEST, manifest.to_json(), mode=0o600)


def read_manifest(folder: Path) -> Manifest:
    try:
        return Manifest.from_json((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BackupError(
            f"{folder} 不是完整的 Sifa 备份（没有 {MANIFEST}）。"
            f" / {folder} is not a complete Sifa backup (no {MANIFEST})."
        ) from None
    except (ValueError, TypeError, KeyError) as error:
        raise BackupDamaged([(MANIFEST, f"{CHANGED} ({error})")]) from None


def files_under(folder: Path) -> set[str]:
    """Every regular file below folder, as manifest paths."""
    found = set()
    for root, _dirs, names in os.walk(folder):
        for name in names:
            found.add((Path(root) / name).relative_to(folder).as_posix())
    return found


def check(folder: Path, manifest: Manifest) -> None:
    """Refuse (BackupDamaged) unless every listed file is there with its size and hash, and
    nothing else is: a changed, missing or extra file each names itself."""
    problems: list[tuple[str, str]] = []
    present = files_under(folder) - {MANIFEST}
    for entry in manifest.entries:
        label = f"{DUMP}, " if entry.path == manifest.database else ""
        path = folder / entry.path
        if entry.path not in present:
            problems.append((entry.path, label + MISSING))
        elif path.stat().st_size != entry.size or file_sha256(path) != entry.sha256:
            problems.append((entry.path, label + CHANGED))
    listed = {e.path for e in manifest.entries}
    problems += [(path, EXTRA) for path in sorted(present - listed)]
    if manifest.database not in listed:
        problems.append((manifest.database, f"{DUMP}, {MISSING}"))
    if problems:
        raise BackupDamaged(problems)
