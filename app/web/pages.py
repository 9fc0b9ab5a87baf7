"""Server-rendered pages for mediators, clerks, judges and kiosks (zh-CN first, English second)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from app.domain import refusals
from app.domain.application import ORGANISATION_FIELDS, PERSON_FIELDS, window_closes
from app.domain.cases import HEARING, State
from app.domain.clock import COURT_TZ, court_date, court_time
from app.domain.errors import DomainError, NotPermitted, Unauthenticated, ValidationError
from app.domain.grounds import DeclineGround, RejectGround
from app.domain.ids import parse_id, parse_position
from app.domain.materials import Category
from app.domain.roles import Role
from app.keys import PAGES, Caller, caller, services
from app.recording.routing import RECORDING_CONTROL
from app.services import accounts, audit, cases, materials, rulings, serving, session_records
from app.services import follow_on as follow_ons
from app.services.presence import Look
from app.web import labels
from app.web.api import set_session_cookie
from app.web.body import read_form
from app.web.client_address import client_address
from app.web.i18n import COOKIE as LANG_COOKIE
from app.web.i18n import LANGUAGES, language, pick, split_bilingual
from app.web.ids import path_id
from app.web.middleware import SESSION_COOKIE, require_caller
from app.web.present import case_detail
from app.web.printable import require_printable
from app.web.room_look import room_look, room_records_settled
from app.web.tls import cookies_secure

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pages"
HOME = {
    Role.MEDIATOR: "/cases",
    Role.CLERK: "/intake",
    Role.JUDGE: "/docket",
    Role.KIOSK: "/kiosk",
    Role.ADMIN: "/admin/accounts",
}


def environment(folder: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["court_time"] = lambda v: court_time(v).strftime("%Y-%m-%d %H:%M") if v else ""
    return env


def render(
    request: web.Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    lang = language(request)
    who = caller(request)
    base = {
        "lang": lang,
        "tr": lambda zh, en: pick(lang, zh, en),
        "label": lambda table, key: labels.label(getattr(labels, table), key, lang),
        "user": who.actor if who else None,
        "csrf": who.csrf_token if who else "",
        "path": request.path_qs,
        "other_lang": "en" if lang == "zh-CN" else "zh-CN",
        "role_label": labels.label(labels.ROLE, who.actor.role.value, lang) if who else "",
        # For scripts that name people in the video room (data-roles).
        "role_names": {str(key): labels.label(labels.ROLE, key, lang) for key in labels.ROLE},
    }
    html = request.app[PAGES].get_template(name).render({**base, **context})
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=headers,
    )


def error_page(
    request: web.Request, status: int, error: DomainError, headers: Mapping[str, str]
) -> web.StreamResponse:
    if isinstance(error, Unauthenticated) and request.method == "GET":
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
    message = split_bilingual(error.message, language(request))
    problems = error.problems if isinstance(error, ValidationError) else []
    return render(
        request,
        "error.html",
        {"status": status, "message": message, "problems": problems},
        status=status,
        headers=headers,
    )


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    return target if not urlsplit(target).netloc else None


async def home(request: web.Request) -> web.Response:
    who = caller(request)
    if who is None:
        raise web.HTTPSeeOther("/login")
    raise web.HTTPSeeOther(HOME[who.actor.role])


async def login_form(request: web.Request) -> web.Response:
    return render(
        request,
        "login.html",
        {"error": None, "username": "", "next": request.query.get("next", "")},
    )


async def login_submit(request: web.Request) -> web.Response:
    svc = services(request)
    form = await read_form(request)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    async with svc.db.transaction() as session:
        result = await accounts.login(
            session,
            username=username,
            password=password,
            client=client_address(request),
            now=svc.clock(),
            lifetime=dt.timedelta(hours=svc.settings.session_hours),
        )
    if result is None:
        message = split_bilingual(accounts.LoginFailed().message, language(request))
        return render(
            request,
            "login.html",
            {"error": message, "username": username, "next": target or ""},
            status=401,
        )
    response = web.HTTPSeeOther(target or HOME[result.actor.role])
    set_session_cookie(
        response, result.token, svc.settings.session_hours, secure=cookies_secure(request)
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    who = caller(request)
    if who is not None:
        svc = services(request)
        async with svc.db.transaction() as session:
            await accounts.logout(session, who.token, who.actor, svc.clock())
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def switch_language(request: web.Request) -> web.Response:
    lang = request.query.get("to", "zh-CN")
    if lang not in LANGUAGES:
        lang = "zh-CN"
    response = web.HTTPSeeOther(_safe_next(request.query.get("next")) or "/")
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 86400,
        samesite="Lax",
        path="/",
        secure=cookies_secure(request),
    )
    raise response


async def case_list(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        rows = await cases.list_cases(session, who.actor)
    return render(
        request,
        "cases.html",
        {"cases": rows, "title": pick(language(request), "案件列表", "Cases")},
    )


async def intake(request: web.Request) -> web.Response:
    who = _require_role(request, Role.CLERK)
    svc = services(request)
    async with svc.db.transaction() as session:
        queue = await cases.list_cases(session, who.actor, states=[State.SUBMITTED])
        to_schedule = await cases.list_cases(session, who.actor, states=[State.ACCEPTED])
        scheduled = await cases.list_cases(session, who.actor, states=[State.SCHEDULED])
    return render(
        request, "intake.html", {"queue": queue, "to_schedule": to_schedule, "scheduled": scheduled}
    )


async def docket(request: web.Request) -> web.Response:
    who = _require_role(request, Role.JUDGE)
    svc = services(request)
    async with svc.db.transaction() as session:
        rows = await cases.list_cases(session, who.actor)
    today = court_date(svc.clock())
    rows.sort(key=lambda c: (c.scheduled_at is None, c.scheduled_at or c.created_at))
    todays = [c for c in rows if c.scheduled_at and court_date(c.scheduled_at) == today]
    return render(request, "docket.html", {"today": today, "todays": todays, "cases": rows})


async def kiosk(request: web.Request) -> web.Response:
    who = _require_role(request, Role.KIOSK)
    svc = services(request)
    async with svc.db.transaction() as session:
        # Booked, or under way until served (app/static/kiosk_idle.js lists the same).
        rows = await cases.list_cases(session, who.actor, states=[State.SCHEDULED, *HEARING])
    today = court_date(svc.clock())
    todays = sorted(
        (c for c in rows if c.scheduled_at and court_date(c.scheduled_at) == today),
        key=lambda c: c.scheduled_at or c.created_at,
    )
    return render(request, "kiosk.html", {"today": today, "cases": todays})


def _require_role(request: web.Request, role: Role) -> Caller:
    who = require_caller(request)
    if who.actor.role is not role:
        raise NotPermitted("无权访问此页面。 / This page is not for your role.")
    return who


async def case_page(request: web.Request) -> web.Response:
    who = require_caller(request)
    return await _render_case(request, who, path_id(request))


async def _render_case(
    request: web.Request,
    who: Caller,
    case_id: int,
    *,
    status: int = 200,
    problems: list[tuple[str, str]] | None = None,
    message: str | None = None,
) -> web.Response:
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await cases.load_case(session, who.actor, case_id)
        names = await cases.names_for(session, case)
        detail = case_detail(case, names, svc.cipher, who.actor)
        events = await audit.events_for_case(session, case.id)
        ruling = await rulings.ruling_of(session, case.id)
        receipts = await serving.receipts_of(session, case.id)
        paper = await serving.paper_receipts_of(session, case.id)
        # Who asked for paper and waits for the clerk to record the signed 送达回证.
        paper_pending = []
        if ruling is not None:
            view = await session_records.view_of(session, case, svc.clock())
            paper_pending = [p.position for p in await serving.paper_awaited(session, case, view)]
        transcript = (await rulings.transcripts_of(session, [case.id])).get(case.id)
        judges = rooms = []
        follow_on = None
        if who.actor.role is Role.CLERK:
            judges = await accounts.judges_of_court(session, case.court_id)
            rooms = await cases.rooms_of_court(session, case.court_id)
            follow_on = await follow_ons.offer(session, case, svc.clock())
    return render(
        request,
        "case.html",
        {
            "case": detail,
            "events": events,
            "judges": judges,
            "rooms": rooms,
            "follow_on": follow_on,
            "categories": [c.value for c in Category],
            "grounds": [g.value for g in DeclineGround],
            "reject_grounds": [g.value for g in RejectGround],
            "ruling": ruling,
            "transcript": transcript,
            "receipts": {r.party_position: r for r in receipts},
            "paper_receipts": {r.party_position: r for r in paper},
            "paper_pending": paper_pending,
            "today": court_date(svc.clock()).isoformat(),
            "window_closes": window_closes(case.agreement_date),
            "problems": problems or [],
            "message": message,
            "upload_mb": svc.settings.max_upload_bytes // (1024 * 1024),
            "min_time": court_time(svc.clock()).strftime("%Y-%m-%dT%H:%M"),
        },
        status=status,
    )


async def case_action(request: web.Request) -> web.Response:
    """One form per step; on success back to the case page (post/redirect/get)."""
    who = require_caller(request)
    svc = services(request)
    case_id, action = path_id(request), request.match_info["action"]
    form = await read_form(request)
    lang = language(request)
    try:
        require_printable(
            {k: v for k, v in form.items() if isinstance(v, str)}, svc.desk.missing_glyphs
        )
        if action == "issue":
            await room_records_settled(request)
            await rulings.issue(
                svc.db,
                svc.desk,
                svc.cipher,
                who.actor,
                case_id,
                folder=svc.settings.rulings_dir,
                public_url=svc.settings.public_url,
                now=svc.clock(),
            )
        else:
            room = await room_look(request, case_id) if action == "decision" else None
            async with svc.db.transaction() as session:
                await _run_action(session, who, case_id, action, form, svc, room)
            if action == "open_session":
                # The whole session is recorded from its opening, whichever page opened it.
                await request.app[RECORDING_CONTROL].start(case_id, who.actor.username)
    except ValidationError as error:
        problems = [(f, split_bilingual(p, lang)) for f, p in error.problems]
        return await _render_case(request, who, case_id, status=422, problems=problems)
    except DomainError as error:
        from app.web.middleware import status_for

        return await _render_case(
            request,
            who,
            case_id,
            status=status_for(error),
            message=split_bilingual(error.message, lang),
        )
    raise web.HTTPSeeOther(f"/cases/{case_id}")


async def _run_action(
    session: Any,
    who: Caller,
    case_id: int,
    action: str,
    form: MultiDictProxy[Any],
    svc: Any,
    video_room: Look | None = None,
) -> None:
    now = svc.clock()
    if action == "submit":
        await cases.submit(session, who.actor, case_id, now)
    elif action == "accept":
        judge = parse_id(form.get("judge_id"))
        if judge is None:
            raise ValidationError([("judge_id", "请选择审判员。 / Choose a judge.")])
        await cases.accept(session, who.actor, case_id, judge, now)
    elif action == "follow_on":
        judge = parse_id(form.get("judge_id"))
        if judge is None:
            raise ValidationError([("judge_id", "请选择审判员。 / Choose a judge.")])
        await follow_ons.follow_on(session, who.actor, case_id, judge, now)
    elif action == "decline":
        await cases.decline(
            session, who.actor, case_id, str(form.get("ground", "")), str(form.get("note", "")), now
        )
    elif action == "return":
        await cases.return_for_materials(
            session, who.actor, case_id, str(form.get("note", "")), now
        )
    elif action == "schedule":
        room = parse_id(form.get("room_id"))
        if room is None:
            raise ValidationError([("room_id", "请选择确认室。 / Choose a room.")])
        local = str(form.get("scheduled_at", ""))
        when = _local_time(local)
        await cases.schedule(session, who.actor, case_id, room, when, now)
    elif action == "open_session":
        await rulings.open_session(session, who.actor, case_id, now)
    elif action == "decision":
        seen = video_room or Look(None, reachable=False)
        await rulings.decide(session, who.actor, case_id, dict(form), now, room=seen)
    elif action == "paper_receipt":
        position = parse_position(form.get("party"))
        data = {**form, "party": -1 if position is None else position}
        await serving.record_paper_receipt(session, who.actor, case_id, data, now)
    elif action == "materials":
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise ValidationError([("file", "请选择文件。 / Choose a file.")])
        await materials.add_material(
            session,
            who.actor,
            case_id,
            category=str(form.get("category", "")),
            filename=upload.filename,
            data=upload.file.read(),
            folder=svc.settings.materials_dir,
            cipher=svc.cipher,
            limit=svc.settings.max_upload_bytes,
            now=now,
        )
    else:
        raise web.HTTPNotFound()


def _local_time(value: str) -> dt.datetime:
    """A datetime-local field is court time without an offset."""
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=COURT_TZ)
    except ValueError:
        raise ValidationError([("scheduled_at", refusals.NOT_A_DATE_TIME)]) from None


async def new_case_form(request: web.Request) -> web.Response:
    _require_role(request, Role.MEDIATOR)
    return render(request, "new_case.html", {"form": {}, "problems": []})


def form_parties(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """The flat party fields (templates/pages/_party_fields.html: a0_name, a1_kind, …) as the
    API's party objects; the third slot is optional."""

    def get(key: str) -> str:
        return str(form.get(key, "")).strip()

    parties = []
    for i in range(3):
        kind = get(f"a{i}_kind")
        if i == 2 and not get(f"a{i}_name"):
            continue
        fields = ORGANISATION_FIELDS if kind == "organisation" else PERSON_FIELDS
        parties.append({"kind": kind, **{f: get(f"a{i}_{f}") for f in fields}})
    return parties


def form_to_application(form: Mapping[str, Any]) -> dict[str, Any]:
    """The flat form (a0_name, a1_kind, …) as the API's application object."""

    def get(key: str) -> str:
        return str(form.get(key, "")).strip()

    applicants = form_parties(form)
    agents = []
    if get("g_name"):
        represents = get("g_represents")
        agents.append(
            {
                "name": get("g_name"),
                "id_number": get("g_id_number"),
                "phone": get("g_phone"),
                "authority": get("g_authority"),
                "represents": -1 if (position := parse_position(represents)) is None else position,
            }
        )
    return {
        "dispute_type": get("dispute_type"),
        "agreement_date": get("agreement_date"),
        "terms": [line.strip() for line in get("terms").splitlines() if line.strip()],
        "applicants": applicants,
        "agents": agents,
    }


async def new_case_submit(request: web.Request) -> web.Response:
    who = _require_role(request, Role.MEDIATOR)
    svc = services(request)
    form = await read_form(request)
    payload = form_to_application(form)
    lang = language(request)
    try:
        require_printable(payload, svc.desk.missing_glyphs)
        async with svc.db.transaction() as session:
            case = await cases.create_case(
                session, who.actor, payload, cipher=svc.cipher, now=svc.clock()
            )
    except ValidationError as error:
        problems = [(f, split_bilingual(p, lang)) for f, p in error.problems]
        return render(request, "new_case.html", {"form": form, "problems": problems}, status=422)
    except DomainError as error:
        return render(
            request,
            "new_case.html",
            {"form": form, "problems": [("agreement_date", split_bilingual(error.message, lang))]},
            status=422,
        )
    raise web.HTTPSeeOther(f"/cases/{case.id}")


FAVICON = Path(__file__).parents[1] / "static" / "favicon.svg"


async def favicon(request: web.Request) -> web.Response:
    """Browsers ask for /favicon.ico whatever the page links: the court's mark, not a 404."""
    return web.Response(
        body=FAVICON.read_bytes(),
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/", home),
        web.get("/favicon.ico", favicon),
        web.get("/login", login_form),
        web.post("/login", login_submit),
        web.post("/logout", logout),
        web.get("/lang", switch_language),
        web.get("/cases", case_list),
        web.get("/cases/new", new_case_form),
        web.post("/cases/new", new_case_submit),
        web.get("/cases/{case_id}", case_page),
        web.post("/cases/{case_id}/{action}", case_action),
        web.get("/intake", intake),
        web.get("/docket", docket),
        web.get("/kiosk", kiosk),
    ]
