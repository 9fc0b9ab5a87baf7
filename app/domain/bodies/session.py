"""Bodies of the live session's records: the kiosk's self-test, the judge's checks, a party's
taps, the review and the join code. Pure; app/domain/session.py holds the rules."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from app.domain import refusals
from app.domain.bodies.fields import Party, at_most, required
from app.domain.grounds import RejectGround
from app.domain.recording_rule import MAX_REASON
from app.domain.session import MAX_NOTE, MAX_REFERENCE, IdMethod, IdResult

Note = Annotated[str, at_most(MAX_NOTE)] | None


class SelfTest(Struct):
    camera: bool
    microphone: bool
    network: bool


class Identity(Struct):
    party: Party
    method: IdMethod
    result: Annotated[IdResult, Meta(extra={"refusal": refusals.PASSED_OR_FAILED})]
    reference: Annotated[str, at_most(MAX_REFERENCE)] | None = None
    note: Note = None


class ForParty(Struct):
    """A step taken for one party: the kiosk names it; a party's own device may leave it out."""

    party: Party | None = None


class NamedParty(Struct):
    party: Party


class Answers(Struct):
    party: Party
    agreed_freely: bool
    understands: bool
    note: Note = None


class ReviewItem(Struct):
    present: bool
    note: Note = None


class Review(Struct):
    items: Annotated[
        dict[RejectGround, ReviewItem],
        Meta(min_length=1, extra={"refusal": refusals.REVIEW_ITEMS}),
    ]


class WithoutRecording(Struct):
    reason: Annotated[str, required(MAX_REASON)]


class Join(Struct):
    code: Annotated[str, Meta(max_length=64, extra={"refusal": refusals.JOIN_CODE})]


class RoomToken(Struct):
    # A party's own device: its camera, microphone and network check, recorded with its entry.
    self_test: Annotated[SelfTest, Meta(extra={"refusal": refusals.SELF_TEST})] | None = None
