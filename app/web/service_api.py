"""Serving the ruling: each party's answer to electronic service, the electronic receipt and
its voucher, and the paper path (the 送达回证 printed at the kiosk, the clerk's record of it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from app.domain import refusals
from app.domain.bodies import service as bodies
from app.domain.bodies.session import ForParty
from app.domain.cases import State
from app.domain.errors import NotFound, ValidationError
from app.keys import services
from app.recording.restart import PAPER_SERVICE, SERVED
from app.recording.routing import RECORDING_CONTROL
from app.services import rulings, serving, session_records
from app.services.session_records import PartyPass, Who
from app.store.models import PaperReceipt
from app.web.decode import read_body, read_later
from app.web.ids import path_id, path_position
from app.web.middleware import require_caller
from app.web.rulings_api import _pdf
from app.web.session_api import _record, caller_or_party
from signaling.server import SERVER_KEY


async def _stop_recording_when_done(request: web.Request, who: Who, case_id: int) -> None:
    """Served on the spot, or the rest asked for paper: the room has nothing left to do, the
    hearing's recording ends and the room closes (every page hangs up: 4010)."""
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await session_records.case_for(session, who, case_id)
        done = await serving.hall_done(session, case)
        served = State(case.state) is State.SERVED
    if done:
        reason = SERVED if served else PAPER_SERVICE
        await request.app[RECORDING_CONTROL].stop(case_id, reason, who.username)
        await request.app[SERVER_KEY].end_room_anywhere(case_id, reason)


async def choose(request: web.Request) -> web.Response:
    response = await _record(request, serving.choose, bodies.ServiceChoice, party_allowed=True)
    await _stop_recording_when_done(request, caller_or_party(request), path_id(request))
    return response


def require_party(party: int | None) -> int:
    """The kiosk acts for the party it names: one of several in the hall."""
    if party is None:
        raise ValidationError([("party", refusals.POSITION)])
    return party


def paper_json(receipt: PaperReceipt) -> dict[str, Any]:
    return {
        "party": receipt.party_position,
        "recipient": receipt.recipient_name,
        "signed_on": receipt.signed_on.isoformat(),
        "recorded_at": receipt.recorded_at.isoformat(),
        "recorded_by": receipt.recorded_by,
        "note": receipt.note,
    }


async def add_paper_receipt(request: web.Request) -> web.Response:
    actor = require_caller(request).actor
    svc = services(request)
    _raw, data = await read_later(request, bodies.PaperReceipt)
    async with svc.db.transaction() as session:
        receipt = await serving.record_paper_receipt(
            session, actor, path_id(request), data, svc.clock()
        )
        body = paper_json(receipt)
    return web.json_response(body, status=201)


async def paper_form(request: web.Request) -> web.Response:
    actor = require_caller(request).actor
    svc = services(request)
    position = path_position(request, "position")
    case_id = path_id(request)
    pdf = await serving.paper_form(svc.db, svc.desk, actor, case_id, position, svc.clock())
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="paper-receipt-{case_id}-{position}.pdf"'
        },
    )


async def add_receipt(request: web.Request) -> web.Response:
    """The room's kiosk for a party in the hall (names the party), or a party's own device for
    itself (the party may be left out; naming another is refused)."""
    who = caller_or_party(request)
    svc = services(request)
    party = (await read_body(request, ForParty)).party
    case_id = path_id(request)
    named = party is not None or not isinstance(who, PartyPass)
    receipt = await serving.acknowledge(
        svc.db,
        svc.desk,
        who,
        case_id,
        require_party(party) if named else None,
        folder=svc.settings.rulings_dir,
        public_url=svc.settings.public_url,
        now=svc.clock(),
    )
    await _stop_recording_when_done(request, who, case_id)
    return web.json_response(receipt_json(receipt, svc.settings.public_url), status=201)


def receipt_json(receipt: Any, public_url: str) -> dict[str, Any]:
    token = receipt.verify_token
    return {
        "party": receipt.party_position,
        "recipient": receipt.recipient_name,
        "acknowledged_at": receipt.acknowledged_at.isoformat(),
        "device": receipt.device,
        "method": receipt.method,
        "voucher_sha256": receipt.voucher_sha256,
        "voucher": f"/api/cases/{receipt.case_id}/vouchers/{receipt.party_position}.pdf",
        # The voucher's own public page; None for vouchers signed before they had one.
        "verify_url": rulings.verification_url(public_url, token) if token else None,
    }


async def list_receipts(request: web.Request) -> web.Response:
    who = caller_or_party(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await session_records.case_for(session, who, path_id(request))
        rows = await serving.receipts_of(session, case.id)
        paper = await serving.paper_receipts_of(session, case.id)
    if isinstance(who, PartyPass):
        # A party's device learns whether it has signed, not where or when the others did.
        rows = [r for r in rows if r.party_position == who.party]
        paper = [r for r in paper if r.party_position == who.party]
    return web.json_response(
        {
            "receipts": [receipt_json(r, svc.settings.public_url) for r in rows],
            "paper_receipts": [paper_json(r) for r in paper],
            "state": case.state,
            "parties": len(case.parties),
        }
    )


async def voucher_pdf(request: web.Request) -> web.Response:
    who = caller_or_party(request)
    svc = services(request)
    position = path_position(request, "position")
    async with svc.db.transaction() as session:
        case = await session_records.case_for(session, who, path_id(request))
        receipt = next(
            (
                r
                for r in await serving.receipts_of(session, case.id)
                if r.party_position == position
            ),
            None,
        )
        # A party's device gets its own voucher; another party's reads as missing.
        if receipt is None or (isinstance(who, PartyPass) and position != who.party):
            raise NotFound("没有该当事人的送达凭证。 / No voucher for that party.")
    return await _pdf(svc, receipt.voucher_storage_name, f"voucher-{case.id}-{position}.pdf")


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/cases/{case_id}/service/choice", choose),
        web.post("/api/cases/{case_id}/receipts", add_receipt),
        web.get("/api/cases/{case_id}/receipts", list_receipts),
        web.get("/api/cases/{case_id}/vouchers/{position}.pdf", voucher_pdf),
        web.post("/api/cases/{case_id}/paper-receipts", add_paper_receipt),
        web.get("/api/cases/{case_id}/paper-forms/{position}.pdf", paper_form),
    ]


def openapi_paths(
    op: Callable[..., dict[str, Any]],
    case_id: list[dict[str, Any]],
    position: dict[str, Any],
    with_party: list[dict[str, list[str]]],
) -> dict[str, Any]:
    """These routes in the OpenAPI document (app/web/openapi/), beside the handlers."""
    return {
        "/api/cases/{case_id}/service/choice": {
            "post": {
                **op(
                    "The party's own answer, in its own tap, to electronic service (在线诉讼规则 "
                    "art 29): true agrees, false asks for paper. Asked once (409 service_chosen); "
                    "not after the party is served (409 already_acknowledged). Returns the session",
                    "the kiosk of the case's room, or a party token (itself only)",
                    bodies.ServiceChoice,
                ),
                "security": with_party,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/receipts": {
            "post": {
                **op(
                    "A party who agreed to electronic service acknowledges receipt; a signed "
                    "service voucher stating when they agreed is made (409 "
                    "service_choice_pending before the answer, paper_service after a no). The "
                    "kiosk names the party present in the hall; a party token acknowledges only "
                    "for its "
                    "own party (party may be left out; another position is refused with 403), "
                    "recorded as electronic service on the party's own device. A second "
                    "acknowledgement of the same party is refused (409 already_acknowledged); "
                    "the last party's completes service",
                    "the kiosk of the case's room, or a party token (itself only)",
                    ForParty,
                    status="201",
                ),
                "security": with_party,
            },
            "get": {
                **op(
                    "Receipts so far, electronic (receipts) and paper (paper_receipts); a party "
                    "token sees only its own",
                    "the case's people, or a party token",
                ),
                "security": with_party,
            },
            "parameters": case_id,
        },
        "/api/cases/{case_id}/vouchers/{position}.pdf": {
            "get": {
                **op(
                    "A party's signed service voucher",
                    "the case's people, or a party token (its own voucher only)",
                    media="application/pdf",
                ),
                "security": with_party,
            },
            "parameters": [*case_id, position],
        },
        "/api/cases/{case_id}/paper-receipts": {
            "post": op(
                "The clerk records the 送达回证 a party who declined electronic service signed: "
                "signed_on (YYYY-MM-DD, from the ruling's issue to today), an optional note. "
                "409 paper_service / electronic_service when the party's answer opens the other "
                "path, already_acknowledged when served; the last party served serves the case",
                "clerks of the court",
                bodies.PaperReceipt,
                status="201",
            ),
            "parameters": case_id,
        },
        "/api/cases/{case_id}/paper-forms/{position}.pdf": {
            "get": op(
                "The 送达回证 to print for a party who declined electronic service, signed by the "
                "court (audited). 409 when the party agreed to electronic service or is served",
                "the kiosk of the case's room, the case's clerk and judge",
                media="application/pdf",
            ),
            "parameters": [*case_id, position],
        },
    }
