"""Court time. Pure: callers pass `now`; this only converts."""

from __future__ import annotations

import datetime as dt

# Mainland China keeps one zone and no daylight saving.
COURT_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def court_date(now: dt.datetime) -> dt.date:
    return now.astimezone(COURT_TZ).date()


def court_time(now: dt.datetime) -> dt.datetime:
    return now.astimezone(COURT_TZ)
