"""An exclusive lock on a file, for the steps several processes sharing one folder must take
one at a time: issuing a development certificate (court_keys.py, committee_keys.py)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    # flock belongs to the open file description: two threads opening the file separately
    # exclude each other as two processes do. The kernel drops it if the holder dies.
    with lock_file.open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
