"""The mediator's pages for mediation cases: the committee's list with each one's time limit,
filing a dispute, and one mediation with the steps open to it. Forms post here and come back
to the page (post/redirect/get); the rules are app/services/mediations.py's, as for the API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import select

from app.domain import refusals
from app.domain.application import PHONE_PATTERN
from app.domain.bodies.mediation import CODE_REFUSAL
from app.domain.clock import COURT_TZ, court_time
from app.domain.errors import DomainError, ValidationError
from app.domain.mediation import MediationStep
from app.domain.people import mask_phone
from app.domain.roles import Role
from app.keys import Services, services
from app.services import agreement_document, mediations, one_time_codes
from app.store.models import Account, Committee
from app.web import mediation_recording
from app.web.body import read_form
from app.web.i18n import language, split_bilingual
from app.web.ids import path_id
from app.web.mediation_api import FILING, filed_by_party
from app.web.mediation_view import mediation_json
from app.web.middleware import require_caller, status_for
from app.web.pages import form_parties, render
from app.web.printable import require_printable

_PLAIN_STEPS = {"start": MediationStep.START, "agree": MediationStep.AGREE}
_PARTY_STEPS = {"withdraw": MediationStep.WITHDRAW, "refuse": MediationStep.REFUSE}


async def mediation_list(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    now = svc.clock()
    async with svc.db.transaction() as session:
        found = await mediations.listed(session, who.actor)
        rows = [_for_page(mediation_json(m, names, svc.cipher, now)) for m, names in found]
    return render(request, "mediations.html", {"mediations": rows})


async def new_mediation_form(request: web.Request) -> web.Response:
    who = require_caller(request)
    mediations.require_mediator(who.actor)
    return render(request, "new_mediation.html", {"form": {}, "problems": []})


async def new_mediation_submit(request: web.Request) -> web.Response:
    who = require_caller(request)
    mediations.require_mediator(who.actor)
    svc = services(request)
    form = await read_form(request)
    payload = _filing_of(form)
    try:
        require_printable(payload, svc.desk.missing_glyphs)
        async with svc.db.transaction() as session:
            mediation = await mediations.file_mediation(
                session, who.actor, payload, cipher=svc.cipher, now=svc.clock()
            )
    except ValidationError as error:
        lang = language(request)
        problems = [(f, split_bilingual(p, lang)) for f, p in error.problems]
        context = {"form": form, "problems": problems}
        return render(request, "new_mediation.html", context, status=422)
    raise web.HTTPSeeOther(f"/mediations/{mediation.id}")


async def mediation_page(request: web.Request) -> web.Response:
    return await _render_one(request, path_id(request, "mediation_id"))


async def _render_one(
    request: web.Request,
    mediation_id: int,
    *,
    status: int = 200,
    problems: list[tuple[str, str]] | None = None,
    message: str = "",
) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    now = svc.clock()
    async with svc.db.transaction() as session:
        mediation = await mediations.load_mediation(session, who.actor, mediation_id)
        shown = _for_page(
            mediation_json(
                mediation, await mediations.mediator_names(session, mediation), svc.cipher, now
            )
        )
        colleagues = await session.execute(
            select(Account.id, Account.display_name).where(
                Account.committee_id == mediation.committee_id,
                Account.role == Role.MEDIATOR.value,
                Account.active.is_(True),
            )
        )
        context = {
            "m": shown,
            "mediators": [{"id": i, "name": n} for i, n in colleagues],
            "me": who.actor.account_id,
            "soon": (now + dt.timedelta(days=1)).astimezone(COURT_TZ).strftime("%Y-%m-%dT%H:%M"),
            "problems": problems or [],
            "message": message,
        }
    return render(request, "mediation.html", context, status=status)


async def mediation_action(request: web.Request) -> web.Response:
    """One form per step; on success back to the mediation's page."""
    who = require_caller(request)
    svc = services(request)
    mediation_id, action = path_id(request, "mediation_id"), request.match_info["action"]
    form = await read_form(request)
    try:
        require_printable(
            {k: v for k, v in form.items() if isinstance(v, str)}, svc.desk.missing_glyphs
        )
        async with svc.db.transaction() as session:
            await mediations.load_mediation(session, who.actor, mediation_id)
            await _run(session, who.actor, mediation_id, action, form, svc)
        await mediation_recording.after_step(request, action)
    except ValidationError as error:
        lang = language(request)
        problems = [(f, split_bilingual(p, lang)) for f, p in error.problems]
        return await _render_one(request, mediation_id, status=422, problems=problems)
    except DomainError as error:
        message = split_bilingual(error.message, language(request))
        return await _render_one(request, mediation_id, status=status_for(error), message=message)
    raise web.HTTPSeeOther(f"/mediations/{mediation_id}")


def _for_page(shown: dict[str, Any]) -> dict[str, Any]:
    """The API's view with its times as the court reads them (local, to the minute)."""

    def local(value: str | None) -> str:
        if value is None:
            return ""
        return court_time(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")

    times = {k: local(shown[k]) for k in ("filed_at", "accepted_at", "scheduled_at", "ended_at")}
    return {**shown, "local": {**times, "due_at": local(shown["time_limit"]["due_at"])}}


def _number(form: Mapping[str, Any], field: str) -> int:
    raw = str(form.get(field, "")).strip()
    if not raw.isdigit() or len(raw) > 9:
        raise ValidationError([(field, "请选择。 / Please choose one.")])
    return int(raw)


def _local_time(form: Mapping[str, Any], field: str) -> dt.datetime:
    """A datetime-local field, read as the court's time."""
    try:
        value = dt.datetime.fromisoformat(str(form.get(field, "")))
    except ValueError:
        raise ValidationError([(field, "请填写日期和时间。 / Give a date and a time.")]) from None
    return value.replace(tzinfo=COURT_TZ) if value.tzinfo is None else value


async def _run(
    session: Any,
    actor: Any,
    mediation_id: int,
    action: str,
    form: Mapping[str, Any],
    svc: Services,
) -> None:
    now = svc.clock()
    note = str(form.get("note", "")).strip()
    if action == "accept":
        await mediations.accept(session, actor, mediation_id, _number(form, "mediator_id"), now)
    elif action == "schedule":
        at = _local_time(form, "scheduled_at")
        await mediations.schedule(session, actor, mediation_id, at, now)
    elif action in _PLAIN_STEPS:
        await mediations.take_step(session, actor, mediation_id, _PLAIN_STEPS[action], now)
    elif action == "fail":
        if not note:
            raise ValidationError([("note", "请写明终止调解的情况。 / Say why it ended.")])
        seal = svc.agreements.seal_termination
        await agreement_document.fail_with_record(session, actor, mediation_id, note, now, seal)
    elif action in _PARTY_STEPS:
        step = _PARTY_STEPS[action]
        party = _number(form, "party")
        await mediations.take_step(session, actor, mediation_id, step, now, note=note, party=party)
    else:
        raise web.HTTPNotFound()


async def _committees(request: web.Request) -> list[dict[str, Any]]:
    async with services(request).db.transaction() as session:
        rows = await session.execute(select(Committee.id, Committee.name).order_by(Committee.id))
        return [{"id": i, "name": n} for i, n in rows]


async def _apply_page(request: web.Request, **context: Any) -> web.Response:
    status = context.pop("status", 200)
    base = {"form": {}, "problems": [], "sent_to": "", "filed": 0}
    page = {**base, **context, "committees": await _committees(request)}
    return render(request, "mediation_apply.html", page, status=status)


async def apply_form(request: web.Request) -> web.Response:
    """Public: a party applies for mediation on their own, proving their phone by SMS."""
    return await _apply_page(request)


def _filing_of(form: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "dispute_type": str(form.get("dispute_type", "")).strip(),
        "facts": str(form.get("facts", "")).strip(),
        "claims": str(form.get("claims", "")).strip(),
        "parties": form_parties(form),
    }


def _phone(form: Mapping[str, Any]) -> str:
    """The filer's phone, checked as the API's body checks it."""
    phone = str(form.get("phone", "")).strip()
    if not re.fullmatch(PHONE_PATTERN, phone):
        raise ValidationError([("phone", refusals.PHONE)])
    return phone


async def apply_code(request: web.Request) -> web.Response:
    svc = services(request)
    form = await read_form(request)
    phone = str(form.get("phone", "")).strip()
    try:
        _phone(form)
        async with svc.db.transaction() as session:
            await one_time_codes.send(session, phone, FILING, secret=svc.secret, now=svc.clock())
    except DomainError as error:
        return await _refused(request, form, error)
    return await _apply_page(request, form=form, sent_to=mask_phone(phone))


async def apply_submit(request: web.Request) -> web.Response:
    svc = services(request)
    form = await read_form(request)
    filing = _filing_of(form)
    try:
        committee = _number(form, "committee_id")
        code = str(form.get("code", "")).strip()
        if not code.isdigit() or len(code) != 6:
            raise ValidationError([("code", CODE_REFUSAL)])
        require_printable(filing, svc.desk.missing_glyphs)
        phone = _phone(form)
        mediation = await filed_by_party(svc, committee, phone, code, filing)
    except DomainError as error:
        return await _refused(request, form, error)
    return await _apply_page(request, filed=mediation.id, status=201)


async def _refused(
    request: web.Request, form: Mapping[str, Any], error: DomainError
) -> web.Response:
    lang = language(request)
    if isinstance(error, ValidationError):
        problems = [(f, split_bilingual(p, lang)) for f, p in error.problems]
    else:
        problems = [(error.code, split_bilingual(error.message, lang))]
    return await _apply_page(request, form=form, problems=problems, status=status_for(error))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/mediation/apply", apply_form),
        web.post("/mediation/apply/code", apply_code),
        web.post("/mediation/apply", apply_submit),
        web.get("/mediations", mediation_list),
        web.get("/mediations/new", new_mediation_form),
        web.post("/mediations/new", new_mediation_submit),
        web.get("/mediations/{mediation_id}", mediation_page),
        web.post("/mediations/{mediation_id}/{action}", mediation_action),
    ]
