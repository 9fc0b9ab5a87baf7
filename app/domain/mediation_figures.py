"""Mediation figures for the court's desk: per ISO week, per committee and per hall. Pure.

Counting rules (court dates):
- received: mediations filed in the week;
- agreed / not settled: mediations that ended in the week, agreed, or failed, withdrawn or
  refused (art 17, 23, 26);
- confirmed after mediation: applications made from a mediation's sealed agreement that the
  court confirmed in the week;
- settled rate: of the mediations received in the week, the share that ended agreed so far.

Which hall a mediation counts under (`held_in`; the service reads the facts):
- the hall of the room of the first kiosk that joined its video session (the room's audit
  trail: the first "room.join" by a kiosk under the mediation's room key): the parties sat
  there, whichever of the committee's halls it is;
- else, when no kiosk joined (the parties only on their own phones, or no session yet), its
  committee's hall if the committee has exactly one: there is nowhere else it could be held;
- else the row ONLINE, which comes last.
A kiosk is counted in the room it is bound to when the figures are read: moving a kiosk to
another room moves its past mediations with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from app.domain.figures import iso_week
from app.domain.mediation import MediationState

NOT_SETTLED = frozenset({MediationState.FAILED, MediationState.WITHDRAWN, MediationState.REFUSED})
# Hall names are unique and plain; this one, with its slash, is not a hall's.
ONLINE = "未在调解室进行（线上） / Not in a hall (online only)"


@dataclass(frozen=True)
class MediationFact:
    committee: str
    filed: dt.date
    ended: dt.date | None = None
    outcome: MediationState | None = None  # an ended state, with `ended`
    confirmed: dt.date | None = None  # the court confirmed the agreement then
    # Where it was held (`held_in`); keyword-only and required, so no caller can forget it.
    hall: str = field(kw_only=True)

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
    key: str  # an ISO week ("2026-W49"), a committee's name or a hall's (or ONLINE)
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


def _grouped(
    facts: Iterable[MediationFact], key: Callable[[MediationFact], str], last: str | None = None
) -> list[MediationRow]:
    """One all-time row per key, by name; the key `last`, if any fact has it, at the end."""
    items = list(facts)
    names = sorted({key(f) for f in items}, key=lambda name: (name == last, name))
    return [
        MediationRow(name, _counts([f for f in items if key(f) == name], _ever)) for name in names
    ]


def mediation_committees(facts: Iterable[MediationFact]) -> list[MediationRow]:
    """One row per committee, all time."""
    return _grouped(facts, lambda f: f.committee)


def mediation_halls(facts: Iterable[MediationFact]) -> list[MediationRow]:
    """One row per hall the mediations were held in, all time; ONLINE last."""
    return _grouped(facts, lambda f: f.hall, last=ONLINE)


def held_in(kiosk_hall: str | None, committee_halls: Collection[str]) -> str:
    """The hall a mediation counts under (the module's rule): `kiosk_hall`, that of the first
    kiosk that joined its video session, if one did; `committee_halls`, its committee's."""
    if kiosk_hall is not None:
        return kiosk_hall
    if len(committee_halls) == 1:
        return next(iter(committee_halls))
    return ONLINE
