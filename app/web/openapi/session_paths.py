"""The live session's operations in the OpenAPI document: identity, consent, answers and
review records (app/web/session_api.py), and the recording (app/web/recording_api.py)."""

from __future__ import annotations

from typing import Any

import msgspec

from app.domain.bodies import session as bodies
from app.web.openapi.common import CASE_ID, op, path_ids
from app.web.openapi.responses import SESSION_STATE


def _record(summary: str, roles: str, body: type[msgspec.Struct] | None) -> dict[str, Any]:
    return {"post": op(summary, roles, body, SESSION_STATE), "parameters": CASE_ID}


def session_paths() -> dict[str, Any]:
    base = "/api/cases/{case_id}/session"
    judge = "the assigned judge"
    party_side = "the room's kiosk, or the party's token"
    return {
        base: {
            "get": op(
                "The session's state (derived from its records)",
                "judge, clerk, mediator, the room's kiosk, or a party token",
                ok=SESSION_STATE,
            ),
            "parameters": CASE_ID,
        },
        f"{base}/check-in": _record("Kiosk self-test results", "the room's kiosk", bodies.SelfTest),
        f"{base}/admit": _record("Record the admission from the lobby", judge, None),
        f"{base}/identity": _record("Record a party's identity check", judge, bodies.Identity),
        f"{base}/warning-ack": _record(
            "A party acknowledged the sham-mediation warning", party_side, bodies.ForParty
        ),
        f"{base}/consent": _record("A party confirms at the kiosk", party_side, bodies.ForParty),
        f"{base}/answers": _record("Record a party's spoken answers", judge, bodies.Answers),
        f"{base}/review": _record("Answer the Interp 358 checklist", judge, bodies.Review),
        f"{base}/reconvene": _record(
            "Open the next session (identity is checked again)", judge, None
        ),
        f"{base}/without-recording": _record(
            "Go on while nothing records the hearing, giving the reason (audited, stated in the "
            "transcript): identity checks, answers and the decision, refused with 409 "
            "not_recording until then, are allowed until the recording stops again. 409 "
            "recording while a run records",
            judge,
            bodies.WithoutRecording,
        ),
        "/api/cases/{case_id}/party-codes": {
            "post": op(
                "A one-time join code for a party on their own device (shown once): before "
                "or during the hearing, and after the decision until the party has signed for "
                "the ruling (409 already_acknowledged once they have)",
                "the case's mediator",
                bodies.NamedParty,
                status="201",
            ),
            "parameters": CASE_ID,
        },
        "/api/join": {
            "post": op("Exchange a one-time code for a party token", "anyone", bodies.Join)
        },
        "/api/cases/{case_id}/timeline": {
            "get": op("Every timestamped step of the case", "the case's people"),
            "parameters": CASE_ID,
        },
        "/api/cases/{case_id}/transcript.pdf": {"get": _transcript_op(), "parameters": CASE_ID},
    }


def _transcript_op() -> dict[str, Any]:
    operation = op(
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


def recording_paths() -> dict[str, Any]:
    base = "/api/cases/{case_id}/recording"
    judge = "the assigned judge"
    return {
        base: {
            "get": op(
                "Recording state, runs, segments and the timeline with gaps",
                "the assigned judge, clerks of the court",
            ),
            "parameters": CASE_ID,
        },
        f"{base}/start": {"post": op("Start recording the room", judge), "parameters": CASE_ID},
        f"{base}/restart": {"post": op("Restart after a failure", judge), "parameters": CASE_ID},
        f"{base}/stop": {"post": op("Stop recording", judge), "parameters": CASE_ID},
        f"{base}/segments/{{segment_id}}/media": {
            "get": op(
                "One segment's MP4 (range requests)",
                "the assigned judge, clerks",
                media="video/mp4",
            ),
            "parameters": [*CASE_ID, *path_ids("segment_id")],
        },
    }
