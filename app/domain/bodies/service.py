"""Bodies of serving the ruling: a party's answer to electronic service, a receipt, and the
clerk's record of a paper 送达回证. Pure."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from app.domain import refusals
from app.domain.bodies.fields import Party, at_most
from app.domain.service_choice import CHOICE_REFUSAL, MAX_PAPER_NOTE


class ServiceChoice(Struct):
    electronic: Annotated[bool, Meta(extra={"refusal": CHOICE_REFUSAL})]
    party: Party | None = None


class PaperReceipt(Struct):
    party: Party
    signed_on: Annotated[dt.date, Meta(extra={"refusal": refusals.SIGNED_ON})]
    note: Annotated[str, at_most(MAX_PAPER_NOTE)] | None = None
