"""Mediation figures for the court's desk: per ISO week and per committee. Pure.

Counting rules (court dates):
- received: mediations filed in the week;
- agreed / not settled: mediations that ended in the week, agreed, or failed, withdrawn or
  refused (art 17, 23, 26);
- confirmed after mediation: applications made from a mediation's sealed agreement that the
  court confirmed in the week;
- settled rate: of the mediations received in the week, the share that ended agreed so far.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.domain.figures import iso_week
from app.domain.mediation import MediationState

NOT_SETTLED = frozenset({MediationState.FAILED, MediationState.WITHDRAWN, MediationState.REFUSED})


@dataclass(frozen=True)
class MediationFact:
    committee: str
    filed: dt.date
    ended: dt.date | None = None
    outcome: MediationState | None = None  # an ended state, with `ended`
    confirmed: dt.date | None = None  # the court confirmed the agreement then

    def __post_init__(self) -> None:
        if (self.ended is None) != (self.outcome is None):
            raise ValueError("an ended mediation needs its date and its outcome")
        ended = NOT_SETTLED | {MediationState.AGREED}
        if self.outcome is not None and self.outcome not in ended:
            raise ValueError(f"{self.outcome} is not an ended state")


@dataclass(frozen=True)
class MediationCounts:
    received: int = 0
    agreed: int = 0
    not_settled: int = 0
    confirmed: int = 0
    agreed_of_received: int = 0

    @property
    def settled_rate(self) -> float | None:
        return None if self.received == 0 else self.agreed_of_received / self.received


@dataclass(frozen=True)
class MediationRow:
    key: str  # an ISO week ("2026-W49") or a committee's name
    counts: MediationCounts


Within = Callable[[dt.date | None], bool]


def _counts(facts: list[MediationFact], within: Within) -> MediationCounts:
    received = [f for f in facts if within(f.filed)]
    ended = [f for f in facts if within(f.ended)]
    return MediationCounts(
        received=len(received),
        agreed=sum(1 for f in ended if f.outcome is MediationState.AGREED),
        not_settled=sum(1 for f in ended if f.outcome in NOT_SETTLED),
        confirmed=sum(1 for f in facts if within(f.confirmed)),
        agreed_of_received=sum(1 for f in received if f.outcome is MediationState.AGREED),
    )


def mediation_weeks(facts: Iterable[MediationFact]) -> list[MediationRow]:
    """One row per ISO week that saw a filing, an end or a confirmation, oldest first."""
    items = list(facts)
    days = [d for f in items for d in (f.filed, f.ended, f.confirmed) if d is not None]
    return [
        MediationRow(week, _counts(items, _in_week(week)))
        for week in sorted({iso_week(d) for d in days})
    ]


def _in_week(week: str) -> Within:
    return lambda day: day is not None and iso_week(day) == week


def _ever(day: dt.date | None) -> bool:
    return day is not None


def mediation_committees(facts: Iterable[MediationFact]) -> list[MediationRow]:
    """One row per committee, all time."""
    items = list(facts)
    return [
        MediationRow(
            name, _counts([f for f in items if f.committee == name], lambda d: d is not None)
        )
        for name in sorted({f.committee for f in items})
    ]
