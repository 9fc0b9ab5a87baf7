"""The mediation API (app/services/mediations.py). Thin: parse, one transaction, present."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from app.domain.bodies import mediation as bodies
from app.domain.errors import NotFound
from app.domain.mediation import MediationStep
from app.domain.one_time_code import CodeRefused
from app.domain.people import mask_phone
from app.keys import services
from app.services import agreement_document, mediations, one_time_codes
from app.web import mediation_recording
from app.web.body import read_json
from app.web.decode import Body, fields_of, read_body
from app.web.ids import path_id
from app.web.mediation_view import mediation_json
from app.web.middleware import require_caller
from app.web.printable import require_printable

FILING = "mediation_filing"  # what a party's one-time code is for


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
        found = await mediations.listed(session, who.actor)
        shown = [mediation_json(m, names, svc.cipher, now) for m, names in found]
    return web.json_response({"mediations": shown})


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
        answer = await _act(
            request, lambda s, a, i, b, now: mediations.take_step(s, a, i, step, now)
        )
        await mediation_recording.after_step(request, step)
        return answer

    return handler


def _by_party(step: MediationStep) -> Any:
    async def handler(request: web.Request) -> web.Response:
        answer = await _act(
            request,
            lambda s, a, i, b, now: mediations.take_step(
                s, a, i, step, now, note=b.typed().note, party=b.typed().party
            ),
            bodies.PartyEnds,
        )
        await mediation_recording.after_step(request, step)
        return answer

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
    seal = services(request).agreements.seal_termination
    answer = await _act(
        request,
        lambda s, a, i, b, now: agreement_document.fail_with_record(
            s, a, i, b.typed().note, now, seal
        ),
        bodies.EndMediation,
    )
    await mediation_recording.after_step(request, MediationStep.FAIL)
    return answer


async def termination_pdf(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    mediation_id = path_id(request, "mediation_id")
    async with svc.db.transaction() as session:
        mediation = await mediations.load_mediation(session, who.actor, mediation_id)
    if mediation.termination_pdf is None or mediation.termination_sha256 is None:
        raise NotFound("本调解案件没有终止书。 / This mediation has no termination record.")
    data = svc.agreements.read(mediation.termination_pdf, mediation.termination_sha256)
    disposition = f'inline; filename="termination-{mediation_id}.pdf"'
    return web.Response(
        body=data, content_type="application/pdf", headers={"Content-Disposition": disposition}
    )


async def request_code(request: web.Request) -> web.Response:
    """Public: a one-time code by SMS to the phone of the party about to file."""
    svc = services(request)
    body = await read_body(request, bodies.CodeRequest)
    async with svc.db.transaction() as session:
        expires = await one_time_codes.send(
            session, body.phone, FILING, secret=svc.secret, now=svc.clock()
        )
    sent = {"sent_to": mask_phone(body.phone), "expires_at": expires.isoformat()}
    return web.json_response(sent, status=202)


async def file_as_party(request: web.Request) -> web.Response:
    """Public: a party files a dispute, the code proving the phone (one of the parties')."""
    svc = services(request)
    body = await read_body(request, bodies.PartyFiling)
    filing = fields_of(body)
    for key in ("committee_id", "phone", "code"):
        filing.pop(key)
    require_printable(filing, svc.desk.missing_glyphs)
    mediation = await filed_by_party(svc, body.committee_id, body.phone, body.code, filing)
    return web.json_response(
        {
            "id": mediation.id,
            "state": mediation.state,
            "filed_at": mediation.filed_at.isoformat(),
            "message": " / ".join(RECEIVED),
        },
        status=201,
    )


# What a party who filed is told: what happens next, and the time limit that will run.
RECEIVED = (
    "您的调解申请已提交。人民调解委员会受理后将与您联系，受理后三十日内调解终结。",
    "Your application for mediation is filed. The committee will contact you once it accepts "
    "it; mediation ends within 30 days of acceptance.",
)


async def filed_by_party(
    svc: Any, committee_id: int, phone: str, code: str, filing: dict[str, Any]
) -> Any:
    """The code spent and the dispute filed in one transaction; a wrong code is counted in a
    transaction of its own (the refusal rolls the first back)."""
    now = svc.clock()
    try:
        async with svc.db.transaction() as session:
            await one_time_codes.use(session, phone, FILING, code, secret=svc.secret, now=now)
            return await mediations.file_by_party(
                session, committee_id, phone, filing, cipher=svc.cipher, now=now
            )
    except CodeRefused:
        async with svc.db.transaction() as session:
            await one_time_codes.count_wrong_try(session, phone, FILING)
        raise


def routes() -> list[web.RouteDef]:
    one = "/api/mediations/{mediation_id}"
    return [
        web.post("/api/mediation-requests/code", request_code),
        web.post("/api/mediation-requests", file_as_party),
        web.get("/api/mediations", list_mediations),
        web.post("/api/mediations", file_mediation),
        web.get(one, get_mediation),
        web.post(f"{one}/accept", accept),
        web.post(f"{one}/schedule", schedule),
        web.post(f"{one}/start", _plain(MediationStep.START)),
        web.post(f"{one}/agree", _plain(MediationStep.AGREE)),
        web.post(f"{one}/fail", fail),
        web.get(f"{one}/termination.pdf", termination_pdf),
        web.post(f"{one}/withdraw", _by_party(MediationStep.WITHDRAW)),
        web.post(f"{one}/refuse", _by_party(MediationStep.REFUSE)),
    ]
