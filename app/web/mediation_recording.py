"""A mediation's video session on the court's recorder (app/recording/), as a hearing's: recorded
whole from the moment the mediator starts the session until the mediation ends (agreed,
failed, withdrawn, refused), when the run is stopped and the room closes on every screen
(4010); then played back to the committee's mediators.

The recorder knows the room by its key (signaling/room_keys.py). Starting or stopping it never
undoes the mediation's step that asked for it: a failure is logged and audited, and shows on
the recording's view as no run, or a failed one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.mediation import MediationStep
from app.keys import SERVICES, services
from app.recording.routing import RECORDING_CONTROL
from app.services import audit, mediations
from app.web import recording_api
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.pages import render
from signaling.room_keys import mediation_room
from signaling.server import SERVER_KEY

log = logging.getLogger(__name__)

ENDED = "mediation_ended"  # the run's end_reason
CLOSED = "over"  # why the room closed, as its trail and every socket are told
_ENDING_STEPS = frozenset(
    step.value
    for step in (
        MediationStep.AGREE,
        MediationStep.FAIL,
        MediationStep.WITHDRAW,
        MediationStep.REFUSE,
    )
)


async def session_started(app: web.Application, mediation_id: int, by: str) -> None:
    """The mediator started the session: the recorder joins its room now, before anyone."""
    control = app.get(RECORDING_CONTROL)
    if control is None:
        return
    key = mediation_room(mediation_id)
    try:
        await control.start(key, by)
    except Exception as exc:
        await _failed(app, key, by, "start", exc)


async def session_ended(app: web.Application, mediation_id: int, by: str) -> None:
    """The mediation ended: the run stops (its files closed and hashed), then the room closes
    on whichever server holds it. Stopped first: a recorder whose seat closes under it would
    count as failed."""
    key = mediation_room(mediation_id)
    control = app.get(RECORDING_CONTROL)
    if control is not None:
        try:
            await control.stop(key, ENDED, by)
        except Exception as exc:
            await _failed(app, key, by, "stop", exc)
    try:
        await app[SERVER_KEY].end_room_anywhere(key, CLOSED)
    except Exception:
        # Every screen also hangs up by itself: its room is refused once the mediation ended.
        log.exception("mediation room %s: could not be closed", key)


async def after_step(request: web.Request, step: str) -> None:
    """After a step on the mediation in the request's path succeeded (an API call or a page's
    form): the session's start starts the recording, its end ends it."""
    step = str(step)  # a page's action, or the API's MediationStep: the same words
    if step == MediationStep.START.value:
        await session_started(request.app, _mediation_id(request), _by(request))
    elif step in _ENDING_STEPS:
        await session_ended(request.app, _mediation_id(request), _by(request))


def _mediation_id(request: web.Request) -> int:
    return path_id(request, "mediation_id")


def _by(request: web.Request) -> str:
    return require_caller(request).actor.username


async def _failed(app: web.Application, key: int, by: str, verb: str, exc: Exception) -> None:
    log.exception("mediation room %s: the recording could not %s", key, verb)
    svc = app[SERVICES]
    try:
        async with svc.db.transaction() as session:
            await audit.append(
                session,
                actor=by,
                action=f"recording.{verb}_failed",
                case_id=key,
                details={"reason": f"{type(exc).__name__}: {exc}"[:200]},
                now=svc.clock(),
            )
    except Exception:
        log.exception("mediation room %s: the failed %s could not be audited", key, verb)


# -- playback --------------------------------------------------------------------------------


async def _room_of(request: web.Request, session: AsyncSession) -> int:
    """The room key of the mediation in the path, for a mediator of its committee; anyone else
    is refused as for the mediation itself (403 not a mediator, 404 another committee's)."""
    who = require_caller(request)
    mediation = await mediations.load_mediation(session, who.actor, _mediation_id(request))
    return mediation_room(mediation.id)


def _media_base(mediation_id: int) -> str:
    return f"/api/mediations/{mediation_id}/recording/segments"


async def _view(request: web.Request, session: AsyncSession, key: int) -> dict[str, Any]:
    mediation_id = _mediation_id(request)
    view, _live = await recording_api.room_view(request, session, key, _media_base(mediation_id))
    return {"mediation_id": mediation_id, "room_key": key, **view}


async def get_recording(request: web.Request) -> web.Response:
    async with services(request).db.transaction() as session:
        view = await _view(request, session, await _room_of(request, session))
    return web.json_response(view)


async def media(request: web.Request) -> web.StreamResponse:
    segment_id = path_id(request, "segment_id")
    async with services(request).db.transaction() as session:
        key = await _room_of(request, session)
        storage_name = await recording_api.playable(session, key, segment_id)
    return recording_api.media_file(request, storage_name)


async def playback_page(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        key = await _room_of(request, session)
        view = await _view(request, session, key)
        await recording_api.viewed(session, svc, who.actor, key)
    mediation_id = view["mediation_id"]
    context = {
        "rec": view,
        "title": ("调解录像", "Mediation recording"),
        "subject": (f"调解第{mediation_id}号", f"Mediation {mediation_id}"),
    }
    return render(request, "playback.html", context)


def routes() -> list[web.RouteDef]:
    one = "/api/mediations/{mediation_id}/recording"
    return [
        web.get(one, get_recording),
        web.get(f"{one}/segments/{{segment_id}}/media", media),
        web.get("/mediations/{mediation_id}/recording", playback_page),
    ]


def openapi_paths(
    op: Callable[..., dict[str, Any]], path_ids: Callable[..., list[dict[str, Any]]]
) -> dict[str, Any]:
    """These routes in the OpenAPI document (app/web/openapi/), beside the handlers."""
    one = "/api/mediations/{mediation_id}/recording"
    mediators = "mediators of the mediation's committee"
    return {
        one: {
            "get": op(
                "The video session's recording: state, runs, segments and the timeline with gaps",
                mediators,
            ),
            "parameters": path_ids("mediation_id"),
        },
        f"{one}/segments/{{segment_id}}/media": {
            "get": op("One segment's MP4 (range requests)", mediators, media="video/mp4"),
            "parameters": path_ids("mediation_id", "segment_id"),
        },
    }
