"""Slowing down password guessing. Pure: the caller stores the counters and passes the time."""

from __future__ import annotations

import datetime as dt

FREE_FAILURES = 3  # typing mistakes happen; the fourth failure in a row starts the delays
MAX_LOCK = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=1)


def lock_after_failure(failures: int, now: dt.datetime) -> dt.datetime | None:
    """How long to refuse further tries after the n-th consecutive failure: 2, 4, 8 … s."""
    if failures <= FREE_FAILURES:
        return None
    seconds = min(2 ** (failures - FREE_FAILURES), MAX_LOCK.total_seconds())
    return now + dt.timedelta(seconds=seconds)


def still_counts(last_failure: dt.datetime, now: dt.datetime) -> bool:
    return now - last_failure < FORGET_AFTER
