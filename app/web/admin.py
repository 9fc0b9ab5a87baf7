"""Pages of the accounts console (administrators) and of the own-password change.

Forms post here and are answered post/redirect/get, like the case pages: a refusal renders the
page again with what was typed (never the passwords) and the reasons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import DomainError, ValidationError
from app.domain.ids import parse_id
from app.domain.roles import ACCOUNT_ROLES
from app.keys import Caller, services
from app.password_policy import MIN_LENGTH
from app.services import accounts, admin
from app.store.models import Account
from app.web.admin_api import account_id_of, binding_of, require_admin_caller
from app.web.body import read_form
from app.web.i18n import language, pick, split_bilingual
from app.web.middleware import require_caller, status_for
from app.web.pages import render
from app.web.printable import require_printable

DONE: dict[str, tuple[str, str]] = {
    "created": ("已添加账户 {name}。", "Account {name} added."),
    "deactivated": (
        "已停用账户 {name}，其所有登录已结束。",
        "Account {name} deactivated; all its sessions have ended.",
    ),
    "reactivated": ("已启用账户 {name}。", "Account {name} reactivated."),
    "logged_out": ("已退出 {name} 的所有登录。", "Account {name} has been logged out everywhere."),
    "password_reset": (
        "已重置 {name} 的密码，其所有登录已结束。",
        "The password of {name} was reset; all its sessions have ended.",
    ),
}
# What the add-account form keeps when it is shown again (the passwords are typed again).
KEPT_FIELDS = ("username", "display_name", "role", "court", "committee", "room")


def _role_filter(value: object) -> str:
    """The list's role filter as a page may pass it on: a known role or nothing."""
    try:
        return admin.parse_role(str(value)).value if value else ""
    except ValidationError:
        return ""


def _problems(error: ValidationError, lang: str) -> list[tuple[str, str]]:
    return [(field, split_bilingual(problem, lang)) for field, problem in error.problems]


async def _console(
    request: web.Request,
    who: Caller,
    *,
    status: int = 200,
    role_filter: str = "",
    form: Mapping[str, Any] | None = None,
    problems: list[tuple[str, str]] | None = None,
    message: str | None = None,
    done: tuple[str, int] | None = None,
    target: int | None = None,
) -> web.Response:
    """The list and forms; `done`: the change just made (what, to which account) to confirm."""
    svc = services(request)
    role = admin.parse_role(role_filter) if role_filter else None
    async with svc.db.transaction() as session:
        rows = await admin.list_accounts(session, who.actor, role)
        offered = await admin.choices(session, who.actor)
    notice = None
    if done is not None:
        name = next((r.username for r in rows if r.id == done[1]), None)
        if name is not None:
            notice = pick(language(request), *DONE[done[0]]).format(name=name)
    return render(
        request,
        "admin_accounts.html",
        {
            "rows": rows,
            "choices": offered,
            "roles": [r.value for r in ACCOUNT_ROLES],
            "role_filter": role_filter,
            "form": {k: str((form or {}).get(k, "")) for k in KEPT_FIELDS},
            "problems": problems or [],
            "message": message,
            "notice": notice,
            "target": target,
            "min_length": MIN_LENGTH,
        },
        status=status,
    )


async def accounts_page(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    role_filter = request.query.get("role", "")
    if role_filter:
        admin.parse_role(role_filter)  # an unknown role is a mistake to show, not to ignore
    done, changed = request.query.get("done", ""), request.query.get("account", "")
    return await _console(
        request,
        who,
        role_filter=role_filter,
        done=(done, account) if done in DONE and (account := parse_id(changed)) else None,
    )


Change = Callable[[AsyncSession, Caller], Awaitable[Account]]


async def _apply(
    request: web.Request,
    who: Caller,
    done: str,
    change: Change,
    *,
    form: Mapping[str, Any],
    target: int | None = None,
) -> web.Response:
    """Run one change in its transaction; on success back to the list, saying what was done.
    A refusal shows the list again, the refused row's form open (`target`)."""
    svc = services(request)
    lang = language(request)
    role_filter = _role_filter(form.get("role_filter"))
    kept = form if target is None else None
    try:
        async with svc.db.transaction() as session:
            account = await change(session, who)
    except ValidationError as error:
        return await _console(
            request,
            who,
            status=422,
            role_filter=role_filter,
            form=kept,
            problems=_problems(error, lang),
            target=target,
        )
    except DomainError as error:
        return await _console(
            request,
            who,
            status=status_for(error),
            role_filter=role_filter,
            form=kept,
            message=split_bilingual(error.message, lang),
            target=target,
        )
    query = {"done": done, "account": str(account.id)}
    # A new account may not match the filter: the whole list shows it.
    if role_filter and done != "created":
        query["role"] = role_filter
    raise web.HTTPSeeOther(f"/admin/accounts?{urlencode(query)}")


async def create_account(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    form = await read_form(request)

    def text(key: str) -> str:
        return str(form.get(key, "")).strip()

    async def change(session: AsyncSession, who: Caller) -> Account:
        require_printable({"display_name": text("display_name")}, svc.desk.missing_glyphs)
        return await admin.create_account(
            session,
            who.actor,
            username=text("username"),
            display_name=text("display_name"),
            role=admin.parse_role(text("role")),
            password=str(form.get("password", "")),
            repeat=str(form.get("password_repeat", "")),
            binding=binding_of(form),
            now=svc.clock(),
        )

    return await _apply(request, who, "created", change, form=form)


async def set_active(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    form = await read_form(request)
    active, account_id = form.get("active") == "1", account_id_of(request)

    async def change(session: AsyncSession, who: Caller) -> Account:
        return await admin.set_active(session, who.actor, account_id, active, svc.clock())

    done = "reactivated" if active else "deactivated"
    return await _apply(request, who, done, change, form=form, target=account_id)


async def log_out(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    form, account_id = await read_form(request), account_id_of(request)

    async def change(session: AsyncSession, who: Caller) -> Account:
        return await admin.log_out(session, who.actor, account_id, svc.clock())

    return await _apply(request, who, "logged_out", change, form=form, target=account_id)


async def reset_password(request: web.Request) -> web.Response:
    who = require_admin_caller(request)
    svc = services(request)
    form, account_id = await read_form(request), account_id_of(request)

    async def change(session: AsyncSession, who: Caller) -> Account:
        return await admin.reset_password(
            session,
            who.actor,
            account_id,
            str(form.get("password", "")),
            repeat=str(form.get("password_repeat", "")),
            now=svc.clock(),
        )

    return await _apply(request, who, "password_reset", change, form=form, target=account_id)


def _own_caller(request: web.Request) -> Caller:
    who = require_caller(request)
    accounts.require_own_password_change(who.actor)
    return who


async def password_page(request: web.Request) -> web.Response:
    _own_caller(request)
    done = request.query.get("done") == "changed"
    return render(
        request,
        "account_password.html",
        {"problems": [], "done": done, "min_length": MIN_LENGTH},
    )


async def password_submit(request: web.Request) -> web.Response:
    who = _own_caller(request)
    svc = services(request)
    form = await read_form(request)
    try:
        await accounts.change_own_password(
            svc.db,
            who.actor,
            who.token,
            current=str(form.get("current_password", "")),
            new=str(form.get("new_password", "")),
            repeat=str(form.get("new_password_repeat", "")),
            now=svc.clock(),
        )
    except ValidationError as error:
        return render(
            request,
            "account_password.html",
            {
                "problems": _problems(error, language(request)),
                "done": False,
                "min_length": MIN_LENGTH,
            },
            status=422,
        )
    raise web.HTTPSeeOther("/account/password?done=changed")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/admin/accounts", accounts_page),
        web.post("/admin/accounts", create_account),
        web.post("/admin/accounts/{account_id}/active", set_active),
        web.post("/admin/accounts/{account_id}/password", reset_password),
        web.post("/admin/accounts/{account_id}/logout", log_out),
        web.get("/account/password", password_page),
        web.post("/account/password", password_submit),
    ]
