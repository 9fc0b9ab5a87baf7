"""Room tokens: the door from a logged-in page (or kiosk), or from a party's own device with its
party token (`X-Party-Token`), into the case's signaling room."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.access import Actor
from app.domain.bodies.session import RoomToken
from app.domain.cases import State
from app.domain.errors import ValidationError, WrongState
from app.domain.live import LIVE_STATES, PARTY_ROLE, participant_id, party_participant, room_role
from app.domain.session import SelfTest
from app.domain.state_words import wrong_state
from app.keys import services
from app.services import audit, cases, session_records
from app.services.session_records import PartyPass
from app.store.models import Case
from app.web.decode import read_later
from app.web.ids import path_id
from app.web.session_api import caller_or_party
from app.web.signaling_setup import ICE_KEY
from signaling.ice import ice_servers_for
from signaling.tokens import issue_room_token

TOKEN_SECONDS = 120  # long enough to connect; resumes use the room's own resume token


@dataclass(frozen=True)
class Seat:
    """Who takes which seat, and what the audit trail says about it."""

    case_id: int
    participant: str
    role: str
    name: str
    actor: str
    details: dict[str, Any]
    ttl_seconds: int


def _require_live(case: Case) -> None:
    if State(case.state) not in LIVE_STATES:
        raise WrongState(wrong_state(case.state, "进入确认室", "enter the room"))


async def _account_seat(session: AsyncSession, actor: Actor, case_id: int) -> Seat:
    case = await cases.load_case(session, actor, case_id)
    _require_live(case)
    role = room_role(actor, judge_id=case.judge_id)
    pid = participant_id(actor.role, actor.account_id)
    return Seat(
        case.id,
        pid,
        role,
        actor.display_name,
        actor.username,
        {"role": role, "participant": pid},
        TOKEN_SECONDS,
    )


async def _party_seat(
    session: AsyncSession, who: PartyPass, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Seat:
    """A party's own device: only its own case, in the party's seat, under the party's name."""
    case = await session_records.case_for(session, who, case_id)
    _require_live(case)
    name = session_records.party_name(case, who.party)
    pid = party_participant(case.id, who.party)
    details: dict[str, Any] = {
        "role": PARTY_ROLE,
        "participant": pid,
        "party": who.party,
        "device": "own_device",
    }
    # The device's own self-test goes on record with its entry: the court can later tell a
    # party who joined with a failing camera from a connection that broke.
    test = data.get("self_test")
    if test is not None:
        if not isinstance(test, dict):
            raise ValidationError(
                [
                    (
                        "self_test",
                        "须为对象 {camera, microphone, network}。"
                        " / Must be {camera, microphone, network}.",
                    )
                ]
            )
        details["self_test"] = SelfTest.read(test).payload()
    ttl = token_seconds(who.expires_at, now)
    return Seat(case.id, pid, PARTY_ROLE, name, pid, details, ttl)


async def room_token(request: web.Request) -> web.Response:
    who = caller_or_party(request)
    svc = services(request)
    now = svc.clock()
    _raw, data = await read_later(request, RoomToken)
    async with svc.db.transaction() as session:
        if isinstance(who, PartyPass):
            seat = await _party_seat(session, who, path_id(request), data, now)
        else:
            seat = await _account_seat(session, who, path_id(request))
            data.typed()  # an account's seat takes nothing from the body, which must still fit
        await audit.append(
            session,
            actor=seat.actor,
            action="room.token_issued",
            case_id=seat.case_id,
            details=seat.details,
            now=now,
        )
    door = room_door(
        request, seat.case_id, seat.participant, seat.role, seat.name, seat.ttl_seconds
    )
    return web.json_response(door)


def token_seconds(pass_expires_at: int, now: dt.datetime) -> int:
    """A room token's life: TOKEN_SECONDS, and never beyond the pass it was issued on."""
    return max(1, min(TOKEN_SECONDS, pass_expires_at - int(now.timestamp())))


def room_door(
    request: web.Request, room_key: int, participant: str, role: str, name: str, ttl: int
) -> dict[str, Any]:
    """What a page needs to join a room: its signed token, where the socket is, and ICE."""
    svc = services(request)
    now = svc.clock().timestamp()
    token = issue_room_token(
        svc.secret,
        case_id=room_key,
        participant_id=participant,
        role=role,
        display_name=name,
        ttl_seconds=ttl,
        now=now,
    )
    return {
        "token": token,
        "ws_url": signaling_url(svc.settings, request),
        "ice_servers": ice_servers_for(request.app[ICE_KEY], participant, now),
        "participant_id": participant,
        "role": role,
        "display_name": name,
        "expires_in": ttl,
    }


def signaling_url(settings: Settings, request: web.Request) -> str:
    """Where browsers open the signaling socket: the public address (the balancer in front of
    several nodes) when one is configured, else the address this request came to."""
    if settings.public_url_configured:
        parts = urlsplit(settings.public_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{parts.path}/ws"
    scheme = "wss" if request.secure else "ws"
    return f"{scheme}://{request.host}/ws"


def routes() -> list[web.RouteDef]:
    return [web.post("/api/cases/{case_id}/room-token", room_token)]
