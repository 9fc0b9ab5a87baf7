"""The kinds of field request bodies are made of, each with its limits and its refusal. Pure."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from app.domain import refusals
from app.domain.ids import MAX_ID


def required(limit: int, **more: Any) -> Meta:
    """Text that must be there and not blank, of at most `limit` characters."""
    return Meta(min_length=1, max_length=limit, pattern=refusals.NOT_BLANK, **more)


def at_most(limit: int, **more: Any) -> Meta:
    """Optional text (the field may be left out, null or empty) of at most `limit` characters."""
    return Meta(max_length=limit, **more)


# A record's id: what app/domain/ids.py accepts in a body (a JSON integer, not its text).
Id = Annotated[int, Meta(ge=1, le=MAX_ID, extra={"refusal": refusals.RECORD_ID})]
# A party's position in the application, counted from 0.
Party = Annotated[int, Meta(ge=0, le=MAX_ID, extra={"refusal": refusals.PARTY_POSITION})]


class Strict(Struct, forbid_unknown_fields=True):
    """A body whose every field is known: one the administrators' console sends, where a
    misspelt field must not be dropped silently (an account created without its court)."""
