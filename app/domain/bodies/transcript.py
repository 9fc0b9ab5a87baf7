"""Bodies of the parties' review of the transcript and the judge's records of it. Pure."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from app.domain.bodies.fields import Party, at_most, required
from app.domain.transcript_review import (
    DRAFT_HASH_REFUSAL,
    GRANTED_REFUSAL,
    MAX_NOTE,
    MAX_REQUEST,
    NotSigned,
)


class ConfirmTranscript(Struct):
    draft_sha256: Annotated[
        str,
        Meta(
            min_length=64,
            max_length=64,
            pattern="^[0-9a-f]{64}$",
            description="the SHA-256 of the draft the party read",
            extra={"refusal": DRAFT_HASH_REFUSAL},
        ),
    ]
    party: Party | None = None


class Correction(Struct):
    party: Party
    request: Annotated[str, required(MAX_REQUEST)]
    granted: Annotated[bool, Meta(extra={"refusal": GRANTED_REFUSAL})]
    text: Annotated[str, required(MAX_REQUEST)]


class NotSignedNote(Struct):
    party: Party
    reason: NotSigned
    note: Annotated[str, at_most(MAX_NOTE)] | None = None
