"""The transcript (笔录) between the decision and its archiving: the draft the parties read,
their confirmations, corrections and the judge's notes of a party not signing (民事诉讼法 art
150, 人民法院在线诉讼规则 art 34; the rules are app/domain/transcript_review.py), and the
context of the transcript archived with the ruling, which states them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import session as rules
from app.domain import transcript_review as review_rules
from app.domain.access import Actor
from app.domain.cases import DECIDED, State
from app.domain.errors import NotPermitted, WrongState
from app.domain.roles import Role
from app.domain.state_words import wrong_state
from app.ruling.desk import RulingDesk
from app.ruling.screen import screen_blocks
from app.services import session_records, sessions
from app.services.cases import load_case
from app.services.session_records import PartyPass, Who, audit_session
from app.store.db import Database
from app.store.models import Case


def _no_transcript() -> WrongState:
    return WrongState("庭审尚未开始，没有笔录。 / No session was held: there is no transcript.")


@dataclass(frozen=True)
class Draft:
    """The transcript as the parties read it now, and where each party's review stands."""

    blocks: list[dict[str, Any]]
    sha256: str  # of the blocks: what a confirmation names
    review: review_rules.Review


async def review_of(session: AsyncSession, case: Case) -> review_rules.Review:
    rows = await session_records.event_rows(session, case.id)
    events = [session_records.event_of(r) for r in rows]
    return review_rules.fold(events, {p.position: p.name for p in case.parties})


def _corrections(review: review_rules.Review) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "request": c.request, "granted": c.granted, "text": c.text}
        for c in review.corrections
    ]


def _signatures(review: review_rules.Review) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "confirmed_at": p.confirmed_at,
            "device": sessions.DEVICE_TEXT[(p.confirmed_device or rules.Device.KIOSK).value],
            "not_signed": review_rules.NOT_SIGNED_TEXT[p.not_signed] if p.not_signed else "",
            "note": p.not_signed_note,
        }
        for p in review.parties
    ]


@dataclass(frozen=True)
class _Source:
    number: int  # the session the transcript covers
    context: dict[str, Any]  # the records, as the transcript template takes them
    review: review_rules.Review


async def _source(session: AsyncSession, case: Case, now: dt.datetime) -> _Source | None:
    found = await sessions.transcript_source(session, case, now)
    if found is None:
        return None
    return _Source(found[0], found[1], await review_of(session, case))


def _draft_context(source: _Source, case: Case, now: dt.datetime) -> dict[str, Any]:
    """The transcript's context as the parties read it: the records, the corrections, no
    signatures; made at the decision, so the same records give the same draft."""
    made = case.decided_at or now
    corrections = _corrections(source.review)
    return {**source.context, "made_at": made, "corrections": corrections, "signatures": []}


def _draft(source: _Source, case: Case, desk: RulingDesk, now: dt.datetime) -> Draft:
    context = _draft_context(source, case, now)
    blocks = screen_blocks(desk.renderer.templates.transcript(context), ())
    canonical = json.dumps(blocks, ensure_ascii=False, sort_keys=True).encode()
    return Draft(blocks, hashlib.sha256(canonical).hexdigest(), source.review)


async def draft_context(
    session: AsyncSession, case: Case, now: dt.datetime
) -> dict[str, Any] | None:
    source = await _source(session, case, now)
    return None if source is None else _draft_context(source, case, now)


async def draft_of(
    session: AsyncSession, case: Case, desk: RulingDesk, now: dt.datetime
) -> Draft | None:
    source = await _source(session, case, now)
    return None if source is None else _draft(source, case, desk, now)


async def archive_source(
    session: AsyncSession, case: Case, desk: RulingDesk, now: dt.datetime
) -> tuple[int, dict[str, Any]] | None:
    """(session number, context) of the transcript to archive with the ruling, stating each
    party's review; refused (409 transcript_unconfirmed) while a party has neither confirmed
    the current draft nor been noted as not signing. None: no session was held."""
    source = await _source(session, case, now)
    if source is None:
        return None
    draft = _draft(source, case, desk, now)
    review_rules.check_archive(draft.review, draft.sha256)
    context = {
        **source.context,
        "corrections": _corrections(draft.review),
        "signatures": _signatures(draft.review),
    }
    return source.number, context


# --- the parties' taps and the judge's records ---------------------------------------------


async def _open(
    session: AsyncSession, who: Who, case_id: int, desk: RulingDesk, now: dt.datetime, what: str
) -> tuple[Case, rules.SessionView, Draft]:
    case, view = await session_records.prepare(session, who, case_id, DECIDED, what, now)
    draft = await draft_of(session, case, desk, now)
    if draft is None:
        raise _no_transcript()
    return case, view, draft


def _device(who: Who) -> str:
    return (rules.Device.OWN_DEVICE if isinstance(who, PartyPass) else rules.Device.KIOSK).value


Read = Callable[[Draft, int, Mapping[str, Any]], dict[str, Any]]


async def _records(
    session: AsyncSession,
    who: Who,
    case_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    desk: RulingDesk,
    kind: rules.Kind,
    read: Read,
) -> Draft:
    """One record of the review: a party's tap (at the kiosk or on its own device) or the
    judge's record; `read` checks it against the draft and returns its payload."""
    party_side = kind in PARTY_KINDS
    if party_side and isinstance(who, Actor):
        session_records.require_role(
            who, Role.KIOSK, "须由当事人在终端核对。 / Parties review it at the room's kiosk."
        )
    if not party_side:
        session_records.require_role(
            who, Role.JUDGE, "只有审判员可以记录笔录核对情况。 / Only the judge records this."
        )
    case, view, draft = await _open(
        session, who, case_id, desk, now, "核对笔录 / review the transcript"
    )
    if party_side:
        party = session_records.acting_party(who, data)
        payload = {"device": _device(who), **read(draft, party, data)}
        facts = payload
    else:
        party = session_records.party_position(data)
        payload = read(draft, party, data)
        # The words stay in the session record and the transcript; the audit keeps the facts.
        facts = {k: payload[k] for k in ("granted", "reason") if k in payload}
    await session_records.append(
        session, case, view, kind, party, payload, who.username, now, audit_details=facts
    )
    if kind is rules.Kind.TRANSCRIPT_CORRECTION:
        return await _again(session, case, desk, now)  # the text changed: draw it again
    # The same text: only the review moved on.
    return Draft(draft.blocks, draft.sha256, await review_of(session, case))


PARTY_KINDS = frozenset({rules.Kind.TRANSCRIPT_CONFIRMED, rules.Kind.TRANSCRIPT_CORRECTION_ASKED})


def _confirmation(draft: Draft, party: int, data: Mapping[str, Any]) -> dict[str, Any]:
    review_rules.check_confirm(
        draft.review, party, review_rules.read_draft_hash(data), draft.sha256
    )
    return {"draft_sha256": draft.sha256}


def _request(draft: Draft, party: int, data: Mapping[str, Any]) -> dict[str, Any]:
    review_rules.check_ask(draft.review, party)
    return {}


def _correction(draft: Draft, party: int, data: Mapping[str, Any]) -> dict[str, Any]:
    draft.review.party(party)
    return review_rules.read_correction(data)


def _not_signed(draft: Draft, party: int, data: Mapping[str, Any]) -> dict[str, Any]:
    review_rules.check_not_signed(draft.review, party, draft.sha256)
    return review_rules.read_not_signed(data)


def _step(kind: rules.Kind, read: Read) -> Callable[..., Awaitable[Draft]]:
    async def step(
        session: AsyncSession,
        who: Who,
        case_id: int,
        data: Mapping[str, Any],
        now: dt.datetime,
        *,
        desk: RulingDesk,
    ) -> Draft:
        return await _records(session, who, case_id, data, now, desk, kind, read)

    return step


# The party read this draft and confirms it: their electronic signature of the record.
confirm = _step(rules.Kind.TRANSCRIPT_CONFIRMED, _confirmation)
# The party finds their statement left out or wrong: the judge is asked to correct it.
ask = _step(rules.Kind.TRANSCRIPT_CORRECTION_ASKED, _request)
# The judge records a correction asked for: made, or refused with the reason.
correct = _step(rules.Kind.TRANSCRIPT_CORRECTION, _correction)
# The judge notes that a party refused to sign, or left without reviewing (记明情况).
not_signed = _step(rules.Kind.TRANSCRIPT_NOT_SIGNED, _not_signed)


async def _again(session: AsyncSession, case: Case, desk: RulingDesk, now: dt.datetime) -> Draft:
    draft = await draft_of(session, case, desk, now)
    assert draft is not None
    return draft


async def read_draft(
    session: AsyncSession, who: Who, case_id: int, desk: RulingDesk, now: dt.datetime
) -> tuple[Case, Draft]:
    """The draft for the kiosk, a party's own device, the judge and the clerk, from the
    decision until the ruling (and the transcript with it) is issued."""
    case = await session_records.case_for(session, who, case_id)
    if State(case.state) not in DECIDED:
        raise WrongState(wrong_state(case.state, "核对笔录", "review the transcript"))
    draft = await draft_of(session, case, desk, now)
    if draft is None:
        raise _no_transcript()
    return case, draft


# --- the transcript as a PDF ---------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptDocument:
    case: Case
    pdf: bytes
    sha256: str
    archived: bool  # False: a draft rendered from the records at the moment of asking


async def transcript_pdf(
    db: Database,
    desk: RulingDesk,
    actor: Actor,
    case_id: int,
    now: dt.datetime,
    *,
    folder: Path,
) -> TranscriptDocument:
    """The session's electronic transcript (人民法院在线诉讼规则 art 34), signed by the court.

    Once the ruling is issued, the transcript archived with it, byte for byte. Before, a draft
    built from the records at the moment of asking; rendering and signing run outside the
    transaction and off the event loop, like the ruling's.
    """
    if actor.role not in (Role.JUDGE, Role.CLERK):
        raise NotPermitted("只有审判员、书记员可以调取笔录。 / Judge and clerk only.")
    async with db.transaction() as session:
        case = await load_case(session, actor, case_id)
        stored = await sessions.transcript_of(session, case.id)
        if stored is not None:
            pdf = sessions.archived_bytes(stored, folder)
            details = {"sha256": stored.sha256, "archived": True}
            await audit_session(session, actor.username, case, "transcript", now, details)
            return TranscriptDocument(case, pdf, stored.sha256, archived=True)
        context = await draft_context(session, case, now)
        if context is None:
            raise _no_transcript()
    pdf = await desk.transcript(context)
    digest = hashlib.sha256(pdf).hexdigest()
    async with db.transaction() as session:
        case = await load_case(session, actor, case_id)
        details = {"sha256": digest, "archived": False}
        await audit_session(session, actor.username, case, "transcript", now, details)
    return TranscriptDocument(case, pdf, digest, archived=False)
