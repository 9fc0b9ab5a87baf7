"""The OpenAPI document for the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.domain.application import ORGANISATION_FIELDS, PERSON_FIELDS
from app.domain.cases import State
from app.domain.grounds import DeclineGround, RejectGround
from app.domain.materials import Category
from app.password_policy import MIN_LENGTH
from app.services.admin import ACCOUNT_ROLES
from app.web.org_admin_api import openapi_paths as org_admin_paths
from app.web.service_api import openapi_paths as service_paths
from app.web.transcript_review_api import openapi_paths as transcript_review_paths

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "stable, for programs: e.g. validation_failed, forbidden, "
                    "not_found, wrong_state, not_present (the people a record concerns are not "
                    "in the video room with media), session_not_ready, service_choice_pending, "
                    "paper_service, electronic_service, already_acknowledged",
                },
                "message": {"type": "string", "description": "中文 / English"},
                "fields": {"type": "array", "items": {"type": "object"}},
                "state": {"type": "string"},
                "step": {"type": "string"},
            },
        }
    },
}

_PERSON = {
    "type": "object",
    "required": ["kind", *PERSON_FIELDS],
    "properties": {
        "kind": {"const": "person"},
        "name": {"type": "string", "maxLength": 50},
        "sex": {"enum": ["male", "female"]},
        "birth_date": {"type": "string", "format": "date"},
        "ethnicity": {"type": "string"},
        "address": {"type": "string"},
        "phone": {"type": "string"},
        "id_type": {"enum": ["resident_id", "passport", "hk_macao_permit", "taiwan_permit"]},
        "id_number": {"type": "string", "description": "GB 11643 check digit for resident IDs"},
    },
}
_ORGANISATION = {
    "type": "object",
    "required": ["kind", *ORGANISATION_FIELDS[:-1]],  # the phone is optional
    "properties": {
        "kind": {"const": "organisation"},
        "name": {"type": "string"},
        "credit_code": {"type": "string", "description": "GB 32100 unified social credit code"},
        "legal_representative": {"type": "string"},
        "address": {"type": "string"},
        "phone": {"type": "string"},
    },
}
_APPLICATION = {
    "type": "object",
    "required": ["dispute_type", "agreement_date", "terms", "applicants"],
    "properties": {
        "dispute_type": {"type": "string", "example": "人身损害赔偿纠纷"},
        "agreement_date": {
            "type": "string",
            "format": "date",
            "description": "the agreement took effect; apply within 30 days (CPL 205)",
        },
        "terms": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "applicants": {
            "type": "array",
            "minItems": 2,
            "items": {"oneOf": [_PERSON, _ORGANISATION]},
        },
        "agents": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "id_number", "phone", "authority", "represents"],
                "properties": {"represents": {"type": "integer"}},
            },
        },
    },
}
_CASE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "state": {"enum": [s.value for s in State]},
        "case_number": {"type": ["string", "null"], "example": "（2026）粤0311民特1号"},
        "allowed_steps": {"type": "array", "items": {"type": "string"}},
    },
}


_RULING = {
    "type": "object",
    "properties": {
        "sha256": {"type": "string"},
        "signer_cert_sha256": {"type": "string"},
        "signature_level": {"enum": ["B-B", "B-T"]},
        "verify_url": {"type": "string"},
        "outcome": {"enum": ["confirmed", "rejected", "withdrawn"]},
        "transcript": {
            "type": ["object", "null"],
            "description": "the session's transcript archived with the ruling; null when no "
            "session was held",
            "properties": {"sha256": {"type": "string"}, "download": {"type": "string"}},
        },
    },
}


# Operations a party's own device may call with its pass as well as logged-in accounts.
_WITH_PARTY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}, {"party": []}]


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    roles: str,
    body: dict[str, Any] | None = None,
    ok: dict[str, Any] | None = None,
    status: str = "200",
    media: str = "application/json",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": f"Allowed: {roles}.",
        "responses": {
            status: {"description": "OK", "content": {media: {"schema": ok or {}}}},
            "4XX": {"description": "Refused", "content": {"application/json": {"schema": _ERROR}}},
        },
    }
    if body is not None:
        operation["requestBody"] = _body(body)
    return operation


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props}


def _session_paths(case_id: list[dict[str, Any]]) -> dict[str, Any]:
    """The live session: identity, consent, answers and review records (app/domain/session)."""
    state = {
        "type": "object",
        "description": "the derived session state: step, parties, "
        "review, timings, elapsed_seconds, ready_to_confirm, missing_for_confirm",
        "properties": {
            "parties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "consented_at": {"type": ["string", "null"], "format": "date-time"},
                        "consent_device": {
                            "enum": ["kiosk", "own_device", None],
                            "description": "where the party confirmed: the room's kiosk, or "
                            "their own device (joined with a code); null until they confirm",
                        },
                    },
                },
            },
        },
    }
    party = {"party": {"type": "integer"}}

    def post(summary: str, roles: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "post": _op(summary, roles, {"type": "object", "properties": body}, state),
            "parameters": case_id,
        }

    base = "/api/cases/{case_id}/session"
    return {
        base: {
            "get": _op(
                "The session's state (derived from its records)",
                "judge, clerk, mediator, the room's kiosk, or a party token",
                ok=state,
            ),
            "parameters": case_id,
        },
        f"{base}/check-in": post(
            "Kiosk self-test results",
            "the room's kiosk",
            {k: {"type": "boolean"} for k in ("camera", "microphone", "network")},
        ),
        f"{base}/admit": post("Record the admission from the lobby", "the assigned judge", {}),
        f"{base}/identity": post(
            "Record a party's identity check",
            "the assigned judge",
            {
                **party,
                "method": {"enum": ["id_card_camera", "id_photo", "identity_platform"]},
                "result": {"enum": ["passed", "failed"]},
                "reference": {"type": "string"},
                "note": {"type": "string"},
            },
        ),
        f"{base}/warning-ack": post(
            "A party acknowledged the sham-mediation warning",
            "the room's kiosk, or the party's token",
            party,
        ),
        f"{base}/consent": post(
            "A party confirms at the kiosk", "the room's kiosk, or the party's token", party
        ),
        f"{base}/answers": post(
            "Record a party's spoken answers",
            "the assigned judge",
            {
                **party,
                "agreed_freely": {"type": "boolean"},
                "understands": {"type": "boolean"},
                "note": {"type": "string"},
            },
        ),
        f"{base}/review": post(
            "Answer the Interp 358 checklist", "the assigned judge", {"items": {"type": "object"}}
        ),
        f"{base}/reconvene": post(
            "Open the next session (identity is checked again)", "the assigned judge", {}
        ),
        f"{base}/without-recording": post(
            "Go on while nothing records the hearing, giving the reason (audited, stated in the "
            "transcript): identity checks, answers and the decision, refused with 409 "
            "not_recording until then, are allowed until the recording stops again. 409 "
            "recording while a run records",
            "the assigned judge",
            _obj(reason={"type": "string", "maxLength": 500}),
        ),
        "/api/cases/{case_id}/party-codes": {
            "post": _op(
                "A one-time join code for a party on their own device (shown once): before "
                "or during the hearing, and after the decision until the party has signed for "
                "the ruling (409 already_acknowledged once they have)",
                "the case's mediator",
                _obj(party={"type": "integer"}),
                status="201",
            ),
            "parameters": case_id,
        },
        "/api/join": {
            "post": _op(
                "Exchange a one-time code for a party token",
                "anyone",
                _obj(code={"type": "string"}),
            )
        },
        "/api/cases/{case_id}/timeline": {
            "get": _op("Every timestamped step of the case", "the case's people"),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/transcript.pdf": {
            "get": _transcript_op(),
            "parameters": case_id,
        },
    }


def _transcript_op() -> dict[str, Any]:
    operation = _op(
        "The signed electronic transcript (笔录): once the ruling is issued, the transcript "
        "archived with it (the same bytes every time); before, a draft signed on demand",
        "judge, clerk (audited)",
        media="application/pdf",
    )
    operation["responses"]["200"]["headers"] = {
        "X-Sifa-Transcript": {
            "description": "archived: issued with the ruling; draft: rendered at this request",
            "schema": {"enum": ["archived", "draft"]},
        },
        "X-Sifa-Transcript-SHA256": {
            "description": "the SHA-256 of the body (for an archived one, as recorded at issue)",
            "schema": {"type": "string"},
        },
    }
    return operation


def _recording_paths(case_id: list[dict[str, Any]]) -> dict[str, Any]:
    base = "/api/cases/{case_id}/recording"
    judge = "the assigned judge"
    segment = {"name": "segment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        base: {
            "get": _op(
                "Recording state, runs, segments and the timeline with gaps",
                "the assigned judge, clerks of the court",
            ),
            "parameters": case_id,
        },
        f"{base}/start": {"post": _op("Start recording the room", judge), "parameters": case_id},
        f"{base}/restart": {"post": _op("Restart after a failure", judge), "parameters": case_id},
        f"{base}/stop": {"post": _op("Stop recording", judge), "parameters": case_id},
        f"{base}/segments/{{segment_id}}/media": {
            "get": _op(
                "One segment's MP4 (range requests)",
                "the assigned judge, clerks",
                media="video/mp4",
            ),
            "parameters": [*case_id, segment],
        },
    }


_ROLE = {"enum": [r.value for r in ACCOUNT_ROLES]}
_ACCOUNT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "role": _ROLE,
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "court": {"type": ["string", "null"], "description": "court code (judges, clerks)"},
        "court_name": {"type": ["string", "null"]},
        "committee": {"type": ["string", "null"], "description": "committee name (mediators)"},
        "room": {"type": ["string", "null"], "description": "room name (kiosks)"},
    },
}


def _admin_paths() -> dict[str, Any]:
    """The accounts console (app/services/admin.py) and the own-password change."""
    admin = "admin"
    account_id = [
        {"name": "account_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    password = {"type": "string", "minLength": MIN_LENGTH}
    listing = _op(
        "Every account with what it is bound to, and the courts, committees and rooms an "
        "account can be bound to; filter with ?role=",
        admin,
        ok=_obj(
            accounts={"type": "array", "items": _ACCOUNT},
            bindings=_obj(
                courts={
                    "type": "array",
                    "items": _obj(code={"type": "string"}, name={"type": "string"}),
                },
                committees={"type": "array", "items": {"type": "string"}},
                rooms={
                    "type": "array",
                    "items": _obj(name={"type": "string"}, hall={"type": "string"}),
                },
            ),
        ),
    )
    listing["parameters"] = [{"name": "role", "in": "query", "schema": {"enum": _ROLE["enum"]}}]
    return {
        "/api/admin/accounts": {
            "get": listing,
            "post": _op(
                "Add an account (audited account.created). Judges and clerks need a court "
                "code, mediators a committee name, kiosks a room name; a wrong or missing one "
                "is 422, a user name in use 409 username_taken",
                admin,
                {
                    "type": "object",
                    "required": ["username", "role", "password"],
                    "properties": {
                        "username": {"type": "string", "pattern": "^\\w{1,50}$"},
                        "display_name": {"type": "string", "maxLength": 50},
                        "role": _ROLE,
                        "password": password,
                        "court": {"type": "string", "example": "粤0311"},
                        "committee": {"type": "string"},
                        "room": {"type": "string"},
                    },
                },
                _ACCOUNT,
                "201",
            ),
        },
        "/api/admin/accounts/{account_id}/active": {
            "post": _op(
                "Deactivate (every session of the account ends at once; audited "
                "account.deactivated) or reactivate (account.reactivated). Administrators "
                "cannot deactivate themselves (403 own_account)",
                admin,
                _obj(active={"type": "boolean"}),
                _ACCOUNT,
            ),
            "parameters": account_id,
        },
        "/api/admin/accounts/{account_id}/logout": {
            "post": _op(
                "End every login session of the account, changing nothing else (audited "
                "account.logged_out): how a room's kiosk, which offers no log-out on its public "
                "screen, is logged out. Not one's own (403 own_account)",
                admin,
                _obj(),
                _ACCOUNT,
            ),
            "parameters": account_id,
        },
        "/api/admin/accounts/{account_id}/password": {
            "post": _op(
                "Reset a password (audited account.password_reset); the account's sessions "
                "end. Not one's own (403 own_account: use /api/account/password)",
                admin,
                _obj(password=password),
                _ACCOUNT,
            ),
            "parameters": account_id,
        },
        "/api/account/password": {
            "post": _op(
                "Change one's own password with the current one. A wrong one is 422, audited "
                "(account.password_change_failed) and counted like a failed login (429 "
                "too_many_attempts after three); the account's other sessions end, this one "
                "stays (audited account.password_changed)",
                "every logged-in account but kiosks (their password is reset by the admin)",
                _obj(current_password={"type": "string"}, new_password=password),
                _obj(ok={"const": True}, sessions_ended={"type": "integer"}),
            )
        },
    }


def document() -> dict[str, Any]:
    case_id = [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    paths: dict[str, Any] = {
        "/api/openapi.json": {"get": _op("This document", "anyone")},
        "/api/login": {
            "post": _op(
                "Log in; sets an HttpOnly cookie and returns a bearer token and CSRF token",
                "anyone",
                _obj(username={"type": "string"}, password={"type": "string"}),
            )
        },
        "/api/logout": {"post": _op("End the session", "logged in")},
        "/api/me": {"get": _op("The caller's account", "logged in")},
        "/api/cases": {
            "post": _op("File a joint application (draft)", "mediator", _APPLICATION, _CASE, "201"),
            "get": _op("Cases the caller may see; filter with ?state=", "every role but admin"),
        },
        "/api/cases/{case_id}": {
            "get": _op("One case, ID numbers masked", "the case's people", ok=_CASE),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/materials": {
            "post": {
                **_op(
                    "Upload a PDF, JPEG or PNG (type checked by content, SHA-256 kept)",
                    "the case's mediator, in draft or submitted",
                    status="201",
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _obj(
                                category={"enum": [c.value for c in Category]},
                                file={"type": "string", "format": "binary"},
                            )
                        }
                    },
                },
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/materials/{material_id}": {
            "get": _op("Download a material (audited)", "the case's people"),
            "parameters": [
                *case_id,
                {
                    "name": "material_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
            ],
        },
        "/api/cases/{case_id}/submit": {
            "post": _op("Submit to the court", "mediator", ok=_CASE),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/accept": {
            "post": _op(
                "Accept, assign a judge; the case number is given",
                "clerk of the court",
                _obj(judge_id={"type": "integer"}),
                _CASE,
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/decline": {
            "post": _op(
                "Do not accept (Interp 355)",
                "clerk of the court",
                _obj(ground={"enum": [g.value for g in DeclineGround]}, note={"type": "string"}),
                _CASE,
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/return": {
            "post": _op(
                "Return for missing materials (Interp 354)",
                "clerk of the court",
                _obj(note={"type": "string"}),
                _CASE,
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/schedule": {
            "post": _op(
                "Book a confirmation room and time",
                "clerk of the court",
                _obj(
                    room_id={"type": "integer"},
                    scheduled_at={"type": "string", "format": "date-time"},
                ),
                _CASE,
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/reveal-id": {
            "post": _op(
                "Show one party's ID number in full (audited)",
                "judge, clerk or mediator of the case",
                _obj(party={"type": "integer"}),
            ),
            "parameters": case_id,
        },
        "/api/court/people": {"get": _op("Judges and rooms of the clerk's court", "clerk")},
        "/api/cases/{case_id}/room-token": {
            "post": {
                **_op(
                    "A short-lived signed token for the case's video room, with the WebSocket URL "
                    "and ICE servers. A party's own device sends X-Party-Token instead of logging "
                    "in: it gets its own seat (party-{case_id}-{position}) under the party's name, "
                    "never longer than its pass lives, and its self-test goes to the audit trail",
                    "the assigned judge, the room's kiosk, the mediator, clerks, or a party token "
                    "(its own case only; any other case answers 404)",
                    ok=_obj(
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
                ),
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "self_test": {
                                        **_obj(
                                            camera={"type": "boolean"},
                                            microphone={"type": "boolean"},
                                            network={"type": "boolean"},
                                        ),
                                        "description": "optional: the party device's camera, "
                                        "microphone and network check, recorded with its entry",
                                    }
                                },
                            }
                        }
                    },
                },
                "security": _WITH_PARTY,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/open-session": {
            "post": _op("Open the online session", "the assigned judge", ok=_CASE),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/decision": {
            "post": _op(
                "Decide: confirm, reject on an Interp 358 ground, or allow withdrawal",
                "the assigned judge",
                {
                    "type": "object",
                    "required": ["decision"],
                    "properties": {
                        "decision": {"enum": ["confirm", "reject", "withdraw"]},
                        "ground": {"enum": [g.value for g in RejectGround]},
                        "reasons": {"type": "string"},
                    },
                },
                _CASE,
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/ruling": {
            "post": _op(
                "Render, sign and issue the ruling (201); asking again returns it (200)",
                "the assigned judge, after the decision",
                ok=_RULING,
                status="201",
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/ruling.pdf": {
            "get": {
                **_op(
                    "The signed ruling (audited); a party's own device reads it there before "
                    "acknowledging receipt",
                    "the case's people, or a party token (its own case only)",
                    media="application/pdf",
                ),
                "security": _WITH_PARTY,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/ruling/draft": {
            "get": _op(
                "The ruling as it would be issued now, for the judge to read before signing: "
                "blocks as in ruling/screen (ID numbers masked), the QR line without an address "
                "(drawn at issue). 409 before the decision and once issued (already_issued)",
                "the assigned judge",
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/ruling/screen": {
            "get": {
                **_op(
                    "The ruling as shared screens show it (audited): the issued text as blocks "
                    "(kind and text, or kind, left and right), every ID number masked, unsigned; "
                    "the original PDF stays the served document. 404 for a ruling issued before "
                    "screen copies existed",
                    "the case's people, or a party token (its own case only)",
                ),
                "security": _WITH_PARTY,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/bundle.zip": {
            "get": _op(
                "The case bundle: ruling, transcript, vouchers, materials, audit records, "
                "manifest, SHA256SUMS and its CMS signature by the court (SHA256SUMS.p7s)",
                "clerks of the court",
                media="application/zip",
            ),
            "parameters": case_id,
        },
        **_session_paths(case_id),
        **service_paths(_op, case_id, _WITH_PARTY),
        **transcript_review_paths(_op, case_id, _WITH_PARTY),
        **_recording_paths(case_id),
        **_admin_paths(),
        **org_admin_paths(_op),
        "/api/board": {"get": _op("Today's rooms: case, step, elapsed time, connection", "clerk")},
        "/api/rulings": {
            "get": {
                **_op("Issued rulings the caller may see", "every role but admin", ok=_RULING),
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": "string"}}
                    for n in ("case_number", "party", "from", "to", "outcome")
                ],
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Sifa API",
            "version": "1",
            "description": "Online judicial confirmation of people's mediation agreements. "
            "Cookie sessions must send X-CSRF-Token on changes; bearer tokens need not. "
            "JSON bodies are application/json (else 415), at most 256 KiB (else 413), nest at "
            "most 32 deep and hold no control character or lone surrogate and no integer past "
            "64 bits (else 400). Ids are canonical decimals (else 404 in a path, 422 in a body).",
        },
        "components": {
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
            }
        },
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": paths,
    }


async def serve(_request: web.Request) -> web.Response:
    return web.json_response(document())


def routes() -> list[web.RouteDef]:
    return [web.get("/api/openapi.json", serve)]
