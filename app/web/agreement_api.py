"""The mediation agreement's API (app/services/mediation_agreements.py): the mediator drafts,
fixes and signs; each party signs at the hall's kiosk with a code sent to their own phone; the
committee seals. Thin: parse, one transaction, present."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import mediation_agreement as rules
from app.domain.access import Actor
from app.domain.bodies import mediation as bodies
from app.domain.errors import NotFound
from app.domain.one_time_code import CodeRefused
from app.domain.people import mask_phone
from app.domain.roles import Role
from app.keys import Services, services
from app.ruling.handwriting import read_signature
from app.services import agreement_document, mediations, one_time_codes
from app.services import mediation_agreements as agreements
from app.services import mediation_to_confirmation as to_confirmation
from app.services.mediation_agreements import AgreementRecord, Signer
from app.web.body import read_json
from app.web.client_address import client_address
from app.web.decode import Body, fields_of, read_body
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.printable import require_printable

MAX_USER_AGENT = 300


def _asked(request: web.Request) -> tuple[Actor, Services, int]:
    """Who asks, the services, and which mediation: every handler's first line."""
    return require_caller(request).actor, services(request), path_id(request, "mediation_id")


async def _mediation_for(session: AsyncSession, actor: Actor, mediation_id: int) -> Any:
    """The committee's mediators read every agreement of theirs; a kiosk, its halls' ones."""
    if actor.role is Role.KIOSK:
        return await agreements.kiosk_mediation(session, actor, mediation_id)
    return await mediations.load_mediation(session, actor, mediation_id)


async def show(request: web.Request) -> web.Response:
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        mediation = await _mediation_for(session, actor, mediation_id)
        record = await agreements.load(session, mediation)
        answer = await agreement_json(session, svc, record)
    return web.json_response(answer)


async def save_draft(request: web.Request) -> web.Response:
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        await mediations.load_mediation(session, actor, mediation_id)  # else 403 or 404
    body = await read_body(request, bodies.AgreementDraftBody)
    require_printable(fields_of(body), svc.desk.missing_glyphs)
    async with svc.db.transaction() as session:
        record = await agreements.save_draft(session, actor, mediation_id, body, svc.clock())
        answer = await agreement_json(session, svc, record)
    return web.json_response(answer)


async def freeze(request: web.Request) -> web.Response:
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        record = await agreements.assigned_record(session, actor, mediation_id)
        body = Body(bodies.FreezeAgreement, await read_json(request)).typed()
        context = await agreement_document.document_context(session, record, svc.cipher, None)
        digest = svc.agreements.digest(context)
        record = await agreements.freeze(session, actor, record, body.version, digest, svc.clock())
        answer = await agreement_json(session, svc, record)
    return web.json_response(answer)


async def send_sign_code(request: web.Request) -> web.Response:
    """At the kiosk: a code by SMS to the party's own phone on record, to sign with."""
    actor, svc, mediation_id = _asked(request)
    body = await read_body(request, bodies.SignCodeRequest)
    now = svc.clock()
    async with svc.db.transaction() as session:
        mediation = await agreements.kiosk_mediation(session, actor, mediation_id)
        phone = agreements.party_phone(mediation, body.party)
        purpose = agreements.sign_code_purpose(mediation_id, body.party)
        expires = await one_time_codes.send(
            session, phone, purpose, secret=svc.secret, now=now, doing="签署人民调解协议"
        )
    sent = {"party": body.party, "sent_to": mask_phone(phone), "expires_at": expires.isoformat()}
    return web.json_response(sent, status=202)


async def party_signs(request: web.Request) -> web.Response:
    """At the kiosk: the party's handwriting, the code from their phone, and the text they read
    (its digest). A wrong code is counted in a transaction of its own."""
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        await agreements.kiosk_mediation(session, actor, mediation_id)  # else 403 or 404
    body = await read_body(request, bodies.PartySigns)
    image = read_signature(body.signature)
    now = svc.clock()
    try:
        async with svc.db.transaction() as session:
            mediation = await agreements.kiosk_mediation(session, actor, mediation_id)
            phone = agreements.party_phone(mediation, body.party)
            purpose = agreements.sign_code_purpose(mediation_id, body.party)
            await one_time_codes.use(session, phone, purpose, body.code, secret=svc.secret, now=now)
            signer = Signer(
                party=body.party,
                name=mediation.parties[body.party].name,
                account_id=actor.account_id,
                proof=f"sms:{mask_phone(phone)}",
                device=f"调解室终端 {actor.display_name}",
                client_address=client_address(request),
                user_agent=request.headers.get("User-Agent", "")[:MAX_USER_AGENT] or None,
                applies_for_confirmation=body.apply_for_confirmation,
            )
            record = await agreements.party_signs(
                session, mediation, signer, body.digest, image, now
            )
            answer = await agreement_json(session, svc, record)
    except CodeRefused:
        async with svc.db.transaction() as session:
            await one_time_codes.count_wrong_try(session, phone, purpose)
        raise
    return web.json_response(answer, status=201)


async def mediator_signs(request: web.Request) -> web.Response:
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        await mediations.load_mediation(session, actor, mediation_id)  # else 403 or 404
    body = await read_body(request, bodies.MediatorSigns)
    image = read_signature(body.signature)
    async with svc.db.transaction() as session:
        record = await agreements.mediator_signs(
            session, actor, mediation_id, body.digest, image, svc.clock()
        )
        answer = await agreement_json(session, svc, record)
    return web.json_response(answer, status=201)


async def seal(request: web.Request) -> web.Response:
    """The committee's seal: the PDF drawn with every signature and PAdES-signed with the
    committee's key, written under a new name, then recorded; the mediation is agreed."""
    actor, svc, mediation_id = _asked(request)
    now = svc.clock()
    async with svc.db.transaction() as session:
        record = await agreements.assigned_record(session, actor, mediation_id)
        mediation = record.mediation
        agreements.may_seal(record)  # refused before anything is drawn or written
        context = await agreement_document.document_context(session, record, svc.cipher, now)
        stored = await svc.agreements.seal(
            context, agreement_document.current_images(record), mediation.committee_id, mediation.id
        )
        record = await agreements.seal(session, actor, record, stored.path, stored.sha256, now)
        answer = await agreement_json(session, svc, record)
    return web.json_response(answer, status=201)


async def pdf(request: web.Request) -> web.Response:
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        mediation = await _mediation_for(session, actor, mediation_id)
        record = await agreements.load(session, mediation)
    if record.row is None or record.row.pdf_path is None or record.row.pdf_sha256 is None:
        raise NotFound("调解协议尚未签章生效。 / The agreement is not sealed yet.")
    data = svc.agreements.read(record.row.pdf_path, record.row.pdf_sha256)
    return web.Response(
        body=data,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="agreement-{mediation_id}.pdf"'},
    )


async def apply_for_confirmation(request: web.Request) -> web.Response:
    """One tap: the application for confirmation, filled in from the mediation and submitted."""
    actor, svc, mediation_id = _asked(request)
    settings = svc.settings
    async with svc.db.transaction() as session:
        case = await to_confirmation.apply_for_confirmation(
            session,
            actor,
            mediation_id,
            term_texts=svc.agreements.renderer.templates.agreement_terms,
            read_agreement=svc.agreements.read,
            cipher=svc.cipher,
            materials_folder=settings.materials_dir,
            upload_limit=settings.max_upload_bytes,
            now=svc.clock(),
        )
        answer = {"case_id": case.id, "state": case.state, "page": f"/cases/{case.id}"}
    return web.json_response(answer, status=201)


def _at(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def agreement_json(
    session: AsyncSession, svc: Services, record: AgreementRecord
) -> dict[str, Any]:
    """Where the agreement stands, and its text as a screen shows it (ID numbers masked)."""
    view = record.rules_view()
    mediation = record.mediation
    parties = [
        {"position": p.position, "name": p.name, "phone": mask_phone(p.phone)}
        for p in mediation.parties
    ]
    if view is None or record.row is None:
        return {"status": None, "version": 0, "parties": parties, "signatures": [], "blocks": []}
    row = record.row
    sealed_at = row.sealed_at
    context = await agreement_document.document_context(session, record, svc.cipher, None)
    counted = {id(s) for s in record.counting()}
    zh, en = rules.STATUS_WORDS[view.status]
    return {
        "status": view.status.value,
        "status_label": zh,
        "status_label_en": en,
        "version": row.draft_version,
        "digest": row.digest,
        "draft": rules.draft_dict(record.draft) if record.draft else None,
        "blocks": svc.agreements.screen_blocks(context),
        "parties": [{**p, "signed": p["position"] in view.signed_parties()} for p in parties],
        "mediator_signed": view.mediator_signed(),
        "signatures": [
            {
                "party": s.party_position,
                "name": s.signer_name,
                "signed_at": s.signed_at.isoformat(),
                "device": s.device,
                "proof": s.proof,
                "applies_for_confirmation": s.applies_for_confirmation,
                "counts": id(s) in counted,
            }
            for s in record.signatures
        ],
        "sealed_at": _at(sealed_at),
        "effective_at": _at(sealed_at),
        "confirmation_deadline": _at(rules.confirmation_deadline(sealed_at)) if sealed_at else None,
        "pdf_sha256": row.pdf_sha256,
        "pdf": f"/api/mediations/{mediation.id}/agreement.pdf" if row.pdf_path else None,
        "application": await to_confirmation.application_of(session, mediation.id),
    }


def routes() -> list[web.RouteDef]:
    one = "/api/mediations/{mediation_id}/agreement"
    return [
        web.get(one, show),
        web.post(f"{one}/draft", save_draft),
        web.post(f"{one}/freeze", freeze),
        web.post(f"{one}/sign-code", send_sign_code),
        web.post(f"{one}/party-signatures", party_signs),
        web.post(f"{one}/mediator-signature", mediator_signs),
        web.post(f"{one}/seal", seal),
        web.get("/api/mediations/{mediation_id}/agreement.pdf", pdf),
        web.post("/api/mediations/{mediation_id}/confirmation", apply_for_confirmation),
    ]
