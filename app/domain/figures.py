"""Caseload figures for the clerk's desk: per ISO week and per hall, with SVG bar charts. Pure.

Counting rules:
- received: applications submitted in the week (by the court date of `submitted_at`);
- confirmed / rejected / withdrawn: decisions taken in the week (by `decided_at`);
- resolved rate: of the applications received in the week, the share decided so far;
- session time: from admission to the last receipt, for sessions that were served;
  time per step: only steps that ended.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

DECISIONS = ("confirm", "reject", "withdraw")
STEPS = ("identity", "inquiry", "review", "service")


@dataclass(frozen=True)
class CaseFact:
    """What the figures need to know about one case (court dates, not instants)."""

    hall: str
    received: dt.date | None
    decided: dt.date | None = None
    decision: str | None = None
    session_seconds: int | None = None
    step_seconds: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.decision is not None and self.decision not in DECISIONS:
            raise ValueError(f"unknown decision {self.decision!r}")
        if (self.decision is None) != (self.decided is None):
            raise ValueError("a decision needs its date, and a date its decision")


@dataclass(frozen=True)
class Counts:
    received: int = 0
    confirmed: int = 0
    rejected: int = 0
    withdrawn: int = 0
    resolved_of_received: int = 0

    @property
    def resolved(self) -> int:
        return self.confirmed + self.rejected + self.withdrawn

    @property
    def resolved_rate(self) -> float | None:
        if self.received == 0:
            return None
        return self.resolved_of_received / self.received


@dataclass(frozen=True)
class WeekRow:
    week: str  # ISO week, "2026-W48"
    counts: Counts


@dataclass(frozen=True)
class HallRow:
    hall: str
    counts: Counts
    sessions: int
    median_session_seconds: float | None
    p95_session_seconds: float | None
    median_step_seconds: Mapping[str, float | None]


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def week_dates(week: str, lang: str) -> str:
    """An ISO week ("2026-W49") as the dates a clerk reads: "11月30日–12月6日", "30 Nov – 6 Dec";
    with the years when it spans two ("2026年12月28日–2027年1月3日")."""
    year, number = week.split("-W")
    monday = dt.date.fromisocalendar(int(year), int(number), 1)
    sunday = monday + dt.timedelta(days=6)
    both = monday.year != sunday.year
    if lang == "en":

        def en(day: dt.date) -> str:
            return f"{day.day} {_MONTHS_EN[day.month - 1]}" + (f" {day.year}" if both else "")

        return f"{en(monday)} – {en(sunday)}"

    def zh(day: dt.date) -> str:
        return (f"{day.year}年" if both else "") + f"{day.month}月{day.day}日"

    return f"{zh(monday)}–{zh(sunday)}"


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


_FIELD = {"confirm": "confirmed", "reject": "rejected", "withdraw": "withdrawn"}


def _count(received: Iterable[CaseFact], decided: Iterable[CaseFact]) -> Counts:
    got = list(received)
    tally = {"confirmed": 0, "rejected": 0, "withdrawn": 0}
    for fact in decided:
        assert fact.decision is not None
        tally[_FIELD[fact.decision]] += 1
    return Counts(
        received=len(got),
        resolved_of_received=sum(1 for f in got if f.decision is not None),
        **tally,
    )


def weekly(facts: Iterable[CaseFact]) -> list[WeekRow]:
    """One row per ISO week that saw an application or a decision, oldest first."""
    items = list(facts)
    weeks = {iso_week(f.received) for f in items if f.received} | {
        iso_week(f.decided) for f in items if f.decided
    }
    return [
        WeekRow(
            week,
            _count(
                (f for f in items if f.received and iso_week(f.received) == week),
                (f for f in items if f.decided and iso_week(f.decided) == week),
            ),
        )
        for week in sorted(weeks)
    ]


def by_hall(facts: Iterable[CaseFact]) -> list[HallRow]:
    items = list(facts)
    rows = []
    for hall in sorted({f.hall for f in items}):
        mine = [f for f in items if f.hall == hall]
        times = [float(f.session_seconds) for f in mine if f.session_seconds is not None]
        steps = {
            step: median([float(f.step_seconds[step]) for f in mine if step in f.step_seconds])
            for step in STEPS
        }
        rows.append(
            HallRow(
                hall,
                _count((f for f in mine if f.received), (f for f in mine if f.decided)),
                len(times),
                median(times),
                percentile(times, 95),
                steps,
            )
        )
    return rows


def minutes(seconds: float | None) -> str:
    """12:05 for 725 s; an en dash when there is nothing to show."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str = ""  # the value as shown; defaults to the number


def bar_chart_svg(
    bars: Sequence[Bar],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 28,
    label_width: int = 140,
    colour: str = "#9b1c1c",
) -> str:
    """A horizontal bar chart as inline SVG: presentation attributes only (no style attribute,
    so the page's Content-Security-Policy holds), labels escaped, readable without colour."""
    gap = 8
    top = 8
    height = top + len(bars) * (bar_height + gap) + 4
    room = width - label_width - 70
    peak = max((b.value for b in bars), default=0.0)
    scale = room / peak if peak > 0 else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {max(height, 30)}" width="{width}" height="{max(height, 30)}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not bars:
        parts.append('<text x="0" y="20" font-size="14" fill="#555">–</text>')
    for i, bar in enumerate(bars):
        if bar.value < 0 or not math.isfinite(bar.value):
            raise ValueError(f"a bar's value must be finite and not negative: {bar.value!r}")
        y = top + i * (bar_height + gap)
        length = round(bar.value * scale, 1)
        mid = y + bar_height / 2 + 5
        shown = bar.text or (f"{bar.value:g}")
        parts.append(
            f'<text x="{label_width - 8}" y="{mid}" font-size="15" text-anchor="end" '
            f'fill="#111">{escape(bar.label)}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="{escape(colour)}"><title>{escape(bar.label)}: {escape(shown)}</title></rect>'
        )
        parts.append(
            f'<text x="{label_width + length + 6}" y="{mid}" font-size="15" '
            f'fill="#111">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
