"""The video mediation session's API (app/services/mediation_room.py): the room token, a join
code to a party's own phone and the pass it buys, each party's checks, a party's request for a
change, and the notice every screen in the room gets when something changed. Thin."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from aiohttp import web

from app.domain import mediation_checks as checks
from app.domain.access import Actor
from app.domain.bodies import mediation as bodies
from app.domain.errors import NotPermitted, WrongState
from app.domain.live import participant_id
from app.domain.mediation import MediationState
from app.domain.one_time_code import CodeRefused
from app.domain.roles import Role
from app.keys import Services, services
from app.services import mediation_pass, mediations, one_time_codes
from app.services import mediation_room as room
from app.services.mediation_agreements import party_phone, require_assigned
from app.services.mediation_pass import MediationPass
from app.services.mediation_room import KIOSK_DEVICE, SessionCaller, Where
from app.store.models import MediationCase
from app.web.client_address import client_address
from app.web.decode import T, read_body
from app.web.ids import path_id
from app.web.live_api import TOKEN_SECONDS, room_door, token_seconds
from app.web.middleware import caller_or_holder, require_caller
from signaling.roles import KIOSK, MEDIATOR, PARTY
from signaling.room_keys import mediation_room
from signaling.server import SERVER_KEY

log = logging.getLogger(__name__)

PASS_HEADER = "X-Mediation-Pass"
OWN_PHONE = "当事人自己的手机"


def caller_or_pass(request: web.Request) -> SessionCaller:
    """A logged-in account wins; otherwise a party's phone with its mediation pass."""
    return caller_or_holder(
        request,
        PASS_HEADER,
        mediation_pass.verify,
        "请先登录或用验证码加入。 / Log in, or join with your code.",
    )


def where(request: web.Request, who: SessionCaller) -> Where:
    if isinstance(who, MediationPass):
        device = OWN_PHONE
    elif who.role is Role.KIOSK:
        device = f"{KIOSK_DEVICE} {who.display_name}"
    else:
        device = f"调解员 {who.display_name}"
    return Where(device, client_address(request))


async def announce(request: web.Request, mediation_id: int, changed: str) -> None:
    """Every screen in the mediation's room reads the session again (type "mediation"), within
    the second; a screen that missed it reads it when it reconnects."""
    server = request.app.get(SERVER_KEY)
    if server is None:
        return
    message = {"type": "mediation", "changed": changed}
    try:
        await server.tell_room_anywhere(mediation_room(mediation_id), message)
    except Exception:
        # What changed is committed: a notice that cannot go out must not turn the answer into
        # an error. Every screen reads the state again on its own, within seconds.
        log.exception("mediation %s: the %s notice was not delivered", mediation_id, changed)


async def room_token(request: web.Request) -> web.Response:
    who = caller_or_pass(request)
    svc = services(request)
    mediation_id = path_id(request, "mediation_id")
    now = svc.clock()
    async with svc.db.transaction() as session:
        mediation = await room.mediation_for(session, who, mediation_id)
        if MediationState(mediation.state) is not MediationState.IN_MEDIATION:
            raise WrongState(
                "视频调解尚未开始或已经结束。 / The video session has not started or is over."
            )
        seat, role, name, ttl = _seat(who, mediation.parties, now)
        await mediations.record_event(
            session, who.username, mediation, "mediation.room.token_issued", {"seat": seat}, now
        )
    door = room_door(request, mediation_room(mediation_id), seat, role, name, ttl)
    return web.json_response({**door, "room_key": mediation_room(mediation_id)})


def _seat(who: SessionCaller, parties: list[Any], now: dt.datetime) -> tuple[str, str, str, int]:
    if isinstance(who, MediationPass):
        ttl = token_seconds(who.expires_at, now)
        return who.username, PARTY, parties[who.party].name, ttl
    role = {Role.MEDIATOR: MEDIATOR, Role.KIOSK: KIOSK}.get(who.role)
    if role is None:
        raise NotPermitted("该账号不能进入调解室。 / This account cannot join the mediation room.")
    return participant_id(who.role, who.account_id), role, who.display_name, TOKEN_SECONDS


async def send_join_code(request: web.Request) -> web.Response:
    """The mediator texts a party a code to join on their own phone."""
    actor: Actor = require_caller(request).actor
    svc = services(request)
    mediation_id = path_id(request, "mediation_id")
    async with svc.db.transaction() as session:
        mediation = await mediations.load_mediation(session, actor, mediation_id)
        require_assigned(actor, mediation)
    body = await read_body(request, bodies.SignCodeRequest)
    async with svc.db.transaction() as session:
        mediation = await mediations.load_mediation(session, actor, mediation_id)
        sent_to, expires = await mediation_pass.send_join_code(
            session, mediation, body.party, svc.secret, svc.clock()
        )
    answer = {"party": body.party, "sent_to": sent_to, "expires_at": expires.isoformat()}
    return web.json_response(answer, status=202)


async def join(request: web.Request) -> web.Response:
    """A party's phone: the code it received, for a pass. A wrong code is counted in a
    transaction of its own."""
    svc = services(request)
    mediation_id = path_id(request, "mediation_id")
    body = await read_body(request, bodies.JoinWithCode)
    now = svc.clock()
    try:
        async with svc.db.transaction() as session:
            token, claims, name = await mediation_pass.redeem(
                session, mediation_id, body.party, body.code, svc.secret, now
            )
    except CodeRefused:
        async with svc.db.transaction() as session:
            mediation = await session.get(MediationCase, mediation_id)
            if mediation is not None:
                phone = party_phone(mediation, body.party)
                purpose = mediation_pass.join_code_purpose(mediation_id, body.party)
                await one_time_codes.count_wrong_try(session, phone, purpose)
        raise
    await announce(request, mediation_id, "joined")
    expires = dt.datetime.fromtimestamp(claims.expires_at, dt.UTC).isoformat()
    answer = {"pass": token, "party": claims.party, "name": name, "expires_at": expires}
    return web.json_response(answer, status=201)


async def show(request: web.Request) -> web.Response:
    who = caller_or_pass(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        mediation = await room.mediation_for(session, who, path_id(request, "mediation_id"))
        answer = await room.session_view(session, who, mediation)
    return web.json_response(answer)


async def _asked(request: web.Request, model: type[T]) -> tuple[SessionCaller, Services, int, T]:
    """Who asks, of which mediation (403 or 404 before the body is read), and the body."""
    who = caller_or_pass(request)
    svc = services(request)
    mediation_id = path_id(request, "mediation_id")
    async with svc.db.transaction() as session:
        await room.mediation_for(session, who, mediation_id)
    return who, svc, mediation_id, await read_body(request, model)


async def record_check(request: web.Request) -> web.Response:
    who, svc, mediation_id, body = await _asked(request, bodies.RecordCheck)
    check = checks.Check(body.check)
    async with svc.db.transaction() as session:
        mediation = await room.mediation_for(session, who, mediation_id)
        place = where(request, who)
        await room.record_check(session, who, mediation, body.party, check, place, svc.clock())
        answer = await room.session_view(session, who, mediation)
    await announce(request, mediation_id, "checks")
    return web.json_response(answer, status=201)


async def ask_for_change(request: web.Request) -> web.Response:
    """A party (on their phone, or at the kiosk) asks the mediator to change the draft: it is
    recorded, and every screen in the room shows it."""
    who, svc, mediation_id, body = await _asked(request, bodies.ChangeRequest)
    async with svc.db.transaction() as session:
        mediation = await room.mediation_for(session, who, mediation_id)
        asked = await room.ask_for_change(
            session, who, mediation, body.party, body.text, where(request, who), svc.clock()
        )
    await announce(request, mediation_id, "change_request")
    return web.json_response(asked, status=201)


def routes() -> list[web.RouteDef]:
    one = "/api/mediations/{mediation_id}"
    return [
        web.post(f"{one}/room-token", room_token),
        web.post(f"{one}/join-code", send_join_code),
        web.post(f"{one}/join", join),
        web.get(f"{one}/session", show),
        web.post(f"{one}/checks", record_check),
        web.post(f"{one}/change-requests", ask_for_change),
    ]
