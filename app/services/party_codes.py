"""Parties on their own device: one-time join codes, and the signed pass (room token) a code
is redeemed for."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import signed_claims
from app.domain import refusals
from app.domain.access import Actor
from app.domain.cases import State
from app.domain.errors import (
    NotFound,
    NotPermitted,
    Unauthenticated,
    ValidationError,
)
from app.domain.roles import Role
from app.services.cases import load_case
from app.services.session_records import (
    PartyPass,
    already_acknowledged,
    audit_session,
    party_name,
    party_position,
    receipt_of,
    require_state,
)
from app.services.sessions_states import OPEN_STATES
from app.store.models import (
    Case,
    PartyCode,
)

# A party away from the hall may need a code after the hearing too: to read the ruling and sign
# for it on their own device (a phone that died at the decision, a ruling issued after the first
# pass expired). Until every party is served.
CODE_STATES = OPEN_STATES | {
    State.CONFIRMED,
    State.REJECTED,
    State.WITHDRAWN,
    State.RULING_ISSUED,
}
CODE_TTL = dt.timedelta(minutes=10)
PARTY_TOKEN_TTL = dt.timedelta(minutes=60)  # one session with room to spare
# No 0/O, 1/I/L: read aloud or copied from a slip. 10 characters ≈ 49 bits, single use and
# ten minutes' life: guessing a live code is out of reach without a lockout.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_TOKEN_DOMAIN = b"sifa-party-token-v1."  # a MAC for another use of the secret never passes
MAX_TOKEN_CHARS = 512


def issue_party_token(secret: bytes, claims: PartyPass) -> str:
    body = {"c": claims.case_id, "p": claims.party, "j": claims.code_id, "e": claims.expires_at}
    return signed_claims.sign(secret, _TOKEN_DOMAIN, body)


def verify_party_token(secret: bytes, token: str, now: dt.datetime) -> PartyPass:
    refused = Unauthenticated("当事人凭证无效，请重新输入加入码。 / The party token is invalid.")
    body = signed_claims.read(secret, _TOKEN_DOMAIN, token, max_chars=MAX_TOKEN_CHARS) or {}
    values = [body.get(k) for k in "cpje"]
    if not all(type(value) is int for value in values):
        raise refused
    claims = PartyPass(*cast(list[int], values))
    if now.timestamp() >= claims.expires_at:
        raise Unauthenticated("当事人凭证已过期，请重新获取加入码。 / The party token expired.")
    return claims


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once; only its hash is stored
    case_id: int
    party: int
    party_name: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Joined:
    token: str
    case_id: int
    party: int
    party_name: str
    expires_at: dt.datetime


async def issue_party_code(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> IssuedCode:
    case = await load_case(session, actor, case_id)
    if actor.role is not Role.MEDIATOR or case.mediator_id != actor.account_id:
        raise NotPermitted(
            "只有本案调解员可以发放加入码。 / Only the case's mediator issues codes."
        )
    require_state(case, CODE_STATES, "发放加入码 / issue a join code")
    party = party_position(data)
    name = party_name(case, party)
    done = await receipt_of(session, case.id, party)
    if done is not None:  # served on this party already: nothing left to join for
        raise already_acknowledged(done)
    code = new_code()
    row = PartyCode(
        case_id=case.id,
        party_position=party,
        code_hash=code_hash(code),
        issued_by=actor.account_id,
        issued_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    await session.flush()
    await audit_session(
        session, actor.username, case, "code_issued", now, {"party": party, "code": row.id}
    )
    return IssuedCode(code, case.id, party, name, row.expires_at)


async def join(session: AsyncSession, code: object, secret: bytes, now: dt.datetime) -> Joined:
    """A one-time code for a party's own device → a signed party token; the code is spent."""
    if not isinstance(code, str) or len(normalise_code(code)) != CODE_LENGTH:
        raise ValidationError([("code", refusals.JOIN_CODE)])
    row = await session.scalar(select(PartyCode).where(PartyCode.code_hash == code_hash(code)))
    if row is None:
        raise NotFound("加入码不存在。 / No such join code.", code="join_code_unknown")
    if row.used_at is not None:
        raise NotPermitted(
            "该加入码已使用，请向调解员重新获取。 / This code was already used; ask for a new one.",
            code="join_code_used",
        )
    if now >= row.expires_at:
        raise NotPermitted(
            "该加入码已过期，请向调解员重新获取。 / This code has expired; ask for a new one.",
            code="join_code_expired",
        )
    case = await session.get(Case, row.case_id)
    assert case is not None
    require_state(case, CODE_STATES, "加入 / join the session")
    row.used_at = now
    expires = now + PARTY_TOKEN_TTL
    claims = PartyPass(case.id, row.party_position, row.id, int(expires.timestamp()))
    await audit_session(
        session,
        claims.username,
        case,
        "party_joined",
        now,
        {"party": row.party_position, "code": row.id},
    )
    name = party_name(case, row.party_position)
    return Joined(issue_party_token(secret, claims), case.id, row.party_position, name, expires)
