"""Writing files so that a crash never leaves half a file under the final name, and reading
stored files back only when they still match the hash recorded for them."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.domain.errors import InsufficientStorage

log = logging.getLogger(__name__)

# A full disk and an exhausted quota look the same to the person waiting for a document.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_no_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in NO_SPACE


def write_atomically(
    path: Path, data: bytes, *, mode: int = 0o644, exclusive: bool = False
) -> None:
    """Write to a temporary name in the same folder, fsync, then rename into place.

    With `exclusive`, an existing file is never replaced (FileExistsError instead): issued
    documents must not be overwritten. A full disk raises InsufficientStorage with nothing
    left behind, neither under the final name nor the temporary one.
    """
    try:
        _write_atomically(path, data, mode=mode, exclusive=exclusive)
    except OSError as error:
        if is_no_space(error):
            # People get a bilingual refusal without paths; the administrator needs the folder.
            log.error("no space left writing %s under %s", path.name, path.parent)
            raise InsufficientStorage(str(path.parent)) from error
        raise


def _write_atomically(path: Path, data: bytes, *, mode: int, exclusive: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            # link() fails when the target exists, unlike rename(); that is the point.
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def issued_file(path: Path, data: bytes) -> Iterator[None]:
    """Write a document read-only and never over another; remove it if the block recording it
    fails, so no file exists that the database does not know about."""
    write_atomically(path, data, mode=0o444, exclusive=True)
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def read_verified(
    path: Path, sha256: str, opener: Callable[[bytes], bytes] | None = None
) -> bytes | None:
    """The file's bytes (passed through opener, e.g. a decryption) when they still hash to
    sha256; None when the file is missing, unreadable, does not open or was altered."""
    try:
        data = path.read_bytes()
        if opener is not None:
            data = opener(data)
    except (OSError, ValueError):
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def file_sha256(path: Path) -> str:
    """A file's SHA-256, read in pieces (recordings run to hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
