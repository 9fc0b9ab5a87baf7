"""The mediation agreement (app/web/agreement_api.py) in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec

from app.domain.bodies import mediation as bodies
from app.domain.mediation_agreement import AgreementStatus
from app.web.openapi.common import obj, op, path_ids

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
AGREEMENT = {
    "type": "object",
    "properties": {
        "status": {"enum": [*(s.value for s in AgreementStatus), None]},
        "version": {"type": "integer", "description": "the draft's version; 0 before a draft"},
        "digest": {
            "type": ["string", "null"],
            "description": "SHA-256 of the frozen text, which every signature commits to",
        },
        "blocks": {"type": "array", "description": "the text as a screen shows it, IDs masked"},
        "parties": {"type": "array"},
        "signatures": {"type": "array", "description": "every signature, `counts` when current"},
        "effective_at": _NULLABLE_TIME,
        "confirmation_deadline": _NULLABLE_TIME,
    },
}
MEDIATOR = "the assigned mediator"
KIOSK = "a kiosk of one of the committee's halls, the party in front of it"


def agreement_paths() -> dict[str, Any]:
    one = "/api/mediations/{mediation_id}/agreement"
    mediation_id = path_ids("mediation_id")

    def post(
        summary: str, roles: str, body: type[msgspec.Struct] | None, status: str = "200"
    ) -> dict[str, Any]:
        return {"post": op(summary, roles, body, AGREEMENT, status), "parameters": mediation_id}

    code = obj(
        party={"type": "integer"},
        sent_to={"type": "string"},
        expires_at={"type": "string", "format": "date-time"},
    )
    return {
        one: {
            "get": op(
                "The agreement: status, draft, its text as screens show it, signatures",
                f"the committee's mediators, or {KIOSK}",
                ok=AGREEMENT,
            ),
            "parameters": mediation_id,
        },
        f"{one}/draft": post(
            "Save a new version of the draft (art 29); over a frozen text it voids every "
            "signature (409 stale_draft when base_version is not the latest)",
            MEDIATOR,
            bodies.AgreementDraftBody,
        ),
        f"{one}/freeze": post(
            "Fix the text for signing: its digest is what every signature commits to",
            MEDIATOR,
            bodies.FreezeAgreement,
        ),
        f"{one}/sign-code": {
            "post": op(
                "Text a one-time code to the party's own phone on record, to sign with (202; "
                "once a minute, else 429)",
                KIOSK,
                bodies.SignCodeRequest,
                code,
                "202",
            ),
            "parameters": mediation_id,
        },
        f"{one}/party-signatures": post(
            "A party signs the frozen text by hand with their phone's code, and may apply for "
            "judicial confirmation with it (art 33); on their own phone, with its pass "
            "(X-Mediation-Pass) instead of a code (body SignsOnDevice), for that party only; "
            "409 until every check of the party is made, 409 agreement_changed when the text "
            "changed, 409 time_limit_passed after the mediation's limit",
            f"{KIOSK}; a party's own phone",
            bodies.PartySigns,
            "201",
        ),
        f"{one}/mediator-signature": post(
            "The mediator signs, after every party", MEDIATOR, bodies.MediatorSigns, "201"
        ),
        f"{one}/seal": post(
            "The committee seals: the PDF with every signature, PAdES-signed with the "
            "committee's key; in effect from now, the mediation agreed",
            MEDIATOR,
            None,
            "201",
        ),
        "/api/mediations/{mediation_id}/confirmation": {
            "post": op(
                "One tap to judicial confirmation (art 33): the application filled in from the "
                "sealed agreement (parties, terms, its date and committee), the sealed PDF as "
                "its agreement, submitted to the court; every party must have applied when "
                "signing (409 otherwise), and only once (409 already_applied)",
                MEDIATOR,
                None,
                obj(case_id={"type": "integer"}, state={"type": "string"}, page={"type": "string"}),
                "201",
            ),
            "parameters": mediation_id,
        },
        "/api/kiosk/agreements": {
            "get": op(
                "The kiosk's hall's committee's mediations in session, each `frozen` when its "
                "agreement waits to be signed, for its home page",
                "a kiosk",
                ok=obj(agreements={"type": "array"}),
            )
        },
        "/api/mediations/{mediation_id}/agreement.pdf": {
            "get": op(
                "The sealed agreement",
                f"the committee's mediators, or {KIOSK}, or a party's phone with its pass",
                media="application/pdf",
            ),
            "parameters": mediation_id,
        },
        "/api/mediations/{mediation_id}/transcript.pdf": {
            "get": op(
                "The session's transcript (调解笔录), sealed with the agreement: every line from "
                "a record of the session",
                f"the committee's mediators, or {KIOSK}, or a party's phone with its pass",
                media="application/pdf",
            ),
            "parameters": mediation_id,
        },
    }
