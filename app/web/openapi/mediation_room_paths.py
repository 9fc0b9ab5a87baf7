"""The video mediation session (app/web/mediation_room_api.py) in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.domain.bodies import mediation as bodies
from app.web.openapi.common import obj, op, path_ids

HOST = "the assigned mediator"
ANYONE_IN_IT = (
    "the assigned mediator; a kiosk of one of the committee's halls; a party's own phone with "
    "its pass (header X-Mediation-Pass)"
)
SESSION = obj(
    mediation={"type": "integer"},
    state={"type": "string"},
    parties={"type": "array", "description": "each party's checks done and next, names masked"},
    checks={"type": "object", "description": "what each check says, in Chinese and English"},
    change_requests={"type": "array"},
)


def mediation_room_paths() -> dict[str, Any]:
    one = "/api/mediations/{mediation_id}"
    mediation_id = path_ids("mediation_id")
    return {
        f"{one}/room-token": {
            "post": op(
                "A short-lived token to join the mediation's signaling room (room key "
                "2^30 + the mediation's id), hosted by the mediator; 409 unless in session",
                ANYONE_IN_IT,
                ok=obj(token={"type": "string"}, room_key={"type": "integer"}),
            ),
            "parameters": mediation_id,
        },
        f"{one}/join-code": {
            "post": op(
                "Text a party a code to join the session on their own phone (202; once a "
                "minute per phone, else 429)",
                HOST,
                bodies.SignCodeRequest,
                obj(sent_to={"type": "string"}, expires_at={"type": "string"}),
                "202",
            ),
            "parameters": mediation_id,
        },
        f"{one}/join": {
            "post": op(
                "A party's phone redeems the texted code for a pass to this mediation, for "
                "that party only",
                "anyone holding the code",
                bodies.JoinWithCode,
                obj(**{"pass": {"type": "string"}, "party": {"type": "integer"}}),
                "201",
            ),
            "parameters": mediation_id,
        },
        f"{one}/session": {
            "get": op("Each party's checks and the parties' requests", ANYONE_IN_IT, ok=SESSION),
            "parameters": mediation_id,
        },
        f"{one}/checks": {
            "post": op(
                "One check of one party, in order: identity (the mediator's), then consent, "
                "rights (art 23) and the sham-mediation warning (the party's own taps)",
                ANYONE_IN_IT,
                bodies.RecordCheck,
                SESSION,
                "201",
            ),
            "parameters": mediation_id,
        },
        f"{one}/change-requests": {
            "post": op(
                "A party asks the mediator to change the draft; every screen shows it",
                "a kiosk, for a party sitting there; a party's own phone, for that party",
                bodies.ChangeRequest,
                obj(party={"type": "integer"}, text={"type": "string"}),
                "201",
            ),
            "parameters": mediation_id,
        },
    }
