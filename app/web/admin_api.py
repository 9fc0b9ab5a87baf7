"""The accounts console's JSON API (administrators) and the own-password change (every account
but kiosks). Thin: parse, call a service in one transaction, present."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from app.domain.bodies import admin as bodies
from app.keys import Caller, services
from app.services import accounts, admin
from app.services.admin import AccountRow, Choices
from app.web.decode import fields_of, read_body
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.printable import require_printable


def require_admin_caller(request: web.Request) -> Caller:
    """Refused before the body is read: a non-administrator learns nothing from its checks."""
    who = require_caller(request)
    admin.require_admin(who.actor)
    return who


def account_id_of(request: web.Request) -> int:
    return path_id(request, "account_id")


def account_json(row: AccountRow) -> dict[str, Any]:
    return {**dataclasses.asdict(row), "created_at": row.created_at.isoformat()}


def choices_json(offered: Choices) -> dict[str, Any]:
    return {
        "courts": [{"code": code, "name": name} for code, name in offered.courts],
        "committees": offered.committees,
        "rooms": [{"name": room, "hall": hall} for room, hall in offered.rooms],
    }


def binding_of(data: Any) -> accounts.Binding:
    """The court code, committee name or room name the role needs (empty means none); from
    the API's body or the page's form."""

    def get(key: str) -> str | None:
        value = data.get(key)
        return (value.strip() or None) if isinstance(value, str) else None

    return accounts.Binding(court=get("court"), committee=get("committee"), room=get("room"))


async def list_accounts(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    raw = request.query.get("role", "")
    role = admin.parse_role(raw) if raw else None
    async with svc.db.transaction() as session:
        rows = await admin.list_accounts(session, who.actor, role)
        offered = await admin.choices(session, who.actor)
    return web.json_response(
        {"accounts": [account_json(r) for r in rows], "bindings": choices_json(offered)}
    )


async def create_account(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    body = await read_body(request, bodies.NewAccount)
    display_name = body.display_name.strip()
    require_printable({"display_name": display_name}, svc.desk.missing_glyphs)
    role = admin.parse_role(body.role)
    async with svc.db.transaction() as session:
        account = await admin.create_account(
            session,
            who.actor,
            username=body.username,
            display_name=display_name,
            role=role,
            password=body.password,
            binding=binding_of(fields_of(body)),
            now=svc.clock(),
        )
        row = await admin.row_of(session, account)
    return web.json_response(account_json(row), status=201)


async def set_active(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    active = (await read_body(request, bodies.SetActive)).active
    async with svc.db.transaction() as session:
        account = await admin.set_active(
            session, who.actor, account_id_of(request), active, svc.clock()
        )
        row = await admin.row_of(session, account)
    return web.json_response(account_json(row))


async def reset_password(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    password = (await read_body(request, bodies.ResetPassword)).password
    async with svc.db.transaction() as session:
        account = await admin.reset_password(
            session, who.actor, account_id_of(request), password, now=svc.clock()
        )
        row = await admin.row_of(session, account)
    return web.json_response(account_json(row))


async def log_out(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        account = await admin.log_out(session, who.actor, account_id_of(request), svc.clock())
        row = await admin.row_of(session, account)
    return web.json_response(account_json(row))


async def change_own_password(request: web.Request) -> web.Response:
    who = require_caller(request)
    accounts.require_own_password_change(who.actor)
    svc = services(request)
    body = await read_body(request, bodies.OwnPassword)
    ended = await accounts.change_own_password(
        svc.db,
        who.actor,
        who.token,
        current=body.current_password,
        new=body.new_password,
        now=svc.clock(),
    )
    return web.json_response({"ok": True, "sessions_ended": ended})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/admin/accounts", list_accounts),
        web.post("/api/admin/accounts", create_account),
        web.post("/api/admin/accounts/{account_id}/active", set_active),
        web.post("/api/admin/accounts/{account_id}/password", reset_password),
        web.post("/api/admin/accounts/{account_id}/logout", log_out),
        web.post("/api/account/password", change_own_password),
    ]
