"""The OpenAPI document for the JSON API, served at /api/openapi.json.

Request bodies come from the models that decode them (bodies.py); each module here describes
one group of operations, and the API modules beside their handlers describe their own.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.web.mediation_recording import openapi_paths as mediation_recording_paths
from app.web.openapi.admin_paths import admin_paths
from app.web.openapi.agreement_paths import agreement_paths
from app.web.openapi.bodies import components
from app.web.openapi.case_paths import account_paths, case_paths, ruling_paths
from app.web.openapi.common import CASE_ID, POSITION, WITH_PARTY, op, path_ids
from app.web.openapi.mediation_paths import mediation_paths
from app.web.openapi.mediation_room_paths import mediation_room_paths
from app.web.openapi.session_paths import recording_paths, session_paths
from app.web.org_admin_api import openapi_paths as org_admin_paths
from app.web.service_api import openapi_paths as service_paths
from app.web.transcript_review_api import openapi_paths as transcript_review_paths

DESCRIPTION = (
    "Online judicial confirmation of people's mediation agreements. "
    "Cookie sessions must send X-CSRF-Token on changes; bearer tokens need not. "
    "JSON bodies are application/json (else 415), at most 256 KiB (else 413), nest at "
    "most 32 deep and hold no control character or lone surrogate and no integer past "
    "64 bits (else 400); a body that does not fit its schema is 422 validation_failed, "
    "every problem listed under its field. Ids are canonical decimals (else 404 in a "
    "path, 422 in a body)."
)


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        **account_paths(),
        **case_paths(),
        **ruling_paths(),
        **session_paths(),
        **service_paths(op, CASE_ID, POSITION, WITH_PARTY),
        **transcript_review_paths(op, CASE_ID, WITH_PARTY),
        **recording_paths(),
        **admin_paths(),
        **org_admin_paths(op),
        **mediation_paths(),
        **agreement_paths(),
        **mediation_room_paths(),
        **mediation_recording_paths(op, path_ids),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sifa API", "version": "1", "description": DESCRIPTION},
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "sifa_session"},
                "party": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Party-Token",
                    "description": "a party's own device: the signed pass POST /api/join gives "
                    "for a one-time code; one case and one party, an hour at most",
                },
                "mediation_pass": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Mediation-Pass",
                    "description": "a party's own phone in a video mediation: the signed pass "
                    "POST /api/mediations/{id}/join gives for the code texted to that party's "
                    "phone; one mediation and one party, four hours at most",
                },
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": paths,
    }


async def serve(_request: web.Request) -> web.Response:
    return web.json_response(document())


def routes() -> list[web.RouteDef]:
    return [web.get("/api/openapi.json", serve)]
