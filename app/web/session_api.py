"""The live session's JSON API: the judge console, the room's kiosk and a party's own device.

Thin: find out who calls (a logged-in account, or a party with `X-Party-Token`), run one
service in one transaction, present the derived session state.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import session as rules
from app.domain.access import Actor
from app.domain.bodies import session as bodies
from app.domain.cases import State
from app.domain.grounds import REJECT_TEXT, RejectGround
from app.domain.live import LIVE_STATES
from app.keys import services
from app.services import (
    party_codes,
    recording_required,
    serving,
    session_records,
    sessions,
    transcript_review,
)
from app.services.session_records import PartyPass, Who
from app.services.timeline import timeline as timeline_of
from app.store.models import Case
from app.web.body import read_json
from app.web.decode import Body, read_body, read_later
from app.web.ids import path_id
from app.web.middleware import caller_or_holder, require_caller
from app.web.printable import require_printable
from app.web.room_look import room_look

PARTY_HEADER = "X-Party-Token"


def caller_or_party(request: web.Request) -> Who:
    """A logged-in account wins; otherwise a party's own device with its signed token."""
    return caller_or_holder(
        request,
        PARTY_HEADER,
        party_codes.verify_party_token,
        "请先登录或输入加入码。 / Log in or join with a code.",
    )


def _at(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


async def hearing_over(session: AsyncSession, case: Case) -> bool:
    """Nothing is left for the video room (served, or the rest asked for paper; or the case
    left the room's states): every page hangs up, and the kiosk goes back to its idle screen."""
    return State(case.state) not in LIVE_STATES or await serving.hall_done(session, case)


def view_json(
    case: Case, view: rules.SessionView, who: Who, *, over: bool = False
) -> dict[str, Any]:
    """The session for a screen. A party's own device sees no notes or references."""
    private = isinstance(who, PartyPass)

    def note(text: str) -> str | None:
        return None if private else text

    parties = []
    for p in view.parties:
        check = p.identity
        parties.append(
            {
                "position": p.position,
                "name": p.name,
                "identity": None
                if check is None
                else {
                    "method": check.method.value,
                    "result": check.result.value,
                    "reference": note(check.reference),
                    "note": note(check.note),
                    "at": _at(p.identity_at),
                },
                "identity_passed": p.identity_passed,
                "warning_acknowledged_at": _at(p.warning_at),
                "consented_at": _at(p.consented_at),
                "consent_device": p.consent_device.value if p.consent_device else None,
                # The party's answer to electronic service: None until asked.
                "service": None
                if p.service_electronic is None
                else {"electronic": p.service_electronic, "at": _at(p.service_choice_at)},
                "answers": None
                if p.answers is None
                else {
                    "agreed_freely": p.answers.agreed_freely,
                    "understands": p.answers.understands,
                    "note": note(p.answers.note),
                    "at": _at(p.answered_at),
                },
            }
        )
    missing = view.missing_for_confirm()
    return {
        "case_id": case.id,
        "case_state": case.state,
        "session": view.number,
        "step": view.phase.value,
        "step_label": rules.PHASE_TEXT[view.phase],
        "hearing_over": over,
        "started_at": _at(view.started_at),
        "admitted_at": _at(view.admitted_at),
        "check_in": None
        if view.check_in is None
        else {**view.check_in.payload(), "ok": view.check_in.ok, "at": _at(view.checked_in_at)},
        "parties": parties,
        "review": {
            "items": {
                g.value: {
                    "label": REJECT_TEXT[g],
                    "present": view.review[g].present if g in view.review else None,
                    "note": note(view.review[g].note) if g in view.review else None,
                }
                for g in RejectGround
            },
            "unanswered": [g.value for g in view.unanswered()],
            "at": _at(view.review_at),
        },
        "decision": None
        if case.decided_at is None
        else {
            "decision": case.decision,
            "ground": case.decision_ground,
            "at": _at(case.decided_at),
        },
        "timings": [
            {
                "step": t.phase.value,
                "started_at": _at(t.started_at),
                "ended_at": _at(t.ended_at),
                "seconds": t.seconds,
            }
            for t in view.timings
        ],
        "elapsed_seconds": view.elapsed_seconds,
        "target_seconds": view.target_seconds,
        "over_target": view.over_target,
        "ready_to_confirm": not missing,
        # Chinese wording as before, for clients that show text; the items carry the code,
        # the party and both languages, so each screen shows its own language.
        "missing_for_confirm": [m.zh for m in missing],
        "missing_for_confirm_items": [m.payload() for m in missing],
    }


Run = Callable[
    [AsyncSession, Any, int, Mapping[str, Any], dt.datetime], Awaitable[session_records.Result]
]


async def _record(
    request: web.Request,
    run: Run,
    model: type[msgspec.Struct] | None,
    *,
    party_allowed: bool = False,
) -> web.Response:
    """One session record; its body decoded as `model` (None: a record without fields)."""
    who = caller_or_party(request) if party_allowed else require_caller(request).actor
    svc = services(request)
    raw = await read_json(request)
    require_printable(raw, svc.desk.missing_glyphs)
    data = raw if model is None else Body(model, raw)
    async with svc.db.transaction() as session:
        result = await run(session, who, path_id(request), data, svc.clock())
        over = await hearing_over(session, result.case)
        body = view_json(result.case, result.view, who, over=over)
    return web.json_response(body)


async def get_session(request: web.Request) -> web.Response:
    who = caller_or_party(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        result = await sessions.read_state(session, who, path_id(request), svc.clock())
        over = await hearing_over(session, result.case)
        body = view_json(result.case, result.view, who, over=over)
    return web.json_response(body)


async def check_in(request: web.Request) -> web.Response:
    return await _record(request, sessions.check_in, bodies.SelfTest)


async def admit(request: web.Request) -> web.Response:
    room = await room_look(request, path_id(request))
    return await _record(request, functools.partial(sessions.admit, room=room), None)


async def identity(request: web.Request) -> web.Response:
    room = await room_look(request, path_id(request))
    return await _record(
        request, functools.partial(sessions.record_identity, room=room), bodies.Identity
    )


async def warning_ack(request: web.Request) -> web.Response:
    return await _record(request, sessions.acknowledge_warning, bodies.ForParty, party_allowed=True)


async def consent(request: web.Request) -> web.Response:
    return await _record(request, sessions.consent, bodies.ForParty, party_allowed=True)


async def answers(request: web.Request) -> web.Response:
    room = await room_look(request, path_id(request))
    return await _record(
        request, functools.partial(sessions.record_answers, room=room), bodies.Answers
    )


async def review(request: web.Request) -> web.Response:
    return await _record(request, sessions.record_review, bodies.Review)


async def without_recording(request: web.Request) -> web.Response:
    return await _record(request, recording_required.go_on_without, bodies.WithoutRecording)


async def reconvene(request: web.Request) -> web.Response:
    return await _record(request, sessions.reconvene, None)


async def party_code(request: web.Request) -> web.Response:
    actor: Actor = require_caller(request).actor
    svc = services(request)
    _raw, data = await read_later(request, bodies.NamedParty)
    async with svc.db.transaction() as session:
        issued = await party_codes.issue_party_code(
            session, actor, path_id(request), data, svc.clock()
        )
    return web.json_response(
        {
            "code": issued.code,
            "case_id": issued.case_id,
            "party": issued.party,
            "party_name": issued.party_name,
            "expires_at": issued.expires_at.isoformat(),
        },
        status=201,
    )


async def join(request: web.Request) -> web.Response:
    svc = services(request)
    code = (await read_body(request, bodies.Join)).code
    async with svc.db.transaction() as session:
        joined = await party_codes.join(session, code, svc.secret, svc.clock())
    return web.json_response(
        {
            "token": joined.token,
            "header": PARTY_HEADER,
            "role": "party",
            "case_id": joined.case_id,
            "party": joined.party,
            "party_name": joined.party_name,
            "expires_at": joined.expires_at.isoformat(),
        }
    )


async def timeline(request: web.Request) -> web.Response:
    actor = require_caller(request).actor
    svc = services(request)
    async with svc.db.transaction() as session:
        items = await timeline_of(session, actor, path_id(request))
    return web.json_response(
        {
            "timeline": [
                {
                    "at": i.at.isoformat(),
                    "source": i.source,
                    "kind": i.kind,
                    "label": i.label,
                    "label_en": i.label_en,
                    "actor": i.actor,
                    "session": i.session,
                    "party": i.party,
                    "details": i.details,
                }
                for i in items
            ]
        }
    )


TRANSCRIPT_HEADER = "X-Sifa-Transcript"  # "archived" (issued with the ruling) or "draft"
TRANSCRIPT_SHA_HEADER = "X-Sifa-Transcript-SHA256"


async def transcript(request: web.Request) -> web.Response:
    actor = require_caller(request).actor
    svc = services(request)
    document = await transcript_review.transcript_pdf(
        svc.db,
        svc.desk,
        actor,
        path_id(request),
        svc.clock(),
        folder=svc.settings.rulings_dir,
    )
    kind = "archived" if document.archived else "draft"
    suffix = "" if document.archived else "-draft"
    return web.Response(
        body=document.pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'inline; filename="transcript-{document.case.id}{suffix}.pdf"'
            ),
            TRANSCRIPT_HEADER: kind,
            TRANSCRIPT_SHA_HEADER: document.sha256,
        },
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/cases/{case_id}/session", get_session),
        web.post("/api/cases/{case_id}/session/check-in", check_in),
        web.post("/api/cases/{case_id}/session/admit", admit),
        web.post("/api/cases/{case_id}/session/identity", identity),
        web.post("/api/cases/{case_id}/session/warning-ack", warning_ack),
        web.post("/api/cases/{case_id}/session/consent", consent),
        web.post("/api/cases/{case_id}/session/answers", answers),
        web.post("/api/cases/{case_id}/session/review", review),
        web.post("/api/cases/{case_id}/session/reconvene", reconvene),
        web.post("/api/cases/{case_id}/session/without-recording", without_recording),
        web.post("/api/cases/{case_id}/party-codes", party_code),
        web.post("/api/join", join),
        web.get("/api/cases/{case_id}/timeline", timeline),
        web.get("/api/cases/{case_id}/transcript.pdf", transcript),
    ]
