"""The mediation API (app/services/mediations.py). Thin: parse, one transaction, present."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from app.domain.bodies import mediation as bodies
from app.domain.mediation import MediationStep
from app.keys import services
from app.services import mediations
from app.web.body import read_json
from app.web.decode import Body, fields_of, read_body
from app.web.ids import path_id
from app.web.mediation_view import mediation_json
from app.web.middleware import require_caller
from app.web.printable import require_printable


async def file_mediation(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    mediations.require_mediator(who.actor)  # before the fields: a stranger learns nothing
    data = fields_of(await read_body(request, bodies.NewMediation))
    require_printable(data, svc.desk.missing_glyphs)
    now = svc.clock()
    async with svc.db.transaction() as session:
        mediation = await mediations.file_mediation(
            session, who.actor, data, cipher=svc.cipher, now=now
        )
        names = await mediations.mediator_names(session, mediation)
        answer = mediation_json(mediation, names, svc.cipher, now)
    return web.json_response(answer, status=201)


async def list_mediations(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    now = svc.clock()
    async with svc.db.transaction() as session:
        found = await mediations.list_mediations(session, who.actor)
        listed = []
        for mediation in found:
            names = await mediations.mediator_names(session, mediation)
            listed.append(mediation_json(mediation, names, svc.cipher, now))
    return web.json_response({"mediations": listed})


async def get_mediation(request: web.Request) -> web.Response:
    return await _act(request, lambda s, a, i, b, now: mediations.load_mediation(s, a, i))


async def _act(
    request: web.Request, run: Any, model: type[msgspec.Struct] | None = None
) -> web.Response:
    """One step on a mediation; `run` gets the body to decode as `model` only after the
    mediation was found to be the caller's (a stranger hears 404, never what is wrong)."""
    who = require_caller(request)
    svc = services(request)
    raw = await read_json(request) if request.method == "POST" else {}
    require_printable(raw, svc.desk.missing_glyphs)
    body = None if model is None else Body(model, raw)
    now = svc.clock()
    mediation_id = path_id(request, "mediation_id")
    async with svc.db.transaction() as session:
        await mediations.load_mediation(session, who.actor, mediation_id)  # else 403 or 404
        mediation = await run(session, who.actor, mediation_id, body, now)
        names = await mediations.mediator_names(session, mediation)
        answer = mediation_json(mediation, names, svc.cipher, now)
    return web.json_response(answer)


def _plain(step: MediationStep) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, lambda s, a, i, b, now: mediations.take_step(s, a, i, step, now))

    return handler


def _by_party(step: MediationStep) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return await _act(
            request,
            lambda s, a, i, b, now: mediations.take_step(
                s, a, i, step, now, note=b.typed().note, party=b.typed().party
            ),
            bodies.PartyEnds,
        )

    return handler


async def accept(request: web.Request) -> web.Response:
    return await _act(
        request,
        lambda s, a, i, b, now: mediations.accept(s, a, i, b.typed().mediator_id, now),
        bodies.AcceptMediation,
    )


async def schedule(request: web.Request) -> web.Response:
    return await _act(
        request,
        lambda s, a, i, b, now: mediations.schedule(s, a, i, b.typed().scheduled_at, now),
        bodies.ScheduleMediation,
    )


async def fail(request: web.Request) -> web.Response:
    return await _act(
        request,
        lambda s, a, i, b, now: mediations.take_step(
            s, a, i, MediationStep.FAIL, now, note=b.typed().note
        ),
        bodies.EndMediation,
    )


def routes() -> list[web.RouteDef]:
    one = "/api/mediations/{mediation_id}"
    return [
        web.get("/api/mediations", list_mediations),
        web.post("/api/mediations", file_mediation),
        web.get(one, get_mediation),
        web.post(f"{one}/accept", accept),
        web.post(f"{one}/schedule", schedule),
        web.post(f"{one}/start", _plain(MediationStep.START)),
        web.post(f"{one}/agree", _plain(MediationStep.AGREE)),
        web.post(f"{one}/fail", fail),
        web.post(f"{one}/withdraw", _by_party(MediationStep.WITHDRAW)),
        web.post(f"{one}/refuse", _by_party(MediationStep.REFUSE)),
    ]
