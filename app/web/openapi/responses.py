"""What the API answers with, as schemas shared by several operations."""

from __future__ import annotations

from typing import Any

from app.domain.cases import State
from app.domain.roles import ACCOUNT_ROLES

CASE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "state": {"enum": [s.value for s in State]},
        "case_number": {"type": ["string", "null"], "example": "（2026）粤0311民特1号"},
        "allowed_steps": {"type": "array", "items": {"type": "string"}},
    },
}

RULING = {
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

SESSION_STATE: dict[str, Any] = {
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

ROLE = {"enum": [r.value for r in ACCOUNT_ROLES]}
ACCOUNT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "role": ROLE,
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "court": {"type": ["string", "null"], "description": "court code (judges, clerks)"},
        "court_name": {"type": ["string", "null"]},
        "committee": {"type": ["string", "null"], "description": "committee name (mediators)"},
        "room": {"type": ["string", "null"], "description": "room name (kiosks)"},
    },
}
