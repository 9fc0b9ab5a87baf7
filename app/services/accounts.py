"""Accounts, logins and login sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.errors import (
    DomainError,
    NotPermitted,
    TooManyAttempts,
    Unauthenticated,
    ValidationError,
)
from app.domain.roles import Role
from app.domain.throttle import (
    FREE_FAILURES,
    FREE_FAILURES_PER_ADDRESS,
    lock_after_failure,
    still_counts,
)
from app.password_policy import password_problem
from app.passwords import hash_password, verify_password
from app.services import audit
from app.store.db import Database
from app.store.models import Account, Committee, Court, LoginSession, LoginThrottle, Room


def actor_of(account: Account) -> Actor:
    return Actor(
        account_id=account.id,
        username=account.username,
        role=Role(account.role),
        display_name=account.display_name,
        court_id=account.court_id,
        committee_id=account.committee_id,
        room_id=account.room_id,
    )


@dataclass(frozen=True)
class Binding:
    """What an account belongs to: a court (judge, clerk), committee (mediator), room (kiosk)."""

    court: str | None = None
    committee: str | None = None
    room: str | None = None


def password_problems(
    password: str,
    repeat: str | None = None,
    *,
    field: str = "password",
    user_inputs: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """Why a new password is refused (none when it is fine). `repeat`: the second typing on a
    form; API clients send the password once. `user_inputs`: the account's names."""
    problems = []
    problem = password_problem(password, user_inputs)
    if problem is not None:
        problems.append((field, problem))
    if repeat is not None and repeat != password:
        problems.append((f"{field}_repeat", "两次输入的密码不一致。 / The two passwords differ."))
    return problems


async def username_taken(session: AsyncSession, username: str) -> bool:
    return await session.scalar(select(Account.id).where(Account.username == username)) is not None


async def add_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    binding: Binding,
    now: dt.datetime,
    actor: str = "cli",
    check_strength: bool = True,
) -> Account:
    problems: list[tuple[str, str]] = []
    if not username or len(username) > 50 or not username.replace("_", "").isalnum():
        problems.append(
            ("username", "请用 1 至 50 个字母、数字或下划线。 / Use 1 to 50 letters, digits or _.")
        )
    if len(display_name) > 50:
        problems.append(("display_name", "最多 50 个字符。 / At most 50 characters."))
    if check_strength:
        problems += password_problems(password, user_inputs=(username, display_name))
    if await username_taken(session, username):
        problems.append(("username", "该用户名已被使用。 / The user name is taken."))
    account = Account(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        display_name=display_name or username,
        created_at=now,
    )
    if role in (Role.JUDGE, Role.CLERK):
        court = await session.scalar(select(Court).where(Court.code == binding.court))
        if court is None:
            problems.append(
                ("court", "审判员和书记员须属于一个法院。 / A judge or clerk needs a court.")
            )
        else:
            account.court_id = court.id
    elif role is Role.MEDIATOR:
        committee = await session.scalar(
            select(Committee).where(Committee.name == binding.committee)
        )
        if committee is None:
            problems.append(
                ("committee", "调解员须属于一个调解委员会。 / A mediator needs a committee.")
            )
        else:
            account.committee_id, account.court_id = committee.id, committee.court_id
    elif role is Role.KIOSK:
        room = await session.scalar(select(Room).where(Room.name == binding.room))
        if room is None:
            problems.append(("room", "终端须属于一个确认室。 / A kiosk needs a room."))
        else:
            account.room_id = room.id
    elif role is not Role.ADMIN:
        problems.append(
            (
                "role",
                f"账户不能使用角色 {role.value}。 / Accounts cannot have the role {role.value}.",
            )
        )
    if problems:
        raise ValidationError(problems)
    session.add(account)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="account.created",
        case_id=None,
        details=account_details(account),
        now=now,
    )
    return account


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    token: str
    csrf_token: str
    actor: Actor
    expires_at: dt.datetime


def _user_key(username: str) -> str:
    """An account's own-password-change counter: only a holder of its sessions adds to it."""
    return f"user:{username.lower()}"[:120]


def _login_keys(username: str, client: str) -> list[str]:
    """A login's throttle rows: the account from this address, and the address itself.

    Never the account alone: anyone who knows a judge's user name could then lock the judge
    out from everywhere with a few wrong passwords. The address goes first in the pair's key so
    that truncating a long name never merges two addresses."""
    return [f"pair:{client}|{username.lower()}"[:120], f"addr:{client}"[:120]]


async def _throttle_check(session: AsyncSession, keys: list[str], now: dt.datetime) -> None:
    rows = (
        await session.execute(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    ).scalars()
    for row in rows:
        if row.locked_until is not None and row.locked_until > now:
            wait = int((row.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts(
                f"登录失败次数过多，请 {wait} 秒后再试。 / Too many failed logins; "
                f"try again in {wait} s.",
                retry_after=wait,
            )


async def _record_failure(session: AsyncSession, keys: list[str], now: dt.datetime) -> None:
    for key in keys:
        row = await session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif not still_counts(row.last_failure_at, now):
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        free = FREE_FAILURES_PER_ADDRESS if key.startswith("addr:") else FREE_FAILURES
        row.locked_until = lock_after_failure(row.failures, now, free=free)


async def login(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    client: str,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> LoginResult | None:
    """Check a password; failures are counted per name and address together and per address,
    and slowed.

    A failure returns None rather than raising, so the caller's transaction commits the count.
    """
    keys = _login_keys(username, client)
    await _throttle_check(session, keys, now)
    account = await session.scalar(select(Account).where(Account.username == username))
    stored = account.password_hash if account is not None and account.active else None
    if account is None or not verify_password(stored, password):
        await _record_failure(session, keys, now)
        await audit.append(
            session,
            actor=username[:80] or "-",
            action="login.failed",
            case_id=None,
            details={"client": client},
            now=now,
        )
        return None
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now + lifetime
    session.add(
        LoginSession(
            token_hash=_token_hash(token),
            account_id=account.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    await audit.append(
        session,
        actor=account.username,
        action="login",
        case_id=None,
        details={"client": client},
        now=now,
    )
    return LoginResult(token, csrf, actor_of(account), expires)


class LoginFailed(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("用户名或密码错误。 / Wrong user name or password.")


@dataclass(frozen=True)
class SessionInfo:
    actor: Actor
    csrf_token: str


async def resolve_session(
    session: AsyncSession, token: str, now: dt.datetime
) -> SessionInfo | None:
    row = await session.get(LoginSession, _token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    account = await session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    return SessionInfo(actor_of(account), row.csrf_token)


async def logout(session: AsyncSession, token: str, actor: Actor, now: dt.datetime) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    await audit.append(
        session, actor=actor.username, action="logout", case_id=None, details={}, now=now
    )


async def end_sessions(
    session: AsyncSession, account_id: int, *, keep_token: str | None = None
) -> int:
    """Log the account out everywhere (but for `keep_token`, the caller's own session); how many
    sessions ended."""
    query = delete(LoginSession).where(LoginSession.account_id == account_id)
    if keep_token is not None:
        query = query.where(LoginSession.token_hash != _token_hash(keep_token))
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def require_own_password_change(actor: Actor) -> None:
    """A kiosk is a device shared by a hall's staff: its password is the administrator's to set,
    or one person could lock the others out of the room."""
    if actor.role is Role.KIOSK:
        raise NotPermitted(
            "终端账户的密码由管理员重置。 / A kiosk's password is reset by the administrator."
        )


async def _own_account(session: AsyncSession, actor: Actor) -> Account:
    """The caller's account, still active (checked again in each transaction that uses it)."""
    account = await session.get(Account, actor.account_id)
    if account is None or not account.active:
        raise Unauthenticated("请先登录。 / Please log in.")
    return account


async def change_own_password(
    db: Database,
    actor: Actor,
    token: str,
    *,
    current: str,
    new: str,
    repeat: str | None = None,
    now: dt.datetime,
) -> int:
    """Change the caller's own password; every other session of the account ends (a stolen or
    forgotten one must not outlive the change). Returns how many ended.

    A wrong current password counts against the account like a failed login and is audited,
    in a transaction of its own so the refusal cannot roll the count back: a stolen session
    must not become a way to guess the password at leisure."""
    require_own_password_change(actor)
    async with db.transaction() as session:
        account = await _own_account(session, actor)
        keys = [_user_key(account.username)]
        await _throttle_check(session, keys, now)
        right = verify_password(account.password_hash, current)
        if not right:
            await _record_failure(session, keys, now)
            await audit.append(
                session,
                actor=account.username,
                action="account.password_change_failed",
                case_id=None,
                details=account_details(account),
                now=now,
            )
    problems = password_problems(
        new, repeat, field="new_password", user_inputs=(actor.username, actor.display_name)
    )
    if not right:
        problems.insert(
            0, ("current_password", "当前密码不正确。 / The current password is wrong.")
        )
    elif not problems and new == current:
        problems.append(
            (
                "new_password",
                "新密码须与当前密码不同。 / Choose a password different from the current one.",
            )
        )
    if problems:
        raise ValidationError(problems)
    async with db.transaction() as session:
        account = await _own_account(session, actor)
        account.password_hash = hash_password(new)
        await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
        ended = await end_sessions(session, account.id, keep_token=token)
        await audit.append(
            session,
            actor=account.username,
            action="account.password_changed",
            case_id=None,
            details=account_details(account, sessions_ended=ended),
            now=now,
        )
    return ended


def account_details(account: Account, **extra: object) -> dict[str, object]:
    """What the audit log says about an account: who, never its password or hash."""
    return {"username": account.username, "role": account.role, **extra}


async def judges_of_court(session: AsyncSession, court_id: int) -> list[Account]:
    rows = await session.execute(
        select(Account)
        .where(Account.court_id == court_id, Account.role == Role.JUDGE.value, Account.active)
        .order_by(Account.display_name)
    )
    return list(rows.scalars())


__all__ = ["DomainError", "LoginFailed", "add_account", "login", "logout", "resolve_session"]
