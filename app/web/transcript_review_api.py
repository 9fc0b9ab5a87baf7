"""The parties' review of the transcript before it is archived: the draft, a party's
confirmation or request for a correction (the kiosk or the party's own device), and the judge's
corrections and notes of a party not signing."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.bodies.session import ForParty
from app.domain.bodies.transcript import ConfirmTranscript, Correction, NotSignedNote
from app.keys import services
from app.services import transcript_review
from app.services.transcript_review import Draft
from app.web.decode import read_later
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.printable import require_printable
from app.web.room_look import room_records_settled
from app.web.session_api import _at, caller_or_party


def draft_json(draft: Draft) -> dict[str, Any]:
    current = draft.sha256
    return {
        "sha256": current,
        "blocks": draft.blocks,
        "ready": not draft.review.outstanding(current),
        "parties": [
            {
                "position": p.position,
                "name": p.name,
                "confirmed": p.confirmed(current),
                "confirmed_at": _at(p.confirmed_at) if p.confirmed(current) else None,
                # Confirmed an earlier draft: a correction came since, so read it again.
                "stale": p.confirmed_at is not None and not p.confirmed(current),
                "asked_at": _at(p.asked_at),
                "not_signed": p.not_signed.value if p.not_signed else None,
            }
            for p in draft.review.parties
        ],
        "corrections": [
            {"party": c.position, "name": c.name, "granted": c.granted, "at": _at(c.at)}
            for c in draft.review.corrections
        ],
    }


Step = Callable[..., Awaitable[Draft]]


async def _step(
    request: web.Request, step: Step, model: type[msgspec.Struct], *, party_side: bool
) -> web.Response:
    who = caller_or_party(request) if party_side else require_caller(request).actor
    svc = services(request)
    raw, data = await read_later(request, model)
    await room_records_settled(request)
    require_printable(raw, svc.desk.missing_glyphs)
    run: Callable[[AsyncSession, Any, int, Mapping[str, Any], dt.datetime], Awaitable[Draft]]
    run = functools.partial(step, desk=svc.desk)
    async with svc.db.transaction() as session:
        draft = await run(session, who, path_id(request), data, svc.clock())
    return web.json_response(draft_json(draft))


async def get_draft(request: web.Request) -> web.Response:
    who = caller_or_party(request)
    svc = services(request)
    await room_records_settled(request)
    async with svc.db.transaction() as session:
        _case, draft = await transcript_review.read_draft(
            session, who, path_id(request), svc.desk, svc.clock()
        )
    return web.json_response(draft_json(draft))


async def confirm(request: web.Request) -> web.Response:
    return await _step(request, transcript_review.confirm, ConfirmTranscript, party_side=True)


async def ask(request: web.Request) -> web.Response:
    return await _step(request, transcript_review.ask, ForParty, party_side=True)


async def correct(request: web.Request) -> web.Response:
    return await _step(request, transcript_review.correct, Correction, party_side=False)


async def not_signed(request: web.Request) -> web.Response:
    return await _step(request, transcript_review.not_signed, NotSignedNote, party_side=False)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/cases/{case_id}/transcript/draft", get_draft),
        web.post("/api/cases/{case_id}/transcript/confirm", confirm),
        web.post("/api/cases/{case_id}/transcript/ask", ask),
        web.post("/api/cases/{case_id}/transcript/corrections", correct),
        web.post("/api/cases/{case_id}/transcript/not-signed", not_signed),
    ]


def openapi_paths(
    op: Callable[..., dict[str, Any]],
    case_id: list[dict[str, Any]],
    with_party: list[dict[str, list[str]]],
) -> dict[str, Any]:
    """These routes in the OpenAPI document (app/web/openapi/), beside the handlers."""
    return {
        "/api/cases/{case_id}/transcript/draft": {
            "get": {
                **op(
                    "The transcript (笔录) as the parties review it between the decision and the "
                    "ruling: blocks as in ruling/screen, its sha256 (what a confirmation names), "
                    "each party's review, the corrections so far, and whether the transcript "
                    "may be archived (ready). 409 outside that window",
                    "the case's people, or a party token (its own case only)",
                ),
                "security": with_party,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/transcript/confirm": {
            "post": {
                **op(
                    "A party confirms the draft it read (民事诉讼法 art 150, 在线诉讼规则 art 34): "
                    "draft_sha256 must be the current draft's (409 transcript_changed after a "
                    "correction)",
                    "the kiosk of the case's room, or a party token (itself only)",
                    ConfirmTranscript,
                ),
                "security": with_party,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/transcript/ask": {
            "post": {
                **op(
                    "A party asks for a correction of its statements; the judge decides it",
                    "the kiosk of the case's room, or a party token (itself only)",
                    ForParty,
                ),
                "security": with_party,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/transcript/corrections": {
            "post": op(
                "The judge records a correction asked for: granted with the correction, or "
                "refused with the reason (recorded in the transcript either way); the draft "
                "changes, so parties confirm again",
                "the assigned judge",
                Correction,
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/transcript/not-signed": {
            "post": op(
                "The judge notes that a party refused to sign the transcript or left without "
                "reviewing it (记明情况); the archived transcript says so",
                "the assigned judge",
                NotSignedNote,
            ),
            "parameters": case_id,
        },
    }
