"""Bodies of logging in and of the court's steps on a case. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta, Struct

from app.domain import refusals
from app.domain.bodies.fields import Id, Party, at_most, required
from app.domain.grounds import DeclineGround, RejectGround

# Neither is limited here: a stored password of any length must still log in.
_CREDENTIAL = Meta(extra={"refusal": refusals.CREDENTIALS})
REASONS_MAX = 2000
NOTE_MAX = 2000


class Login(Struct):
    username: Annotated[str, _CREDENTIAL]
    password: Annotated[str, _CREDENTIAL]


class Accept(Struct):
    judge_id: Id


class Decline(Struct):
    ground: DeclineGround
    note: Annotated[str, at_most(NOTE_MAX)] = ""


class ReturnForMaterials(Struct):
    note: Annotated[str, required(NOTE_MAX, extra={"refusal": refusals.MISSING_MATERIALS})]


class Schedule(Struct):
    room_id: Id
    scheduled_at: Annotated[dt.datetime, Meta(tz=True)]


class RevealId(Struct):
    party: Party


class Decision(Struct):
    decision: Annotated[
        Literal["confirm", "reject", "withdraw"], Meta(extra={"refusal": refusals.DECISION})
    ]
    # Only a rejection names its Interp 358 ground.
    ground: RejectGround | None = None
    reasons: Annotated[str, at_most(REASONS_MAX)] | None = None
