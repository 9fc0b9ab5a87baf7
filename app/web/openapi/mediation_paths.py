"""The mediation cases (app/web/mediation_api.py) in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import msgspec

from app.domain.bodies import mediation as bodies
from app.domain.mediation import MediationState, MediationStep, Urgency
from app.web.openapi.common import obj, op, path_ids

MEDIATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "state": {"enum": [s.value for s in MediationState]},
        "time_limit": obj(
            due_at={"type": ["string", "null"], "format": "date-time"},
            days_left={"type": ["integer", "null"]},
            urgency={"enum": [u.value for u in Urgency]},
        ),
        "steps": {"type": "array", "items": {"enum": [s.value for s in MediationStep]}},
        "termination": {
            "type": ["string", "null"],
            "description": "where a failed mediation's sealed termination record is",
        },
        "notice": {
            "type": ["array", "null"],
            "description": "a failed mediation's notice to the parties (art 26), zh and en",
        },
    },
}
MEDIATORS = "a mediator of the committee (once one is assigned, that mediator)"


def mediation_paths() -> dict[str, Any]:
    one = "/api/mediations/{mediation_id}"
    mediation_id = path_ids("mediation_id")

    def step(summary: str, body: type[msgspec.Struct] | None = None) -> dict[str, Any]:
        return {"post": op(summary, MEDIATORS, body, MEDIATION), "parameters": mediation_id}

    public = "anyone (no login): a party of the dispute"
    code_op = op(
        "Send a one-time code by SMS to the phone of the party about to file (202); a new one "
        "for the same phone at most once a minute (else 429 with Retry-After)",
        public,
        bodies.CodeRequest,
        obj(sent_to={"type": "string"}, expires_at={"type": "string", "format": "date-time"}),
        "202",
    )
    filing_op = op(
        "A party files a dispute for mediation: the code proves the phone, which must be one "
        "of the parties' own; a wrong or spent code is 400 code_refused, five wrong tries end it",
        public,
        bodies.PartyFiling,
        obj(
            id={"type": "integer"},
            state={"enum": [MediationState.FILED.value]},
            filed_at={"type": "string", "format": "date-time"},
            message={"type": "string"},
        ),
        "201",
    )
    for operation in (code_op, filing_op):
        operation["security"] = []
    return {
        "/api/mediation-requests/code": {"post": code_op},
        "/api/mediation-requests": {"post": filing_op},
        "/api/mediations": {
            "get": op(
                "The committee's mediations, open ones first, each with its time limit",
                "a mediator",
                ok=obj(mediations={"type": "array", "items": MEDIATION}),
            ),
            "post": op(
                "File a dispute for mediation (audited mediation.filed)",
                "a mediator",
                bodies.NewMediation,
                MEDIATION,
                "201",
            ),
        },
        one: {"get": op("One mediation", MEDIATORS, ok=MEDIATION), "parameters": mediation_id},
        f"{one}/accept": step(
            "The committee accepts the dispute and assigns a mediator; the 30-day limit starts",
            bodies.AcceptMediation,
        ),
        f"{one}/schedule": step("Set or move the session's time", bodies.ScheduleMediation),
        f"{one}/start": step("Open the mediation session"),
        f"{one}/agree": step("The parties reached an agreement"),
        f"{one}/fail": step(
            "End it without agreement: the termination record (art 26) is sealed with it",
            bodies.EndMediation,
        ),
        f"{one}/termination.pdf": {
            "get": op(
                "A failed mediation's termination record, sealed by the committee",
                MEDIATORS,
                media="application/pdf",
            ),
            "parameters": mediation_id,
        },
        f"{one}/withdraw": step("A party asks to end the mediation (art 23)", bodies.PartyEnds),
        f"{one}/refuse": step("A party refuses mediation: it ends (art 17)", bodies.PartyEnds),
    }
