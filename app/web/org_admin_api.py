"""The JSON API of courts, committees, halls and rooms (administrators). Thin: parse, call a
service in one transaction, present. Its OpenAPI paths are declared here, from the same field
table the readers use (app/domain/organisation.fields)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.domain.bodies.admin import UNIT_BODIES, BindKiosk
from app.domain.errors import NotFound
from app.domain.ids import MAX_ID, parse_id
from app.domain.organisation import (
    NOUN,
    Draft,
    Kind,
    fields,
    no_such,
    read_draft,
    require_admin,
)
from app.keys import Caller, services
from app.services import org_view, organisation
from app.services.organisation import Unit
from app.store.models import Account
from app.web.decode import fields_of, read_body
from app.web.middleware import require_caller
from app.web.printable import MissingGlyphs, require_printable

PLURAL = {
    Kind.COURT: "courts",
    Kind.COMMITTEE: "committees",
    Kind.HALL: "halls",
    Kind.ROOM: "rooms",
}
Handler = Callable[[web.Request], Awaitable[web.Response]]


def require_org_admin(request: web.Request) -> Caller:
    """Refused before the body or the path is read: others learn nothing from the checks."""
    who = require_caller(request)
    require_admin(who.actor)
    return who


def unit_id_of(request: web.Request, kind: Kind) -> int:
    unit_id = parse_id(request.match_info[f"{kind}_id"])
    if unit_id is None:
        raise NotFound(no_such(kind))
    return unit_id


def checked_draft(kind: Kind, data: Any, missing_glyphs: MissingGlyphs, *, partial: bool) -> Draft:
    draft = read_draft(kind, data, partial=partial)
    # Court and committee names are printed in rulings, room names in service vouchers.
    require_printable({"name": draft.name or ""}, missing_glyphs)
    return draft


def unit_json(kind: Kind, unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, **{f: getattr(unit, f) for f in fields(kind)}}


def kiosk_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "active": account.active,
        "room_id": account.room_id,
    }


async def list_courts(request: web.Request) -> web.Response:
    who = require_org_admin(request)
    async with services(request).db.transaction() as session:
        found = await org_view.installation(session, who.actor)
    return web.json_response(dataclasses.asdict(found))


async def one_court(request: web.Request) -> web.Response:
    who = require_org_admin(request)
    court_id = unit_id_of(request, Kind.COURT)
    async with services(request).db.transaction() as session:
        found = await org_view.installation(session, who.actor)
    return web.json_response(dataclasses.asdict(found.court(court_id)))


def saver(kind: Kind, edit: bool) -> Handler:
    """POST adds a unit (201); PATCH of its path changes the fields sent."""

    async def save(request: web.Request) -> web.Response:
        who = require_org_admin(request)
        svc = services(request)
        unit_id = unit_id_of(request, kind) if edit else None
        body = await read_body(request, UNIT_BODIES[kind][edit])
        draft = checked_draft(kind, fields_of(body), svc.desk.missing_glyphs, partial=edit)
        async with svc.db.transaction() as session:
            unit = await organisation.save(session, who.actor, kind, unit_id, draft, svc.clock())
        return web.json_response(unit_json(kind, unit), status=200 if edit else 201)

    return save


async def bind_kiosk(request: web.Request) -> web.Response:
    who = require_org_admin(request)
    svc = services(request)
    room_id = unit_id_of(request, Kind.ROOM)
    account_id = (await read_body(request, BindKiosk)).account_id
    async with svc.db.transaction() as session:
        kiosk = await organisation.bind_kiosk(session, who.actor, room_id, account_id, svc.clock())
    return web.json_response(kiosk_json(kiosk))


def unit_routes(
    prefix: str, handler: Callable[[Kind, bool], Handler], edit_method: str
) -> list[web.RouteDef]:
    """Adding under `{prefix}/{plural}` and editing under `{prefix}/{plural}/{id}`, per kind."""
    return [
        route
        for kind, plural in PLURAL.items()
        for route in (
            web.post(f"{prefix}/{plural}", handler(kind, False)),
            web.route(edit_method, f"{prefix}/{plural}/{{{kind}_id}}", handler(kind, True)),
        )
    ]


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/admin/courts", list_courts),
        web.get("/api/admin/courts/{court_id}", one_court),
        web.post("/api/admin/rooms/{room_id}/kiosks", bind_kiosk),
        *unit_routes("/api/admin", saver, "PATCH"),
    ]


# --- the OpenAPI paths of these routes (app/web/openapi/) ---------------------------------


_KIOSK = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "active": {"type": "boolean"},
        "room_id": {"type": "integer"},
    },
}


def _unit_schema(kind: Kind) -> dict[str, Any]:
    """A unit as answered: its id and the fields its body sets."""
    props: dict[str, Any] = {"id": {"type": "integer"}}
    for name in fields(kind):
        props[name] = {"type": "integer"} if name.endswith("_id") else {"type": "string"}
    return {"type": "object", "required": list(props), "properties": props}


def openapi_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """`op(summary, roles, body, ok, status)` builds an operation as the main document does."""
    admin = "admin"
    paths: dict[str, Any] = {
        "/api/admin/courts": {
            "get": op(
                "Every court with its committees, halls and rooms (each room with its kiosk "
                "accounts' user names), and every kiosk account with its room",
                admin,
            )
        },
        "/api/admin/courts/{court_id}": {
            "get": op("One court with its committees, halls and rooms", admin),
        },
        "/api/admin/rooms/{room_id}/kiosks": {
            "post": op(
                "Bind a kiosk account to this room (audited org.kiosk_bound); the kiosk's "
                "login sessions end. 422 for an account that is not a kiosk, 409 room_in_session "
                "while the kiosk's present room is in session",
                admin,
                BindKiosk,
                _KIOSK,
            )
        },
    }
    for kind, plural in PLURAL.items():
        noun = NOUN[kind][1]
        new, change = UNIT_BODIES[kind]
        moving = (
            "; changing the code once cases are numbered is 409 court_code_in_use"
            if kind is Kind.COURT
            else "; moving it to another court's parent while it has cases is 409 has_cases"
        )
        paths.setdefault(f"/api/admin/{plural}", {})["post"] = op(
            f"Add a {noun} (audited org.{kind}_created); a name (or code) in use is 409",
            admin,
            new,
            _unit_schema(kind),
            "201",
        )
        paths.setdefault(f"/api/admin/{plural}/{{{kind}_id}}", {})["patch"] = op(
            f"Change a {noun}: the fields sent (audited org.{kind}_updated){moving}",
            admin,
            change,
            _unit_schema(kind),
        )
    for path, item in paths.items():
        if names := re.findall(r"\{(\w+)\}", path):
            item["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                }
                for name in names
            ]
    return paths
