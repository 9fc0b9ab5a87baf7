"""Bodies of the accounts console, the own-password change and the courts' organisation. Pure."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from app.domain import refusals
from app.domain.bodies.fields import Id, Strict, at_most
from app.domain.ids import MAX_ID
from app.domain.organisation import COURT_CODE, COURT_CODE_REFUSAL, NAME_MAX, NOUN, Kind, no_such
from app.domain.roles import ACCOUNT_ROLES
from app.password_policy import MAX_LENGTH, MIN_LENGTH

NewPassword = Annotated[str, Meta(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class NewAccount(Strict):
    """Judges and clerks need a court code, mediators a committee name, kiosks a room name."""

    username: Annotated[str, Meta(pattern=r"^\w{1,50}$", extra={"refusal": refusals.USERNAME})]
    role: Annotated[str, Meta(extra_json_schema={"enum": [r.value for r in ACCOUNT_ROLES]})]
    password: NewPassword
    display_name: Annotated[str, at_most(50)] = ""
    court: Annotated[str, at_most(20, examples=["粤0311"])] | None = None
    committee: Annotated[str, at_most(NAME_MAX)] | None = None
    room: Annotated[str, at_most(NAME_MAX)] | None = None


class SetActive(Strict):
    active: bool


class ResetPassword(Strict):
    password: NewPassword


class OwnPassword(Strict):
    current_password: Annotated[str, Meta(extra={"refusal": refusals.REQUIRED})]
    new_password: NewPassword


class BindKiosk(Strict):
    account_id: Id


Name = Annotated[str, Meta(min_length=1, max_length=NAME_MAX, pattern=refusals.NOT_BLANK)]
Code = Annotated[
    str,
    Meta(pattern=COURT_CODE.pattern, examples=["粤0311"], extra={"refusal": COURT_CODE_REFUSAL}),
]


def _parent(kind: Kind) -> Meta:
    return Meta(
        ge=1, le=MAX_ID, description=f"the {NOUN[kind][1]}'s id", extra={"refusal": no_such(kind)}
    )


class NewCourt(Strict):
    name: Name
    code: Code


class CourtChange(Strict):
    name: Name | None = None
    code: Code | None = None


class NewCommittee(Strict):
    name: Name
    court_id: Annotated[int, _parent(Kind.COURT)]


class CommitteeChange(Strict):
    name: Name | None = None
    court_id: Annotated[int, _parent(Kind.COURT)] | None = None


class NewHall(Strict):
    name: Name
    committee_id: Annotated[int, _parent(Kind.COMMITTEE)]


class HallChange(Strict):
    name: Name | None = None
    committee_id: Annotated[int, _parent(Kind.COMMITTEE)] | None = None


class NewRoom(Strict):
    name: Name
    hall_id: Annotated[int, _parent(Kind.HALL)]


class RoomChange(Strict):
    name: Name | None = None
    hall_id: Annotated[int, _parent(Kind.HALL)] | None = None


# A POST adds a unit with every field; a PATCH changes the fields it sends.
UNIT_BODIES: dict[Kind, tuple[type[Struct], type[Struct]]] = {
    Kind.COURT: (NewCourt, CourtChange),
    Kind.COMMITTEE: (NewCommittee, CommitteeChange),
    Kind.HALL: (NewHall, HallChange),
    Kind.ROOM: (NewRoom, RoomChange),
}
