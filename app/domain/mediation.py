"""The mediation case (人民调解) before any confirmation: states, steps, who may take each, the
transition table and the time limit. Pure.

People's Mediation Law: a party applies, or the committee mediates on its own initiative, and a
party's clear refusal ends it (art 17); a party may ask to end it at any time (art 23); a failed
mediation is ended by the mediator, who tells the parties where else they may turn (art 26); an
agreement takes effect once signed and sealed (art 29). The SPC's platform closes a mediation
within 30 days as a rule: the limit the mediator sees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import DomainError, NotPermitted, TransitionRefused
from app.domain.roles import Role


class MediationState(StrEnum):
    FILED = "filed"  # the dispute is on file, waiting for the committee
    ACCEPTED = "accepted"  # the committee took it on and named the mediator
    SCHEDULED = "scheduled"  # a time is set for the session
    IN_MEDIATION = "in_mediation"  # the session is under way
    AGREED = "agreed"  # the parties reached an agreement
    FAILED = "failed"  # no agreement: ended by the mediator (art 26)
    WITHDRAWN = "withdrawn"  # a party asked to end it (art 23)
    REFUSED = "refused"  # a party clearly refused mediation (art 17)


class MediationStep(StrEnum):
    ACCEPT = "accept"  # the committee accepts and assigns a mediator
    SCHEDULE = "schedule"  # the mediator sets or moves the session's time
    START = "start"  # the mediator opens the session
    AGREE = "agree"  # the parties agreed
    FAIL = "fail"  # the mediator ends it without agreement
    WITHDRAW = "withdraw"  # a party asks to end it
    REFUSE = "refuse"  # a party refuses mediation


ENDED = frozenset(
    {
        MediationState.AGREED,
        MediationState.FAILED,
        MediationState.WITHDRAWN,
        MediationState.REFUSED,
    }
)
_OPEN = (
    MediationState.FILED,
    MediationState.ACCEPTED,
    MediationState.SCHEDULED,
    MediationState.IN_MEDIATION,
)


@dataclass(frozen=True)
class MediationTransition:
    source: MediationState
    step: MediationStep
    target: MediationState


def _t(source: MediationState, step: MediationStep, target: MediationState) -> MediationTransition:
    return MediationTransition(source, step, target)


S, St = MediationState, MediationStep
TRANSITIONS: tuple[MediationTransition, ...] = (
    _t(S.FILED, St.ACCEPT, S.ACCEPTED),
    _t(S.ACCEPTED, St.SCHEDULE, S.SCHEDULED),
    _t(S.SCHEDULED, St.SCHEDULE, S.SCHEDULED),
    _t(S.SCHEDULED, St.START, S.IN_MEDIATION),
    _t(S.IN_MEDIATION, St.AGREE, S.AGREED),
    _t(S.ACCEPTED, St.FAIL, S.FAILED),
    _t(S.SCHEDULED, St.FAIL, S.FAILED),
    _t(S.IN_MEDIATION, St.FAIL, S.FAILED),
    # A party may refuse, or ask to end, until the mediation has ended.
    *(_t(source, St.REFUSE, S.REFUSED) for source in _OPEN),
    *(_t(source, St.WITHDRAW, S.WITHDRAWN) for source in _OPEN),
)
del S, St

_TABLE = {(t.source, t.step): t for t in TRANSITIONS}
assert len(_TABLE) == len(TRANSITIONS), "two transitions share a state and step"

# Every step is the committee's: its mediators act, and record what a party said (a party's
# refusal or request to end is heard by the mediator, in person, by phone or in the session).
STEP_ROLES = frozenset({Role.MEDIATOR})

TIME_LIMIT = dt.timedelta(days=30)
DUE_SOON = dt.timedelta(days=5)

STATE_WORDS: dict[MediationState, tuple[str, str]] = {
    MediationState.FILED: ("待受理", "Filed"),
    MediationState.ACCEPTED: ("已受理", "Accepted"),
    MediationState.SCHEDULED: ("已安排调解", "Scheduled"),
    MediationState.IN_MEDIATION: ("调解中", "In mediation"),
    MediationState.AGREED: ("调解成功", "Agreed"),
    MediationState.FAILED: ("调解不成，已终止", "Failed"),
    MediationState.WITHDRAWN: ("当事人要求终止", "Withdrawn"),
    MediationState.REFUSED: ("当事人拒绝调解", "Refused"),
}

_STEP_DOING: dict[MediationStep, tuple[str, str]] = {
    MediationStep.ACCEPT: ("受理", "accept it"),
    MediationStep.SCHEDULE: ("安排调解时间", "schedule it"),
    MediationStep.START: ("开始调解", "start the session"),
    MediationStep.AGREE: ("记录达成协议", "record an agreement"),
    MediationStep.FAIL: ("终止调解", "end it as failed"),
    MediationStep.WITHDRAW: ("记录当事人要求终止调解", "record a party ending it"),
    MediationStep.REFUSE: ("记录当事人拒绝调解", "record a party's refusal"),
}


class MediationRefused(TransitionRefused):
    """A step the mediation's state does not allow, said as a whole sentence in both languages
    (answered as the confirmation case's refusals are: 409, with the state and the step)."""

    def __init__(self, state: MediationState, step: MediationStep) -> None:
        self.state, self.step = state.value, step.value
        zh_state, en_state = STATE_WORDS[state]
        zh_doing, en_doing = _STEP_DOING[step]
        DomainError.__init__(
            self,
            f"本调解案件{zh_state}，不能{zh_doing}。"
            f" / Cannot {en_doing}: this mediation is {en_state.lower()}.",
        )


def advance(state: MediationState, step: MediationStep, role: Role) -> MediationState:
    """The state after `step`, or a refusal naming the state and the step (or the role)."""
    if role not in STEP_ROLES:
        raise NotPermitted(
            "只有人民调解员可以办理调解案件。 / Only a people's mediator may act on a mediation."
        )
    transition = _TABLE.get((state, step))
    if transition is None:
        raise MediationRefused(state, step)
    return transition.target


def steps_from(state: MediationState) -> list[MediationStep]:
    """Steps open now, in table order: what the mediator's page offers."""
    return [t.step for t in TRANSITIONS if t.source is state]


class Urgency(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    CLOSED = "closed"


@dataclass(frozen=True)
class TimeLimit:
    """Where a mediation stands against its limit: counted from the committee's acceptance."""

    due_at: dt.datetime | None  # None: not yet accepted
    days_left: int | None
    urgency: Urgency


def time_limit(
    state: MediationState, accepted_at: dt.datetime | None, now: dt.datetime
) -> TimeLimit:
    if accepted_at is None:
        return TimeLimit(None, None, Urgency.CLOSED if state in ENDED else Urgency.ON_TIME)
    due = accepted_at + TIME_LIMIT
    left = due - now
    # Whole days, rounded up while time remains: "1 day left" until the last hour has gone.
    days = -((-left) // dt.timedelta(days=1)) if left > dt.timedelta(0) else left.days
    if state in ENDED:
        urgency = Urgency.CLOSED
    elif left <= dt.timedelta(0):
        urgency = Urgency.OVERDUE
    elif left <= DUE_SOON:
        urgency = Urgency.DUE_SOON
    else:
        urgency = Urgency.ON_TIME
    return TimeLimit(due, days, urgency)


# What a failed mediation's termination record tells the parties (art 26).
FAILED_NOTICE = (
    "经调解未能达成协议，本调解委员会终止调解。当事人可以依法通过仲裁、行政、司法等途径维护自己的权利。",
    "No agreement was reached and the committee has ended the mediation. The parties may protect "
    "their rights through arbitration, administrative channels or the courts.",
)
