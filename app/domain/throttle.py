"""Slowing down password guessing. Pure: the caller stores the counters and passes the time."""

from __future__ import annotations

import datetime as dt

FREE_FAILURES = 3  # typing mistakes happen; the fourth failure in a row starts the delays
MAX_LOCK = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=1)


# A hall's kiosks and staff share one public address: a few typing mistakes there must not lock
# everyone out, so an address gets more free failures than a single account name.
FREE_FAILURES_PER_ADDRESS = 20


def lock_after_failure(
    failures: int, now: dt.datetime, *, free: int = FREE_FAILURES
) -> dt.datetime | None:
    """How long to refuse further tries after the n-th failure beyond the free ones: 2, 4, 8 … s."""
    if failures <= free:
        return None
    seconds = min(2 ** (failures - free), MAX_LOCK.total_seconds())
    return now + dt.timedelta(seconds=seconds)


def still_counts(last_failure: dt.datetime, now: dt.datetime) -> bool:
    return now - last_failure < FORGET_AFTER
