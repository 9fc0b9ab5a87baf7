"""The administrator's accounts console: who may do what (pure rules), and the use cases, each
one database transaction with its audit event.

Adding an account goes through accounts.add_account, which owns the username, password and
binding rules; this module adds what an administrator needs around it: a list with the names
accounts are bound to, deactivation and password resets that log the account out at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.errors import Conflict, NotFound, NotPermitted, ValidationError
from app.domain.roles import ACCOUNT_ROLES, Role
from app.passwords import hash_password
from app.services import accounts, audit
from app.store.models import Account, Committee, Court, Room

# The roles an account may be given (SYSTEM is the platform itself, never a login).


def require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermitted("只有管理员可以管理账户。 / Only administrators manage accounts.")


def refuse_own_account(actor: Actor, account_id: int, step: str) -> None:
    """An administrator does not lock themself out, nor reset their own password without the
    current one (that is /account/password, which asks for it)."""
    if actor.account_id == account_id:
        raise NotPermitted(
            {
                "deactivate": "不能停用自己的账户。 / You cannot deactivate your own account.",
                "reset": "请在“修改密码”页面修改自己的密码。 / Change your own password on the "
                "“Change password” page.",
                "log_out": "请用页首的“退出”退出自己的登录。 / Log yourself out with the header's "
                "Log out.",
            }[step],
            code="own_account",
        )


def parse_role(value: str, *, field: str = "role") -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = Role.SYSTEM
    if role not in ACCOUNT_ROLES:
        raise ValidationError([(field, f"未知角色 {value!r}。 / Unknown role {value!r}.")])
    return role


@dataclass(frozen=True)
class AccountRow:
    """One account as the console lists it, with the names of what it is bound to."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    court: str | None  # code
    court_name: str | None
    committee: str | None
    room: str | None

    @property
    def bound_to(self) -> str:
        # A mediator also carries its committee's court: the committee says more.
        return self.room or self.committee or self.court_name or ""


@dataclass(frozen=True)
class Choices:
    """What an account can be bound to, as accounts.Binding names it."""

    courts: list[tuple[str, str]]  # (code, name)
    committees: list[str]
    rooms: list[tuple[str, str]]  # (room, hall)


async def _rows(session: AsyncSession, *where: ColumnElement[bool]) -> list[AccountRow]:
    rows = await session.execute(
        select(Account, Court.code, Court.name, Committee.name, Room.name)
        .outerjoin(Court, Account.court_id == Court.id)
        .outerjoin(Committee, Account.committee_id == Committee.id)
        .outerjoin(Room, Account.room_id == Room.id)
        .where(Account.role.in_([r.value for r in ACCOUNT_ROLES]), *where)
        .order_by(Account.role, Account.username)
    )
    return [
        AccountRow(
            id=a.id,
            username=a.username,
            display_name=a.display_name,
            role=a.role,
            active=a.active,
            created_at=a.created_at,
            court=code,
            court_name=court,
            committee=committee,
            room=room,
        )
        for a, code, court, committee, room in rows
    ]


async def list_accounts(
    session: AsyncSession, actor: Actor, role: Role | None = None
) -> list[AccountRow]:
    require_admin(actor)
    return await _rows(session, *([Account.role == role.value] if role is not None else []))


async def row_of(session: AsyncSession, account: Account) -> AccountRow:
    """An account just changed, as the list shows it."""
    await session.flush()
    [row] = await _rows(session, Account.id == account.id)
    return row


async def choices(session: AsyncSession, actor: Actor) -> Choices:
    require_admin(actor)
    courts = await session.execute(select(Court.code, Court.name).order_by(Court.code))
    committees = await session.scalars(select(Committee.name).order_by(Committee.name))
    rooms = await session.execute(select(Room).order_by(Room.id))
    return Choices(
        courts=[(code, name) for code, name in courts],
        committees=list(committees),
        rooms=[(room.name, room.hall.name) for room in rooms.scalars()],
    )


def _taken(username: str) -> Conflict:
    return Conflict(
        f"用户名 {username} 已被使用。 / The user name {username} is taken.", code="username_taken"
    )


async def create_account(
    session: AsyncSession,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    repeat: str | None = None,
    binding: accounts.Binding,
    now: dt.datetime,
) -> Account:
    """A new account, audited as account.created by the administrator. A name in use is a
    conflict (409) rather than a form mistake: it names an account that exists."""
    require_admin(actor)
    if await accounts.username_taken(session, username):
        raise _taken(username)
    if repeat is not None and repeat != password:
        raise ValidationError(accounts.password_problems(password, repeat))
    try:
        return await accounts.add_account(
            session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            binding=binding,
            now=now,
            actor=actor.username,
        )
    except IntegrityError:
        # Another administrator added the same name a moment ago.
        raise _taken(username) from None


async def _target(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None or account.role not in {r.value for r in ACCOUNT_ROLES}:
        raise NotFound("没有这个账户。 / No such account.")
    return account


async def set_active(
    session: AsyncSession, actor: Actor, account_id: int, active: bool, now: dt.datetime
) -> Account:
    """Deactivate (a leaver: every session ends at once) or reactivate an account. Asking for
    the state it is already in changes nothing and records nothing."""
    require_admin(actor)
    if not active:
        refuse_own_account(actor, account_id, "deactivate")
    account = await _target(session, account_id)
    if account.active == active:
        return account
    account.active = active
    details = accounts.account_details(account)
    if not active:
        details["sessions_ended"] = await accounts.end_sessions(session, account.id)
    await audit.append(
        session,
        actor=actor.username,
        action="account.reactivated" if active else "account.deactivated",
        case_id=None,
        details=details,
        now=now,
    )
    return account


async def log_out(
    session: AsyncSession, actor: Actor, account_id: int, now: dt.datetime
) -> Account:
    """End every login session of an account, changing nothing else: a room's kiosk has no
    log-out of its own on its public screen (kiosk mode), so the administrator logs it out."""
    require_admin(actor)
    refuse_own_account(actor, account_id, "log_out")
    account = await _target(session, account_id)
    ended = await accounts.end_sessions(session, account.id)
    await audit.append(
        session,
        actor=actor.username,
        action="account.logged_out",
        case_id=None,
        details=accounts.account_details(account, sessions_ended=ended),
        now=now,
    )
    return account


async def reset_password(
    session: AsyncSession,
    actor: Actor,
    account_id: int,
    password: str,
    *,
    repeat: str | None = None,
    now: dt.datetime,
) -> Account:
    """Set a forgotten password; the account's sessions end, so whoever held one must log in
    with the new password."""
    require_admin(actor)
    refuse_own_account(actor, account_id, "reset")
    account = await _target(session, account_id)
    problems = accounts.password_problems(
        password, repeat, user_inputs=(account.username, account.display_name)
    )
    if problems:
        raise ValidationError(problems)
    account.password_hash = hash_password(password)
    ended = await accounts.end_sessions(session, account.id)
    await audit.append(
        session,
        actor=actor.username,
        action="account.password_reset",
        case_id=None,
        details=accounts.account_details(account, sessions_ended=ended),
        now=now,
    )
    return account
