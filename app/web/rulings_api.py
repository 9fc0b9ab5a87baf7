"""Decision, issuing and retrieval of rulings: JSON API and downloads (service: service_api)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aiohttp import web

from app.domain import refusals
from app.domain.bodies.cases import Decision
from app.domain.errors import NotFound, ValidationError
from app.keys import Services, services
from app.recording.routing import RECORDING_CONTROL
from app.ruling.marks import qr_runs
from app.services import audit, bundle, rulings, session_records
from app.services.session_records import PartyPass
from app.store.models import Case, Ruling, Transcript
from app.web.api import _step
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.room_look import room_look, room_records_settled
from app.web.session_api import caller_or_party


def transcript_json(transcript: Transcript | None) -> dict[str, Any] | None:
    if transcript is None:
        return None
    return {
        "sha256": transcript.sha256,
        "size": transcript.size,
        "signer_cert_sha256": transcript.signer_cert_sha256,
        "created_at": transcript.created_at.isoformat(),
        "download": f"/api/cases/{transcript.case_id}/transcript.pdf",
    }


def ruling_json(
    ruling: Ruling, svc: Services, transcript: Transcript | None = None
) -> dict[str, Any]:
    return {
        "case_id": ruling.case_id,
        "outcome": ruling.outcome,
        "sha256": ruling.sha256,
        "size": ruling.size,
        "signer_cert_sha256": ruling.signer_cert_sha256,
        "signature_level": ruling.signature_level,
        "issued_at": ruling.issued_at.isoformat(),
        "verify_url": rulings.verification_url(svc.settings.public_url, ruling.verify_token),
        "download": f"/api/cases/{ruling.case_id}/ruling.pdf",
        "transcript": transcript_json(transcript),
    }


async def open_session(request: web.Request) -> web.Response:
    response = await _step(request, lambda s, a, i, b, now: rulings.open_session(s, a, i, now))
    # The court records the whole session: the hidden recorder joins the room now.
    who = require_caller(request)
    await request.app[RECORDING_CONTROL].start(path_id(request), who.actor.username)
    return response


async def decision(request: web.Request) -> web.Response:
    room = await room_look(request, path_id(request))
    return await _step(
        request,
        lambda s, a, i, b, now: rulings.decide(s, a, i, b, now, room=room),
        Decision,
    )


async def issue(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    await room_records_settled(request)
    result = await rulings.issue(
        svc.db,
        svc.desk,
        svc.cipher,
        who.actor,
        path_id(request),
        folder=svc.settings.rulings_dir,
        public_url=svc.settings.public_url,
        now=svc.clock(),
    )
    body = ruling_json(result.ruling, svc, result.transcript)
    return web.json_response(body, status=201 if result.created else 200)


async def ruling_draft(request: web.Request) -> web.Response:
    """The judge's preview between the decision and signing (ID numbers masked, unsigned)."""
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case, blocks = await rulings.draft(
            session,
            svc.desk,
            svc.cipher,
            who.actor,
            path_id(request),
            public_url=svc.settings.public_url,
            now=svc.clock(),
        )
    return web.json_response(
        {"case_number": case.case_number, "draft": True, "masked": True, "blocks": blocks}
    )


async def _pdf(svc: Services, path: str, name: str) -> web.Response:
    data = (svc.settings.rulings_dir / path).read_bytes()
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


async def _shown_ruling(
    request: web.Request, action: str, *, screen: bool = False
) -> tuple[Case, Ruling]:
    """The case's people, and a party's own device (X-Party-Token) for its own case: the
    ruling is served there, so the party must be able to read it before acknowledging.
    Each reading is audited: which copy, and on whose device."""
    who = caller_or_party(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await session_records.case_for(session, who, path_id(request))
        ruling = await rulings.ruling_of(session, case.id)
        if ruling is None:
            raise NotFound("该案尚未出具裁定。 / No ruling has been issued in this case.")
        if screen and ruling.screen_text is None:
            raise NotFound(
                "该裁定书没有屏幕显示件，请打印或下载原件阅读。"
                " / This ruling has no screen copy: print or download the original to read it."
            )
        details: dict[str, Any] = {"sha256": ruling.sha256}
        if isinstance(who, PartyPass):
            details |= {"party": who.party, "device": "own_device"}
        await audit.append(
            session,
            actor=who.username,
            action=action,
            case_id=case.id,
            details=details,
            now=svc.clock(),
        )
    return case, ruling


async def ruling_pdf(request: web.Request) -> web.Response:
    case, ruling = await _shown_ruling(request, "ruling.downloaded")
    return await _pdf(services(request), ruling.storage_name, f"ruling-{case.id}.pdf")


async def ruling_screen(request: web.Request) -> web.Response:
    """The screen copy (app/ruling/screen.py): the issued text, ID numbers masked."""
    case, ruling = await _shown_ruling(request, "ruling.displayed", screen=True)
    assert ruling.screen_text is not None
    svc = services(request)
    blocks = json.loads(ruling.screen_text)
    for block in blocks:
        # The QR code the line mentions, drawn by the page: the same address (and the same
        # modules) as the signed original's, which the ruling PDF drew from this block at issue.
        if block["kind"] == "qr" and str(block["right"]).startswith(("http://", "https://")):
            size, runs = qr_runs(block["right"])
            block["qr"] = {"size": size, "runs": [list(run) for run in runs]}
    return web.json_response(
        {
            "case_number": case.case_number,
            "outcome": ruling.outcome,
            "issued_at": ruling.issued_at.isoformat(),
            "sha256": ruling.sha256,
            "verify_url": rulings.verification_url(svc.settings.public_url, ruling.verify_token),
            "masked": True,
            "blocks": blocks,
        }
    )


def parse_search(query: Any) -> rulings.RulingSearch:
    def day(key: str) -> dt.date | None:
        raw = query.get(key, "").strip()
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError([(key, refusals.NOT_A_DATE)]) from None

    outcome = query.get("outcome", "").strip()
    if outcome and outcome not in rulings.OUTCOME.values():
        raise ValidationError([("outcome", refusals.one_of(rulings.OUTCOME.values()))])
    return rulings.RulingSearch(
        case_number=query.get("case_number", "")[:40],
        party=query.get("party", "")[:50],
        date_from=day("from"),
        date_to=day("to"),
        outcome=outcome,
    )


async def search(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    criteria = parse_search(request.query)
    async with svc.db.transaction() as session:
        rows = (await session.execute(rulings.search_query(who.actor, criteria))).all()
        transcripts = await rulings.transcripts_of(session, [c.id for c, _ in rows])
    return web.json_response(
        {
            "rulings": [
                {
                    **ruling_json(r, svc, transcripts.get(c.id)),
                    "case_number": c.case_number,
                    "applicants": [p.name for p in c.parties],
                }
                for c, r in rows
            ]
        }
    )


async def case_bundle(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        name, data = await bundle.build_bundle(
            session,
            who.actor,
            path_id(request),
            rulings_dir=svc.settings.rulings_dir,
            materials_dir=svc.settings.materials_dir,
            cipher=svc.cipher,
            keys=svc.desk.keys,
            recordings_dir=svc.settings.recordings_dir,
            now=svc.clock(),
        )
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/cases/{case_id}/open-session", open_session),
        web.post("/api/cases/{case_id}/decision", decision),
        web.post("/api/cases/{case_id}/ruling", issue),
        web.get("/api/cases/{case_id}/ruling.pdf", ruling_pdf),
        web.get("/api/cases/{case_id}/ruling/screen", ruling_screen),
        web.get("/api/cases/{case_id}/ruling/draft", ruling_draft),
        web.get("/api/cases/{case_id}/bundle.zip", case_bundle),
        web.get("/api/rulings", search),
    ]
