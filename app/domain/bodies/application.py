"""The joint application (POST /api/cases): its shape, declared once. Pure.

app/domain/application.py checks what a shape cannot say (ID check digits, a birth date that
matches the ID number, the 30-day window), and reads page forms with the same rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from app.domain import refusals
from app.domain.application import (
    APPLICANTS_REFUSAL,
    MAX_AGENTS,
    MAX_APPLICANTS,
    MAX_TERM_CHARS,
    MAX_TERMS,
    PHONE_PATTERN,
    TERMS_REFUSAL,
)
from app.domain.bodies.fields import Party, at_most, required
from app.domain.people import IdType, Sex

Phone = Annotated[
    str, Meta(max_length=20, pattern=PHONE_PATTERN, extra={"refusal": refusals.PHONE})
]


class Person(Struct, tag_field="kind", tag="person"):
    name: Annotated[str, required(50)]
    sex: Sex
    birth_date: dt.date
    ethnicity: Annotated[str, required(20)]
    address: Annotated[str, required(200)]
    phone: Phone
    id_type: IdType
    id_number: Annotated[str, required(20, description="GB 11643 check digit for resident IDs")]


class Organisation(Struct, tag_field="kind", tag="organisation"):
    name: Annotated[str, required(100)]
    credit_code: Annotated[str, required(18, description="GB 32100 unified social credit code")]
    legal_representative: Annotated[str, required(50)]
    address: Annotated[str, required(200)]
    phone: Annotated[str, at_most(20)] | None = None


class Agent(Struct):
    name: Annotated[str, required(50)]
    id_number: Annotated[str, required(20)]
    phone: Phone
    authority: Annotated[str, required(200)]
    # The applicant the agent acts for, by position in `applicants`.
    represents: Party


class Application(Struct):
    dispute_type: Annotated[str, required(50, examples=["人身损害赔偿纠纷"])]
    agreement_date: Annotated[
        dt.date, Meta(description="the agreement took effect; apply within 30 days (CPL 205)")
    ]
    terms: Annotated[
        list[Annotated[str, required(MAX_TERM_CHARS)]],
        Meta(min_length=1, max_length=MAX_TERMS, extra={"refusal": TERMS_REFUSAL}),
    ]
    applicants: Annotated[
        list[Person | Organisation],
        Meta(min_length=2, max_length=MAX_APPLICANTS, extra={"refusal": APPLICANTS_REFUSAL}),
    ]
    agents: Annotated[list[Agent], Meta(max_length=MAX_AGENTS)] = []
