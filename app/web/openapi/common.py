"""The pieces every operation of the OpenAPI document is built from: the error shape, path
parameters and `op`, which takes a request body as its model (app/domain/bodies)."""

from __future__ import annotations

from typing import Any

import msgspec

from app.domain.ids import MAX_ID
from app.web.openapi.bodies import body_schema

ERROR = {
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
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "problem"],
                        "properties": {
                            "field": {"type": "string", "example": "applicants[0].name"},
                            "problem": {"type": "string", "description": "中文 / English"},
                        },
                    },
                },
                "state": {"type": "string"},
                "step": {"type": "string"},
            },
        }
    },
}

# Operations a party's own device may call with its pass as well as logged-in accounts.
WITH_PARTY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}, {"party": []}]


def path_ids(*names: str, lowest: int = 1) -> list[dict[str, Any]]:
    """Path parameters naming records: canonical decimals within an INTEGER key (else 404)."""
    schema = {"type": "integer", "minimum": lowest, "maximum": MAX_ID}
    return [{"name": n, "in": "path", "required": True, "schema": schema} for n in names]


CASE_ID = path_ids("case_id")
POSITION = path_ids("position", lowest=0)[0]


def op(
    summary: str,
    roles: str,
    body: type[msgspec.Struct] | None = None,
    ok: dict[str, Any] | None = None,
    status: str = "200",
    media: str | tuple[str, ...] = "application/json",
) -> dict[str, Any]:
    """An operation: who may call it, its body's model, and what it answers (several media
    types for a download that is served as the file's own type)."""
    kinds = (media,) if isinstance(media, str) else media
    operation: dict[str, Any] = {
        "summary": summary,
        "description": f"Allowed: {roles}.",
        "responses": {
            status: {
                "description": "OK",
                "content": {kind: {"schema": ok or {}} for kind in kinds},
            },
            "4XX": {"description": "Refused", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if body is not None:
        operation["requestBody"] = body_schema(body)
    return operation


def obj(**props: Any) -> dict[str, Any]:
    """A response object whose every property is always there."""
    return {"type": "object", "required": list(props), "properties": props}
