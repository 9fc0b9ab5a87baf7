"""Bodies of the mediation API (app/web/mediation_api.py). Pure."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from app.domain.application import MAX_APPLICANTS
from app.domain.bodies.application import Organisation, Person, Phone
from app.domain.bodies.fields import Id, Party, at_most, required
from app.domain.mediation_filing import MAX_CLAIMS_CHARS, MAX_FACTS_CHARS, PARTIES_REFUSAL

NOTE_MAX = 2000


class NewMediation(Struct):
    dispute_type: Annotated[str, required(50, examples=["邻里纠纷"])]
    facts: Annotated[str, required(MAX_FACTS_CHARS, description="the dispute's main facts")]
    claims: Annotated[str, required(MAX_CLAIMS_CHARS, description="what each side asks for")]
    parties: Annotated[
        list[Person | Organisation],
        Meta(min_length=2, max_length=MAX_APPLICANTS, extra={"refusal": PARTIES_REFUSAL}),
    ]


class AcceptMediation(Struct):
    mediator_id: Id  # a mediator of the same committee


class ScheduleMediation(Struct):
    scheduled_at: Annotated[dt.datetime, Meta(tz=True)]


class EndMediation(Struct):
    """A failed mediation's termination record: what was tried, and why it did not settle."""

    note: Annotated[str, required(NOTE_MAX)]


class PartyEnds(Struct):
    """A party's refusal of mediation (art 17) or request to end it (art 23), as heard."""

    party: Party
    note: Annotated[str, at_most(NOTE_MAX)] = ""


CODE_REFUSAL = "须为短信收到的 6 位数字。 / Must be the 6 digits the text message gave."


class CodeRequest(Struct):
    """A one-time code by SMS to the phone of the party who files."""

    phone: Phone


class PartyFiling(NewMediation):
    """A party's own filing from the public page (POST /api/mediation-requests)."""

    committee_id: Id
    phone: Phone  # one of the parties' own, proved by the code
    code: Annotated[str, Meta(pattern=r"^[0-9]{6}$", extra={"refusal": CODE_REFUSAL})]
