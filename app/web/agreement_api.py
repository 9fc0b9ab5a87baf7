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
from app.domain.errors import NotFound, NotPermitted
from app.domain.one_time_code import CodeRefused
from app.domain.people import mask_phone
from app.domain.roles import Role
from app.keys import Services, caller, services
from app.ruling.handwriting import read_signature
from app.services import (
    agreement_document,
    mediation_room,
    mediation_transcript,
    mediations,
    one_time_codes,
)
from app.services import mediation_agreements as agreements
from app.services import mediation_to_confirmation as to_confirmation
from app.services.mediation_agreements import AgreementRecord, Signer
from app.services.mediation_pass import MediationPass
from app.services.mediation_room import SessionCaller
from app.web import mediation_recording
from app.web.body import read_json
from app.web.client_address import client_address
from app.web.decode import Body, fields_of, read_body
from app.web.ids import path_id
from app.web.mediation_room_api import OWN_PHONE, PASS_HEADER, announce, caller_or_pass
from app.web.middleware import require_caller
from app.web.printable import require_printable

MAX_USER_AGENT = 300


def _asked(request: web.Request) -> tuple[Actor, Services, int]:
    """Who asks, the services, and which mediation: every handler's first line."""
    return require_caller(request).actor, services(request), path_id(request, "mediation_id")


async def _mediation_for(session: AsyncSession, who: SessionCaller, mediation_id: int) -> Any:
    """The committee's mediators read every agreement of theirs (not only the one they are
    assigned); a kiosk and a party's phone, as they may join its session."""
    if isinstance(who, Actor) and who.role is Role.MEDIATOR:
        return await mediations.load_mediation(session, who, mediation_id)
    return await mediation_room.mediation_for(session, who, mediation_id)


def _asked_by_anyone(request: web.Request) -> tuple[SessionCaller, Services, int]:
    """As _asked, but a party's phone with its pass may ask too."""
    return caller_or_pass(request), services(request), path_id(request, "mediation_id")


async def show(request: web.Request) -> web.Response:
    who, svc, mediation_id = _asked_by_anyone(request)
    async with svc.db.transaction() as session:
        mediation = await _mediation_for(session, who, mediation_id)
        record = await agreements.load(session, mediation)
        answer = await agreement_json(session, svc, record)
    return web.json_response(answer)


async def save_draft(request: web.Request) -> web.Response:
    if caller(request) is None and request.headers.get(PASS_HEADER):
        raise NotPermitted(
            "当事人不能直接修改协议草稿；请点“提出修改意见”，由调解员修改。"
            " / A party cannot edit the draft: ask for a change, and the mediator edits it."
        )
    actor, svc, mediation_id = _asked(request)
    async with svc.db.transaction() as session:
        await mediations.load_mediation(session, actor, mediation_id)  # else 403 or 404
    body = await read_body(request, bodies.AgreementDraftBody)
    require_printable(fields_of(body), svc.desk.missing_glyphs)
    async with svc.db.transaction() as session:
        record = await agreements.save_draft(session, actor, mediation_id, body, svc.clock())
        answer = await agreement_json(session, svc, record)
    await announce(request, mediation_id, "agreement")
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
    await announce(request, mediation_id, "agreement")
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
    (its digest). A wrong code is counted in a transaction of its own. A party's own phone
    signs with its pass instead."""
    who, svc, mediation_id = _asked_by_anyone(request)
    if isinstance(who, MediationPass):
        return await _signs_on_own_phone(request, who, svc, mediation_id)
    actor = who
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
    await announce(request, mediation_id, "agreement")
    return web.json_response(answer, status=201)


async def _signs_on_own_phone(
    request: web.Request, who: MediationPass, svc: Services, mediation_id: int
) -> web.Response:
    """The phone's pass was bought with a code texted to the party's phone on record: it
    signs for that party only."""
    async with svc.db.transaction() as session:
        await mediation_room.mediation_for(session, who, mediation_id)  # else 404
    body = await read_body(request, bodies.SignsOnDevice)
    if body.party != who.party:
        raise NotPermitted("一方当事人不能替另一方签名。 / A party cannot sign for another party.")
    image = read_signature(body.signature)
    now = svc.clock()
    async with svc.db.transaction() as session:
        mediation = await mediation_room.mediation_for(session, who, mediation_id)
        phone = agreements.party_phone(mediation, who.party)
        signer = Signer(
            party=who.party,
            name=mediation.parties[who.party].name,
            account_id=None,
            proof=f"pass:sms:{mask_phone(phone)}",
            device=OWN_PHONE,
            client_address=client_address(request),
            user_agent=request.headers.get("User-Agent", "")[:MAX_USER_AGENT] or None,
            applies_for_confirmation=body.apply_for_confirmation,
        )
        record = await agreements.party_signs(session, mediation, signer, body.digest, image, now)
        answer = await agreement_json(session, svc, record)
    await announce(request, mediation_id, "agreement")
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
    await announce(request, mediation_id, "agreement")
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
        images = agreement_document.current_images(record)
        committee = mediation.committee_id
        stored = await svc.agreements.seal(context, images, committee, mediation.id)
        told = await mediation_transcript.transcript_context(session, record, now)
        mine = {"mediator": images["mediator"]}
        transcript = await svc.agreements.seal_transcript(told, mine, committee, mediation.id)
        record = await agreements.seal(session, actor, record, stored, transcript, now)
        answer = await agreement_json(session, svc, record)
    await announce(request, mediation_id, "agreement")
    await mediation_recording.session_ended(request.app, mediation_id, actor.username)
    return web.json_response(answer, status=201)


async def _sealed_file(request: web.Request, transcript: bool) -> web.Response:
    who, svc, mediation_id = _asked_by_anyone(request)
    async with svc.db.transaction() as session:
        mediation = await _mediation_for(session, who, mediation_id)
        record = await agreements.load(session, mediation)
    row = record.row
    path, sha256 = (None, None) if row is None else (row.pdf_path, row.pdf_sha256)
    if transcript and row is not None:
        path, sha256 = row.transcript_pdf, row.transcript_sha256
    if path is None or sha256 is None:
        raise NotFound("调解协议尚未签章生效。 / The agreement is not sealed yet.")
    name = "transcript" if transcript else "agreement"
    return web.Response(
        body=svc.agreements.read(path, sha256),
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}-{mediation_id}.pdf"'},
    )


async def pdf(request: web.Request) -> web.Response:
    return await _sealed_file(request, transcript=False)


async def transcript_pdf(request: web.Request) -> web.Response:
    return await _sealed_file(request, transcript=True)


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
        "transcript": (
            f"/api/mediations/{mediation.id}/transcript.pdf" if row.transcript_pdf else None
        ),
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
        web.get("/api/mediations/{mediation_id}/transcript.pdf", transcript_pdf),
        web.post("/api/mediations/{mediation_id}/confirmation", apply_for_confirmation),
    ]
