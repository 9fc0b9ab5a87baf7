"""The case lifecycle: states, steps, who may take each step, and the transition table. Pure.

Steps inside a live session (identity checks, consents, review) belong to the session model and
do not move the case between these states; they are recorded against the `in_session` state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import NotPermitted, TransitionRefused
from app.domain.roles import Role


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    SCHEDULED = "scheduled"
    IN_SESSION = "in_session"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RULING_ISSUED = "ruling_issued"
    SERVED = "served"
    ARCHIVED = "archived"


class Step(StrEnum):
    SUBMIT = "submit"  # mediator files the joint application
    RETURN = "return"  # clerk returns it for missing materials (Interp 354)
    ACCEPT = "accept"  # clerk accepts, assigns a judge; the case number is given here
    DECLINE = "decline"  # clerk does not accept (Interp 355)
    SCHEDULE = "schedule"  # clerk books a room and a time; again to reschedule
    OPEN_SESSION = "open_session"  # judge opens the online session
    CONFIRM = "confirm"  # judge: the agreement is valid (CPL 206)
    REJECT = "reject"  # judge: rejected on an Interp 358 ground
    WITHDRAW = "withdraw"  # judge allows the applicants' withdrawal (Interp 357)
    ISSUE_RULING = "issue_ruling"  # judge signs and issues the ruling
    SERVE = "serve"  # every party has acknowledged receipt
    ARCHIVE = "archive"  # clerk files the closed case


@dataclass(frozen=True)
class Transition:
    source: State
    step: Step
    target: State
    roles: frozenset[Role]


def _t(source: State, step: Step, target: State, *roles: Role) -> Transition:
    return Transition(source, step, target, frozenset(roles))


TRANSITIONS: tuple[Transition, ...] = (
    _t(State.DRAFT, Step.SUBMIT, State.SUBMITTED, Role.MEDIATOR),
    _t(State.SUBMITTED, Step.RETURN, State.DRAFT, Role.CLERK),
    _t(State.SUBMITTED, Step.ACCEPT, State.ACCEPTED, Role.CLERK),
    _t(State.SUBMITTED, Step.DECLINE, State.NOT_ACCEPTED, Role.CLERK),
    _t(State.ACCEPTED, Step.SCHEDULE, State.SCHEDULED, Role.CLERK),
    _t(State.SCHEDULED, Step.SCHEDULE, State.SCHEDULED, Role.CLERK),
    _t(State.SCHEDULED, Step.OPEN_SESSION, State.IN_SESSION, Role.JUDGE),
    # Applicants may withdraw before the ruling (Interp 357), also before the session.
    _t(State.ACCEPTED, Step.WITHDRAW, State.WITHDRAWN, Role.JUDGE),
    _t(State.SCHEDULED, Step.WITHDRAW, State.WITHDRAWN, Role.JUDGE),
    _t(State.IN_SESSION, Step.WITHDRAW, State.WITHDRAWN, Role.JUDGE),
    _t(State.IN_SESSION, Step.CONFIRM, State.CONFIRMED, Role.JUDGE),
    _t(State.IN_SESSION, Step.REJECT, State.REJECTED, Role.JUDGE),
    _t(State.CONFIRMED, Step.ISSUE_RULING, State.RULING_ISSUED, Role.JUDGE),
    _t(State.REJECTED, Step.ISSUE_RULING, State.RULING_ISSUED, Role.JUDGE),
    _t(State.WITHDRAWN, Step.ISSUE_RULING, State.RULING_ISSUED, Role.JUDGE),
    _t(State.RULING_ISSUED, Step.SERVE, State.SERVED, Role.SYSTEM, Role.CLERK),
    _t(State.SERVED, Step.ARCHIVE, State.ARCHIVED, Role.CLERK),
    _t(State.NOT_ACCEPTED, Step.ARCHIVE, State.ARCHIVED, Role.CLERK),
)

_TABLE: dict[tuple[State, Step], Transition] = {(t.source, t.step): t for t in TRANSITIONS}
assert len(_TABLE) == len(TRANSITIONS), "two transitions share a state and step"

TERMINAL = frozenset({State.ARCHIVED})
DECIDED = frozenset({State.CONFIRMED, State.REJECTED, State.WITHDRAWN})
# From the opening of the session until every party is served: the hearing is recorded whole,
# and a party may still say how it wants to be served.
HEARING = frozenset({State.IN_SESSION, *DECIDED, State.RULING_ISSUED})


def transition_for(state: State, step: Step) -> Transition | None:
    return _TABLE.get((state, step))


def advance(state: State, step: Step, role: Role) -> State:
    """The state after `step`, or an error naming the state and step (or the role) refused."""
    transition = _TABLE.get((state, step))
    if transition is None:
        raise TransitionRefused(state.value, step.value)
    if role not in transition.roles:
        allowed = ", ".join(sorted(r.value for r in transition.roles))
        raise NotPermitted(
            f"“{role.value}”角色不能对案件执行“{step.value}”（只有：{allowed}）。"
            f' / The role "{role.value}" may not "{step.value}" a case (only: {allowed}).'
        )
    return transition.target


def steps_from(state: State, role: Role) -> list[Step]:
    """Steps a role may take now, in table order: what pages offer as buttons."""
    return [t.step for t in TRANSITIONS if t.source is state and role in t.roles]
