"""The kiosk's page of a mediation in session (its video session, and the agreement the parties
sign there), and the page a party's own phone opens from the code texted to it. The pages are
shells: app/static/mediation_room.js and agreement_sign.js fill them from the API."""

from __future__ import annotations

from aiohttp import web

from app.domain.ids import parse_position
from app.keys import services
from app.services import mediation_agreements as agreements
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.pages import render


async def kiosk_agreement(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        # Only a kiosk of the mediation's committee: others are refused or hear it is not there.
        mediation = await agreements.kiosk_mediation(
            session, who.actor, path_id(request, "mediation_id")
        )
    return render(request, "kiosk_agreement.html", {"mediation_id": mediation.id})


async def phone_page(request: web.Request) -> web.Response:
    """A party's own phone: the code texted to it, then the session and the agreement. The
    page shows nothing of the mediation before the code is checked."""
    mediation_id = path_id(request, "mediation_id")
    party = parse_position(request.query.get("party", ""))
    return render(request, "mediation_phone.html", {"mediation_id": mediation_id, "party": party})


async def awaiting_signatures(request: web.Request) -> web.Response:
    """For the kiosk's home page: its hall's committee's mediations in session, each marked
    when its agreement waits to be signed."""
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        found = await agreements.in_session_at_kiosk(session, who.actor)
        shown = [
            {
                "id": m.id,
                "dispute_type": m.dispute_type,
                "parties": [p.name for p in m.parties],
                "frozen": frozen,
                "page": f"/kiosk/mediation/{m.id}/agreement",
            }
            for m, frozen in found
        ]
    return web.json_response({"agreements": shown})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/kiosk/mediation/{mediation_id}/agreement", kiosk_agreement),
        web.get("/api/kiosk/agreements", awaiting_signatures),
        web.get("/mediation/{mediation_id}/join", phone_page),
    ]
