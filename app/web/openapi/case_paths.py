"""Logging in, the case's filing and the court's steps, and the ruling, in the OpenAPI
document (app/web/api.py, live_api.py, rulings_api.py)."""

from __future__ import annotations

from typing import Any

from app.domain.bodies import cases as bodies
from app.domain.bodies.application import Application
from app.domain.bodies.session import RoomToken
from app.domain.materials import Category
from app.web.openapi.common import CASE_ID, WITH_PARTY, obj, op, path_ids
from app.web.openapi.responses import CASE, RULING

# A material is served as what it is, checked by content at upload.
MATERIAL_TYPES = ("application/pdf", "image/jpeg", "image/png")


def account_paths() -> dict[str, Any]:
    return {
        "/api/openapi.json": {"get": op("This document", "anyone")},
        "/api/login": {
            "post": op(
                "Log in; sets an HttpOnly cookie and returns a bearer token and CSRF token",
                "anyone",
                bodies.Login,
            )
        },
        "/api/logout": {"post": op("End the session", "logged in")},
        "/api/me": {"get": op("The caller's account", "logged in")},
    }


def _step(summary: str, roles: str, body: Any = None, ok: Any = CASE) -> dict[str, Any]:
    return {"post": op(summary, roles, body, ok), "parameters": CASE_ID}


def case_paths() -> dict[str, Any]:
    clerk = "clerk of the court"
    upload = op(
        "Upload a PDF, JPEG or PNG (type checked by content, SHA-256 kept)",
        "the case's mediator, in draft or submitted",
        status="201",
    )
    upload["requestBody"] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": obj(
                    category={"enum": [c.value for c in Category]},
                    file={"type": "string", "format": "binary"},
                )
            }
        },
    }
    return {
        "/api/cases": {
            "post": op("File a joint application (draft)", "mediator", Application, CASE, "201"),
            "get": op("Cases the caller may see; filter with ?state=", "every role but admin"),
        },
        "/api/cases/{case_id}": {
            "get": op("One case, ID numbers masked", "the case's people", ok=CASE),
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/materials": {"post": upload, "parameters": CASE_ID},
        "/api/cases/{case_id}/materials/{material_id}": {
            "get": op(
                "Download a material (audited), as the PDF, JPEG or PNG it is. A kiosk may "
                "read the agreement only, never ID card copies",
                "the case's people",
                ok={"type": "string", "format": "binary"},
                media=MATERIAL_TYPES,
            ),
            "parameters": [*CASE_ID, *path_ids("material_id")],
        },
        "/api/cases/{case_id}/submit": _step("Submit to the court", "mediator"),
        "/api/cases/{case_id}/accept": _step(
            "Accept, assign a judge; the case number is given", clerk, bodies.Accept
        ),
        "/api/cases/{case_id}/follow-on": _step(
            "The confirmation straight after a video mediation held at a hall's kiosk: accept "
            "with a judge free now and book the kiosk's room a couple of minutes from now (409 "
            "judge_not_free; wrong_state when the parties are not in a hall room or it is booked)",
            clerk,
            bodies.Accept,
        ),
        "/api/cases/{case_id}/decline": _step("Do not accept (Interp 355)", clerk, bodies.Decline),
        "/api/cases/{case_id}/return": _step(
            "Return for missing materials (Interp 354)", clerk, bodies.ReturnForMaterials
        ),
        "/api/cases/{case_id}/schedule": _step(
            "Book a confirmation room and time", clerk, bodies.Schedule
        ),
        "/api/cases/{case_id}/reveal-id": _step(
            "Show one party's ID number in full (audited)",
            "judge, clerk or mediator of the case",
            bodies.RevealId,
            ok={},
        ),
        "/api/court/people": {"get": op("Judges and rooms of the clerk's court", "clerk")},
    }


def ruling_paths() -> dict[str, Any]:
    judge = "the assigned judge"
    room_token = op(
        "A short-lived signed token for the case's video room, with the WebSocket URL "
        "and ICE servers. A party's own device sends X-Party-Token instead of logging "
        "in: it gets its own seat (party-{case_id}-{position}) under the party's name, "
        "never longer than its pass lives, and its self-test goes to the audit trail",
        "the assigned judge, the room's kiosk, the mediator, clerks, or a party token "
        "(its own case only; any other case answers 404)",
        RoomToken,
        ok=obj(
            token={"type": "string"},
            ws_url={"type": "string"},
            ice_servers={"type": "array"},
            participant_id={"type": "string", "example": "party-12-1"},
            role={"enum": ["judge", "kiosk", "mediator", "clerk", "party"]},
            display_name={
                "type": "string",
                "description": "the name the room shows for this seat: the "
                "account's display name, or the party's name for a party token",
            },
            expires_in={"type": "integer", "description": "seconds"},
        ),
    )
    return {
        "/api/cases/{case_id}/room-token": {
            "post": {**room_token, "security": WITH_PARTY},
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/open-session": _step("Open the online session", judge),
        "/api/cases/{case_id}/decision": _step(
            "Decide: confirm, reject on an Interp 358 ground, or allow withdrawal",
            judge,
            bodies.Decision,
        ),
        "/api/cases/{case_id}/ruling": {
            "post": op(
                "Render, sign and issue the ruling (201); asking again returns it (200)",
                "the assigned judge, after the decision",
                ok=RULING,
                status="201",
            ),
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/ruling.pdf": {
            "get": {
                **op(
                    "The signed ruling (audited); a party's own device reads it there before "
                    "acknowledging receipt",
                    "the case's people, or a party token (its own case only)",
                    media="application/pdf",
                ),
                "security": WITH_PARTY,
            },
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/ruling/draft": {
            "get": op(
                "The ruling as it would be issued now, for the judge to read before signing: "
                "blocks as in ruling/screen (ID numbers masked), the QR line without an address "
                "(drawn at issue). 409 before the decision and once issued (already_issued)",
                judge,
            ),
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/ruling/screen": {
            "get": {
                **op(
                    "The ruling as shared screens show it (audited): the issued text as blocks "
                    "(kind and text, or kind, left and right), every ID number masked, unsigned; "
                    "the original PDF stays the served document. 404 for a ruling issued before "
                    "screen copies existed",
                    "the case's people, or a party token (its own case only)",
                ),
                "security": WITH_PARTY,
            },
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/bundle.zip": {
            "get": op(
                "The case bundle: ruling, transcript, vouchers, materials, audit records, "
                "manifest, SHA256SUMS and its CMS signature by the court (SHA256SUMS.p7s)",
                "clerks of the court",
                media="application/zip",
            ),
            "parameters": CASE_ID,
        },
        "/api/board": {"get": op("Today's rooms: case, step, elapsed time, connection", "clerk")},
        "/api/rulings": {
            "get": {
                **op("Issued rulings the caller may see", "every role but admin", ok=RULING),
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in ("case_number", "party", "from", "to", "outcome")
                ],
            }
        },
    }
