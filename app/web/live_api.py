"""Room tokens: the door from a logged-in page (or kiosk) into the case's signaling room."""

from __future__ import annotations

from aiohttp import web

from app.domain.cases import State
from app.domain.errors import WrongState
from app.domain.live import LIVE_STATES, participant_id, room_role
from app.keys import services
from app.services import audit, cases
from app.web.api import _case_id
from app.web.middleware import require_caller
from app.web.signaling_setup import ICE_KEY
from signaling.ice import ice_servers_for
from signaling.tokens import issue_room_token

TOKEN_SECONDS = 120  # long enough to connect; resumes use the room's own resume token


async def room_token(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    now = svc.clock()
    async with svc.db.transaction() as session:
        case = await cases.load_case(session, who.actor, _case_id(request))
        if State(case.state) not in LIVE_STATES:
            raise WrongState(
                f'案件状态为"{case.state}"，确认室未开放。 / The room is not open in state '
                f'"{case.state}".'
            )
        role = room_role(who.actor, judge_id=case.judge_id)
        pid = participant_id(who.actor.role, who.actor.account_id)
        await audit.append(
            session,
            actor=who.actor.username,
            action="room.token_issued",
            case_id=case.id,
            details={"role": role, "participant": pid},
            now=now,
        )
    token = issue_room_token(
        svc.secret,
        case_id=case.id,
        participant_id=pid,
        role=role,
        display_name=who.actor.display_name,
        ttl_seconds=TOKEN_SECONDS,
        now=now.timestamp(),
    )
    scheme = "wss" if request.secure or svc.settings.public_url.startswith("https") else "ws"
    return web.json_response(
        {
            "token": token,
            "ws_url": f"{scheme}://{request.host}/ws",
            "ice_servers": ice_servers_for(request.app[ICE_KEY], pid, now.timestamp()),
            "participant_id": pid,
            "role": role,
            "expires_in": TOKEN_SECONDS,
        }
    )


def routes() -> list[web.RouteDef]:
    return [web.post("/api/cases/{case_id}/room-token", room_token)]
