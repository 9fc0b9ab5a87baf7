"""Copying stored files into a backup and back, hashing the bytes on the way."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Copied:
    sha256: str
    size: int


def copy_hashed(source: Path, target: Path, *, mode: int = 0o600) -> Copied:
    """Copy to target (fsynced) and hash what was read. A file still growing (a recording
    being written) is copied as far as it reached when reading ended."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    os.chmod(target, mode)
    return Copied(digest.hexdigest(), size)


def is_temporary(name: str) -> bool:
    """A write in progress (app/files.py write_atomically) or a lock: never backed up."""
    return (name.startswith(".") and name.endswith(".tmp")) or name.endswith(".lock")


def stored_files(folder: Path) -> Iterator[str]:
    """Files under folder as storage names (relative, "/"), temporary ones left out."""
    if not folder.is_dir():
        return
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if not is_temporary(name):
                yield (Path(root) / name).relative_to(folder).as_posix()


def has_files(folder: Path) -> bool:
    """True when folder holds any file but a README (the repository's placeholders)."""
    return any(not Path(name).name.startswith("README") for name in stored_files(folder))


def fsync_tree(folder: Path) -> None:
    """Make the folders' entries durable before the backup is named complete."""
    for root, dirs, _names in os.walk(folder, topdown=False):
        for name in [*dirs, "."]:
            fd = os.open(Path(root) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


class Swap:
    """Folders put in place of others by rename, undone in reverse if a later step fails."""

    def __init__(self) -> None:
        self.done: list[tuple[Path, Path | None]] = []

    def put(self, staged: Path, target: Path, aside: Path) -> None:
        """staged becomes target; an existing target is kept at aside until commit."""
        target.parent.mkdir(parents=True, exist_ok=True)
        moved: Path | None = None
        if target.exists():
            target.rename(aside)
            moved = aside
        staged.rename(target)
        self.done.append((target, moved))

    def undo(self) -> None:
        for target, moved in reversed(self.done):
            shutil.rmtree(target, ignore_errors=True)
            if moved is not None:
                moved.rename(target)
        self.done.clear()

    def commit(self) -> None:
        for _target, moved in self.done:
            if moved is not None:
                shutil.rmtree(moved, ignore_errors=True)
        self.done.clear()
