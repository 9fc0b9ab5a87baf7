"""The parties' review of the transcript (笔录) before it is archived. Pure.

民事诉讼法 art 150: the transcript is read to the parties or shown to them; a party who finds
their statements left out or wrong may ask for a correction, and a correction refused is itself
recorded; the parties sign, and a refusal to sign is noted. 人民法院在线诉讼规则 art 34: an
electronic transcript checked and confirmed online has the force of a written one.

A party confirms the very draft they read: each confirmation names the draft's SHA-256, and a
correction changes the draft, so confirmations of an earlier draft no longer count. The records
are session events (app/domain/session.py Kind.TRANSCRIPT_*), written after the decision and
before the ruling is issued; the archived transcript states them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from app.domain import refusals
from app.domain.errors import Conflict, ValidationError
from app.domain.free_text import read_free_text
from app.domain.session import Device, Event, Kind, latest_session

MAX_REQUEST = 1000
MAX_NOTE = 500
GRANTED_REFUSAL = "须选择是否准许补正。 / Must be true or false."
DRAFT_HASH_REFUSAL = "须提交所核对笔录的SHA-256。 / The SHA-256 of the draft read."


class NotSigned(StrEnum):
    """Why a party's signature is missing, as the judge records it (记明情况)."""

    REFUSED = "refused"  # 拒绝签名
    LEFT = "left"  # left without reviewing it


NOT_SIGNED_TEXT: dict[NotSigned, str] = {
    NotSigned.REFUSED: "拒绝签名",
    NotSigned.LEFT: "未核对笔录即离开，未签名",
}


@dataclass(frozen=True)
class Correction:
    """A correction the party asked for and what the judge decided (granted or refused)."""

    position: int
    name: str
    request: str
    granted: bool
    text: str  # the correction made, or the reason for refusing it
    at: dt.datetime


@dataclass(frozen=True)
class PartyReview:
    position: int
    name: str
    confirmed_at: dt.datetime | None = None
    confirmed_device: Device | None = None
    confirmed_sha256: str | None = None
    asked_at: dt.datetime | None = None  # a correction asked for and not yet decided
    not_signed: NotSigned | None = None
    not_signed_note: str = ""
    not_signed_at: dt.datetime | None = None

    def confirmed(self, draft_sha256: str) -> bool:
        return self.confirmed_at is not None and self.confirmed_sha256 == draft_sha256

    def settled(self, draft_sha256: str) -> bool:
        """Nothing more is wanted from this party: confirmed this draft, or noted unsigned."""
        return self.not_signed is not None or self.confirmed(draft_sha256)


@dataclass(frozen=True)
class Review:
    parties: tuple[PartyReview, ...]
    corrections: tuple[Correction, ...]

    def party(self, position: int) -> PartyReview:
        for p in self.parties:
            if p.position == position:
                return p
        raise ValidationError([("party", f"没有第{position}号申请人。 / No party {position}.")])

    def outstanding(self, draft_sha256: str) -> list[PartyReview]:
        return [p for p in self.parties if not p.settled(draft_sha256)]


def fold(events: Iterable[Event], parties: Mapping[int, str]) -> Review:
    """The latest session's review records, in order."""
    all_events = list(events)
    number = latest_session(all_events)
    mine = sorted((e for e in all_events if e.session == number), key=lambda e: e.seq)
    people = {p: PartyReview(p, name) for p, name in sorted(parties.items())}
    corrections: list[Correction] = []
    for e in mine:
        record = people.get(e.party) if e.party is not None else None
        if record is None:
            continue
        match e.kind:
            case Kind.TRANSCRIPT_CONFIRMED:
                people[record.position] = replace(
                    record,
                    confirmed_at=e.at,
                    confirmed_device=Device(e.payload["device"]),
                    confirmed_sha256=str(e.payload["draft_sha256"]),
                )
            case Kind.TRANSCRIPT_CORRECTION_ASKED:
                people[record.position] = replace(record, asked_at=e.at)
            case Kind.TRANSCRIPT_CORRECTION:
                corrections.append(
                    Correction(
                        record.position,
                        record.name,
                        str(e.payload["request"]),
                        bool(e.payload["granted"]),
                        str(e.payload["text"]),
                        e.at,
                    )
                )
                people[record.position] = replace(record, asked_at=None)
            case Kind.TRANSCRIPT_NOT_SIGNED:
                people[record.position] = replace(
                    record,
                    not_signed=NotSigned(e.payload["reason"]),
                    not_signed_note=str(e.payload.get("note", "")),
                    not_signed_at=e.at,
                )
    return Review(tuple(people.values()), tuple(corrections))


# --- reading what the judge records --------------------------------------------------------


def read_correction(data: Mapping[str, Any]) -> dict[str, Any]:
    """`{"party", "request", "granted", "text"}`: what the party says is wrong, and the
    correction made (granted) or the reason it is refused."""
    granted = data.get("granted")
    if not isinstance(granted, bool):
        raise ValidationError([("granted", GRANTED_REFUSAL)])
    return {
        "request": read_free_text(data, "request", MAX_REQUEST, required=True),
        "granted": granted,
        "text": read_free_text(data, "text", MAX_REQUEST, required=True),
    }


def read_not_signed(data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        reason = NotSigned(str(data.get("reason")))
    except ValueError:
        raise ValidationError([("reason", refusals.one_of(NotSigned))]) from None
    return {"reason": reason.value, "note": read_free_text(data, "note", MAX_NOTE, required=False)}


def read_draft_hash(data: Mapping[str, Any]) -> str:
    value = data.get("draft_sha256")
    if not isinstance(value, str) or len(value) != 64:
        raise ValidationError([("draft_sha256", DRAFT_HASH_REFUSAL)])
    return value


# --- rules ---------------------------------------------------------------------------------


def check_confirm(review: Review, position: int, read: str, current: str) -> None:
    """A party confirms the draft on screen, and only the current one."""
    party = review.party(position)
    if party.not_signed is not None:
        raise Conflict(
            f"已记明申请人{party.name}未签名。 / {party.name} is recorded as not signing.",
            code="transcript_not_signed",
        )
    if read != current:
        raise Conflict(
            "笔录已更新，请重新阅读后确认。 / The transcript changed: read it again, then confirm.",
            code="transcript_changed",
        )
    if party.confirmed(current):
        raise Conflict(
            f"申请人{party.name}已确认笔录。 / {party.name} has confirmed it already.",
            code="transcript_confirmed",
        )


def check_ask(review: Review, position: int) -> None:
    party = review.party(position)
    if party.not_signed is not None:
        raise Conflict(
            f"已记明申请人{party.name}未签名。 / {party.name} is recorded as not signing.",
            code="transcript_not_signed",
        )


def check_not_signed(review: Review, position: int, current: str) -> None:
    party = review.party(position)
    if party.confirmed(current):
        raise Conflict(
            f"申请人{party.name}已确认笔录。 / {party.name} has confirmed it already.",
            code="transcript_confirmed",
        )
    if party.not_signed is not None:
        raise Conflict(
            f"已记明申请人{party.name}未签名。 / Already recorded.",
            code="transcript_not_signed",
        )


def check_archive(review: Review, current: str) -> None:
    """The transcript is archived (with the ruling) once every party has confirmed the current
    draft or the judge has noted why they did not sign."""
    waiting = review.outstanding(current)
    if waiting:
        names = "、".join(p.name for p in waiting)
        english = ", ".join(p.name for p in waiting)
        raise Conflict(
            f"笔录尚未经申请人{names}核对确认（或记明未签名情况）。 / "
            f"The transcript is not yet confirmed by {english} (nor their not signing noted).",
            code="transcript_unconfirmed",
        )
