"""The JSON API. Thin: parse, call a service in one transaction, present."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from aiohttp import web

from app.domain.bodies import cases as bodies
from app.domain.bodies.application import Application
from app.domain.cases import State
from app.domain.errors import DomainError, NotPermitted, ValidationError
from app.domain.roles import Role
from app.keys import Caller, services
from app.services import accounts, cases, materials
from app.services import follow_on as follow_ons
from app.web.body import read_json
from app.web.client_address import client_address
from app.web.decode import Body, fields_of, read_body
from app.web.ids import path_id
from app.web.middleware import SESSION_COOKIE, require_caller
from app.web.present import case_detail, case_summary
from app.web.printable import require_printable
from app.web.tls import cookies_secure
from app.web.upload import read_upload


def _client(request: web.Request) -> str:
    return client_address(request)


async def login(request: web.Request) -> web.Response:
    svc = services(request)
    body = await read_body(request, bodies.Login)
    username, password = body.username, body.password
    now = svc.clock()
    async with svc.db.transaction() as session:
        result = await accounts.login(
            session,
            username=username,
            password=password,
            client=_client(request),
            now=now,
            lifetime=dt.timedelta(hours=svc.settings.session_hours),
        )
    if result is None:
        raise accounts.LoginFailed()
    response = web.json_response(
        {
            "token": result.token,
            "csrf_token": result.csrf_token,
            "expires_at": result.expires_at.isoformat(),
            "user": actor_json(result.actor),
        }
    )
    set_session_cookie(
        response, result.token, svc.settings.session_hours, secure=cookies_secure(request)
    )
    return response


def set_session_cookie(
    response: web.StreamResponse, token: str, hours: int, *, secure: bool = False
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        max_age=hours * 3600,
        path="/",
        secure=secure,
    )


def actor_json(actor: Any) -> dict[str, Any]:
    return {
        "id": actor.account_id,
        "username": actor.username,
        "role": actor.role.value,
        "display_name": actor.display_name,
        "court_id": actor.court_id,
        "committee_id": actor.committee_id,
        "room_id": actor.room_id,
    }


async def logout(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        await accounts.logout(session, who.token, who.actor, svc.clock())
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(actor_json(require_caller(request).actor))


async def create_case(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    data = fields_of(await read_body(request, Application))
    require_printable(data, svc.desk.missing_glyphs)
    async with svc.db.transaction() as session:
        case = await cases.create_case(session, who.actor, data, cipher=svc.cipher, now=svc.clock())
        body = await _detail(session, case, who, svc)
    return web.json_response(body, status=201)


async def _detail(session: Any, case: Any, who: Caller, svc: Any) -> dict[str, Any]:
    names = await cases.names_for(session, case)
    return case_detail(case, names, svc.cipher, who.actor)


async def list_cases(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    states: list[State] = []
    for raw in request.query.getall("state", []):
        try:
            states.append(State(raw))
        except ValueError:
            raise ValidationError(
                [("state", f"没有 {raw!r} 这个状态。 / Unknown state {raw!r}.")]
            ) from None
    async with svc.db.transaction() as session:
        rows = await cases.list_cases(session, who.actor, states=states or None)
    return web.json_response({"cases": [case_summary(c) for c in rows]})


async def get_case(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await cases.load_case(session, who.actor, path_id(request))
        body = await _detail(session, case, who, svc)
    return web.json_response(body)


async def upload_material(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    case_id = path_id(request)
    if not request.content_type.startswith("multipart/"):
        raise DomainError(
            "请以 multipart/form-data 上传文件。 / Upload as multipart/form-data.",
            code="bad_request",
        )
    category, filename, data = await read_upload(request, svc.settings.max_upload_bytes)
    async with svc.db.transaction() as session:
        material = await materials.add_material(
            session,
            who.actor,
            case_id,
            category=category,
            filename=filename,
            data=data,
            folder=svc.settings.materials_dir,
            cipher=svc.cipher,
            limit=svc.settings.max_upload_bytes,
            now=svc.clock(),
        )
    return web.json_response(
        {
            "id": material.id,
            "sha256": material.sha256,
            "size": material.size,
            "content_type": material.content_type,
            "category": material.category,
            "filename": material.filename,
        },
        status=201,
    )


async def download_material(request: web.Request) -> web.StreamResponse:
    who = require_caller(request)
    svc = services(request)
    material_id = path_id(request, "material_id")
    async with svc.db.transaction() as session:
        material, data = await materials.open_material(
            session,
            who.actor,
            path_id(request),
            material_id,
            svc.settings.materials_dir,
            svc.cipher,
            svc.clock(),
        )
    return web.Response(
        body=data,
        content_type=material.content_type,
        headers={"Content-Disposition": "inline", "Cache-Control": "no-store"},
    )


async def _step(
    request: web.Request, run: Any, model: type[msgspec.Struct] | None = None
) -> web.Response:
    """One step on a case; `run` gets the body to decode as `model` (None: a step without
    fields, which may send no body or an empty object)."""
    who = require_caller(request)
    svc = services(request)
    raw = await read_json(request)
    require_printable(raw, svc.desk.missing_glyphs)
    body = None if model is None else Body(model, raw)
    async with svc.db.transaction() as session:
        case = await run(session, who.actor, path_id(request), body, svc.clock())
        detail = await _detail(session, case, who, svc)
    return web.json_response(detail)


async def submit(request: web.Request) -> web.Response:
    return await _step(request, lambda s, a, i, d, now: cases.submit(s, a, i, now))


async def accept(request: web.Request) -> web.Response:
    return await _step(
        request,
        lambda s, a, i, b, now: cases.accept(s, a, i, b.typed().judge_id, now),
        bodies.Accept,
    )


async def follow_on(request: web.Request) -> web.Response:
    return await _step(
        request,
        lambda s, a, i, b, now: follow_ons.follow_on(s, a, i, b.typed().judge_id, now),
        bodies.Accept,
    )


async def decline(request: web.Request) -> web.Response:
    return await _step(
        request,
        lambda s, a, i, b, now: cases.decline(s, a, i, b.typed().ground.value, b.typed().note, now),
        bodies.Decline,
    )


async def return_case(request: web.Request) -> web.Response:
    return await _step(
        request,
        lambda s, a, i, b, now: cases.return_for_materials(s, a, i, b.typed().note, now),
        bodies.ReturnForMaterials,
    )


async def schedule(request: web.Request) -> web.Response:
    return await _step(
        request,
        lambda s, a, i, b, now: cases.schedule(
            s, a, i, b.typed().room_id, b.typed().scheduled_at, now
        ),
        bodies.Schedule,
    )


async def reveal_id(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    body = await read_body(request, bodies.RevealId)
    async with svc.db.transaction() as session:
        number = await cases.reveal_id_number(
            session, who.actor, path_id(request), body.party, svc.cipher, svc.clock()
        )
    return web.json_response({"party": body.party, "id_number": number})


async def judges(request: web.Request) -> web.Response:
    who = require_caller(request)
    if who.actor.role is not Role.CLERK or who.actor.court_id is None:
        raise NotPermitted("只有书记员可以查看。 / Clerks only.")
    svc = services(request)
    async with svc.db.transaction() as session:
        rows = await accounts.judges_of_court(session, who.actor.court_id)
        rooms = await cases.rooms_of_court(session, who.actor.court_id)
    return web.json_response(
        {
            "judges": [{"id": j.id, "name": j.display_name} for j in rows],
            "rooms": [{"id": r.id, "name": r.name, "hall": r.hall.name} for r in rooms],
        }
    )


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/login", login),
        web.post("/api/logout", logout),
        web.get("/api/me", me),
        web.post("/api/cases", create_case),
        web.get("/api/cases", list_cases),
        web.get("/api/cases/{case_id}", get_case),
        web.post("/api/cases/{case_id}/materials", upload_material),
        web.get("/api/cases/{case_id}/materials/{material_id}", download_material),
        web.post("/api/cases/{case_id}/submit", submit),
        web.post("/api/cases/{case_id}/accept", accept),
        web.post("/api/cases/{case_id}/follow-on", follow_on),
        web.post("/api/cases/{case_id}/decline", decline),
        web.post("/api/cases/{case_id}/return", return_case),
        web.post("/api/cases/{case_id}/schedule", schedule),
        web.post("/api/cases/{case_id}/reveal-id", reveal_id),
        web.get("/api/court/people", judges),
    ]
