"""Who joins a case's video room, in which role. Pure."""

from __future__ import annotations

from app.domain.access import Actor
from app.domain.cases import State
from app.domain.errors import NotPermitted
from app.domain.roles import Role

# The room opens when the case is booked and stays open through the service of the ruling.
LIVE_STATES = frozenset(
    {
        State.SCHEDULED,
        State.IN_SESSION,
        State.CONFIRMED,
        State.REJECTED,
        State.WITHDRAWN,
        State.RULING_ISSUED,
    }
)

# Account role → role in the room. Clerks observe; the recorder is the server's own peer.
_ROOM_ROLE = {
    Role.JUDGE: "judge",
    Role.KIOSK: "kiosk",
    Role.MEDIATOR: "mediator",
    Role.CLERK: "clerk",
}


# A party on their own device has no account: its seat is its place among the applicants.
PARTY_ROLE = "party"


def participant_id(role: Role, account_id: int) -> str:
    return f"{role.value}-{account_id}"


def party_participant(case_id: int, position: int) -> str:
    """The same name the party's pass acts under in the session records (PartyPass.username),
    so the room's audit and the session's records name one person alike."""
    return f"{PARTY_ROLE}-{case_id}-{position}"


def judge_participant(judge_id: int) -> str:
    return participant_id(Role.JUDGE, judge_id)


def room_role(actor: Actor, *, judge_id: int | None) -> str:
    """The seat an actor who may see the case takes; the judge's seat is the assigned judge's."""
    role = _ROOM_ROLE.get(actor.role)
    if role is None:
        raise NotPermitted("该账号不能进入确认室。 / This account cannot join the room.")
    if actor.role is Role.JUDGE and actor.account_id != judge_id:
        raise NotPermitted("只有承办审判员可以主持。 / Only the assigned judge presides.")
    return role
