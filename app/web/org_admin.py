"""Pages of courts, committees, halls and rooms (administrators): the list of courts, and one
court's committees, halls and rooms with the kiosks standing in them.

Forms post here and are answered post/redirect/get like the accounts console: a refusal shows
the page again with what was typed, the refused form open, and the reasons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import DomainError, ValidationError
from app.domain.ids import parse_id
from app.domain.organisation import NAME_MAX, NOUN, Kind, no_such
from app.keys import Caller, services
from app.services import org_view, organisation
from app.services.org_view import Installation
from app.web.body import read_form
from app.web.i18n import language, pick, split_bilingual
from app.web.middleware import status_for
from app.web.org_admin_api import checked_draft, require_org_admin, unit_id_of, unit_routes
from app.web.pages import render


class Choice(NamedTuple):
    """One option of a form's select: what it posts, what it is, and its court, whose name
    tells the option apart where a select offers every court's."""

    value: int
    name: str
    court: int | None
    court_name: str

    @property
    def text(self) -> str:
        return f"{self.name}（{self.court_name}）" if self.court_name else self.name


def _choices(found: Installation) -> dict[str, list[Choice]]:
    """Every unit another may move under, and every kiosk account, by the field naming it."""
    rooms = {r.id: r.name for c in found.courts for r in c.rooms}
    return {
        "court_id": [Choice(c.id, f"{c.name}（{c.code}）", c.id, "") for c in found.courts],
        "committee_id": [
            Choice(m.id, m.name, c.id, c.name) for c in found.courts for m in c.committees
        ],
        "hall_id": [Choice(h.id, h.name, c.id, c.name) for c in found.courts for h in c.halls],
        "room_id": [Choice(r.id, r.name, c.id, "") for c in found.courts for r in c.rooms],
        # a kiosk is told apart by the room it stands in now
        "account_id": [
            Choice(k.id, k.username, None, rooms.get(k.room_id or 0, "")) for k in found.kiosks
        ],
    }


VERBS = {"created": ("已添加", "added"), "updated": ("已修改", "changed")}
Change = Callable[[AsyncSession], Awaitable[tuple[str, int, int]]]  # done, its id, court to show


def _notice(found: Installation, done: str, target: int, lang: str) -> str | None:
    """What the change just made says: `done` is kiosk_bound or <kind>_<verb>."""
    if done == "kiosk_bound":
        kiosk = next((k for k in found.kiosks if k.id == target), None)
        room = found.name_of(Kind.ROOM, kiosk.room_id) if kiosk and kiosk.room_id else None
        if kiosk is None or room is None:
            return None
        return pick(
            lang,
            "已将终端 {k} 绑定到 {r}，其登录已结束。",
            "Kiosk {k} now stands in {r}; its sessions ended.",
        ).format(k=kiosk.username, r=room)
    kind_name, _, verb = done.partition("_")
    if kind_name not in set(Kind) or verb not in VERBS:
        return None
    kind = Kind(kind_name)
    name = found.name_of(kind, target)
    if name is None:
        return None
    (zh_noun, en_noun), (zh_verb, en_verb) = NOUN[kind], VERBS[verb]
    return pick(lang, f"{zh_verb}{zh_noun} {name}。", f"The {en_noun} {name} was {en_verb}.")


async def _show(
    request: web.Request,
    who: Caller,
    court_id: int | None,
    *,
    status: int = 200,
    problems: list[tuple[str, str]] | None = None,
    message: str | None = None,
    kept: Mapping[str, Any] | None = None,
) -> web.Response:
    """The list of courts (court_id None) or one court's page."""
    lang = language(request)
    async with services(request).db.transaction() as session:
        found = await org_view.installation(session, who.actor)
    done, target = request.query.get("done", ""), parse_id(request.query.get("id", ""))
    context = {
        "found": found,
        "notice": _notice(found, done, target, lang) if target and status == 200 else None,
        "problems": [(field, split_bilingual(text, lang)) for field, text in problems or []],
        "message": message,
        "kept": {"form": "", **(kept or {})},
        "name_max": NAME_MAX,
    }
    if court_id is None:
        return render(request, "admin_courts.html", context, status=status)
    court = found.court(court_id)
    names = {
        "committee": {m.id: m.name for m in court.committees},
        "hall": {h.id: h.name for h in court.halls},
    }
    return render(
        request,
        "admin_court.html",
        {**context, "court": court, "names": names, "options": _choices(found)},
        status=status,
    )


async def courts_page(request: web.Request) -> web.Response:
    return await _show(request, require_org_admin(request), None)


async def court_page(request: web.Request) -> web.Response:
    who = require_org_admin(request)
    return await _show(request, who, unit_id_of(request, Kind.COURT))


async def _apply(
    request: web.Request, who: Caller, form: MultiDictProxy[Any], change: Change
) -> web.Response:
    """Run one change in its transaction, then show its court saying what was done. A
    refusal shows the page the form was on (its hidden `page`) again."""
    svc = services(request)
    page = parse_id(form.get("page", ""))
    kept = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        async with svc.db.transaction() as session:
            done, target, court_id = await change(session)
    except ValidationError as error:
        return await _show(request, who, page, status=422, problems=error.problems, kept=kept)
    except DomainError as error:
        message = split_bilingual(error.message, language(request))
        return await _show(request, who, page, status=status_for(error), message=message, kept=kept)
    raise web.HTTPSeeOther(f"/admin/courts/{court_id}?done={done}&id={target}")


def _saver(kind: Kind, edit: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def save(request: web.Request) -> web.Response:
        who = require_org_admin(request)
        svc = services(request)
        unit_id = unit_id_of(request, kind) if edit else None
        form = await read_form(request)

        async def change(session: AsyncSession) -> tuple[str, int, int]:
            draft = checked_draft(kind, form, svc.desk.missing_glyphs, partial=edit)
            unit = await organisation.save(session, who.actor, kind, unit_id, draft, svc.clock())
            done = f"{kind}_{'updated' if edit else 'created'}"
            return done, unit.id, await organisation.court_of(session, kind, unit.id)

        return await _apply(request, who, form, change)

    return save


async def bind_kiosk(request: web.Request) -> web.Response:
    """One form per court page picks both the kiosk and the room (the API names the room in its
    path): a select of every kiosk in every room's row would repeat the list room by room."""
    who = require_org_admin(request)
    svc = services(request)
    form = await read_form(request)

    async def change(session: AsyncSession) -> tuple[str, int, int]:
        room_id = parse_id(form.get("room_id", ""))
        if room_id is None:
            raise ValidationError([("room_id", no_such(Kind.ROOM))])
        account = parse_id(form.get("account_id", ""))
        kiosk = await organisation.bind_kiosk(session, who.actor, room_id, account, svc.clock())
        return "kiosk_bound", kiosk.id, await organisation.court_of(session, Kind.ROOM, room_id)

    return await _apply(request, who, form, change)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/admin/courts", courts_page),
        web.get("/admin/courts/{court_id}", court_page),
        web.post("/admin/kiosks", bind_kiosk),
        *unit_routes("/admin", _saver, "POST"),
    ]
