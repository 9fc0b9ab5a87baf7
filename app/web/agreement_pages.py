"""The page where parties sign the mediation agreement at the hall's kiosk. The page is a shell;
app/static/agreement_sign.js fills it from /api/mediations/{id}/agreement."""

from __future__ import annotations

from aiohttp import web

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


async def awaiting_signatures(request: web.Request) -> web.Response:
    """For the kiosk's home page: agreements of its hall's committee waiting to be signed."""
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        found = await agreements.awaiting_signatures(session, who.actor)
        shown = [
            {
                "id": m.id,
                "dispute_type": m.dispute_type,
                "parties": [p.name for p in m.parties],
                "page": f"/kiosk/mediation/{m.id}/agreement",
            }
            for m in found
        ]
    return web.json_response({"agreements": shown})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/kiosk/mediation/{mediation_id}/agreement", kiosk_agreement),
        web.get("/api/kiosk/agreements", awaiting_signatures),
    ]
