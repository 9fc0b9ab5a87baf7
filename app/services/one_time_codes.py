"""One-time codes on the database: issued into the SMS outbox, checked once (the rules are
app/domain/one_time_code.py). Neither the code nor the text is ever logged."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import one_time_code as rules
from app.domain.people import mask_phone
from app.store.models import OneTimeCode, SmsOutbox

log = logging.getLogger(__name__)


async def _newest(session: AsyncSession, phone: str, purpose: str) -> OneTimeCode | None:
    found: OneTimeCode | None = await session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    return found


def _issued(row: OneTimeCode | None) -> rules.Issued | None:
    if row is None:
        return None
    used = row.used_at is not None
    return rules.Issued(row.created_at, row.expires_at, row.tries, used, row.code_hash)


async def send(
    session: AsyncSession,
    phone: str,
    purpose: str,
    *,
    secret: bytes,
    now: dt.datetime,
    doing: str = "申请人民调解",
) -> dt.datetime:
    """A new code for the phone, queued as an SMS; when it expires."""
    rules.may_send(_issued(await _newest(session, phone, purpose)), now)
    code = rules.new_code(secrets.randbelow(10**rules.DIGITS))
    expires = now + rules.LIFETIME
    session.add(
        OneTimeCode(
            phone=phone,
            purpose=purpose,
            code_hash=rules.code_hash(secret, phone, purpose, code),
            created_at=now,
            expires_at=expires,
            tries=0,
        )
    )
    session.add(SmsOutbox(phone=phone, body=rules.sms_text(code, doing), created_at=now))
    log.info("one-time code (%s) queued by SMS to %s", purpose, mask_phone(phone))
    return expires


async def use(
    session: AsyncSession, phone: str, purpose: str, code: str, *, secret: bytes, now: dt.datetime
) -> None:
    """Spend the phone's newest code, or refuse (rules.CodeRefused): the caller then counts
    the wrong try in a transaction of its own (count_wrong_try), since a refusal rolls back
    the one it happened in."""
    row = await _newest(session, phone, purpose)
    rules.check(_issued(row), rules.code_hash(secret, phone, purpose, code), now)
    assert row is not None
    row.used_at = now


async def count_wrong_try(session: AsyncSession, phone: str, purpose: str) -> None:
    row = await _newest(session, phone, purpose)
    if row is not None and row.used_at is None:
        row.tries += 1
