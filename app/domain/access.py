"""Who may see and act on which case. Pure: the caller passes the facts."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.cases import State
from app.domain.errors import NotPermitted
from app.domain.roles import Role

# A kiosk sees a case from the moment it is booked into its room until it is served.
KIOSK_STATES = frozenset(
    {
        State.SCHEDULED,
        State.IN_SESSION,
        State.CONFIRMED,
        State.REJECTED,
        State.WITHDRAWN,
        State.RULING_ISSUED,
        State.SERVED,
    }
)


@dataclass(frozen=True)
class Actor:
    account_id: int
    username: str
    role: Role
    display_name: str
    court_id: int | None = None
    committee_id: int | None = None
    room_id: int | None = None


@dataclass(frozen=True)
class CaseScope:
    """The facts about a case that decide who may see it."""

    court_id: int
    committee_id: int
    judge_id: int | None
    room_id: int | None
    state: State


def may_view(actor: Actor, case: CaseScope) -> bool:
    match actor.role:
        case Role.MEDIATOR:
            return actor.committee_id == case.committee_id
        case Role.CLERK:
            return actor.court_id == case.court_id
        case Role.JUDGE:
            return case.judge_id is not None and actor.account_id == case.judge_id
        case Role.KIOSK:
            return (
                case.room_id is not None
                and actor.room_id == case.room_id
                and case.state in KIOSK_STATES
            )
        case _:
            # Administrators manage accounts and organisations, not case files.
            return False


def require_case_role(actor: Actor) -> None:
    """Lists of cases and rulings are for the roles that work on cases. An administrator is
    refused outright rather than shown an empty list, which would look like a court without
    cases."""
    if actor.role is Role.ADMIN:
        raise NotPermitted(
            "管理员管理账户和机构，不查阅案件。 / Administrators manage accounts and "
            "organisations, not case files."
        )
