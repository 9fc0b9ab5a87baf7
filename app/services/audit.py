"""Appending to and checking the hash-chained audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit_chain import ChainReport, Link, check_chain, encode_details, link_hash
from app.store.models import AuditEvent, AuditHead


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    case_id: int | None,
    details: dict[str, Any],
    now: dt.datetime,
) -> AuditEvent:
    """Add one link inside the caller's transaction, so the event and the change commit together.

    The head row is locked for update: concurrent appenders on PostgreSQL queue on it, which keeps
    the chain a single line; SQLite's write lock does the same there.
    """
    head = (
        await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    ).scalar_one()
    text = encode_details(details)
    seq = head.seq + 1
    digest = link_hash(seq, now, actor, action, case_id, text, head.hash)
    event = AuditEvent(
        seq=seq,
        at=now,
        actor=actor,
        action=action,
        case_id=case_id,
        details=text,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    head.seq, head.hash = seq, digest
    await session.flush()
    return event


async def verify(session: AsyncSession) -> ChainReport:
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one()
    rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()
    links = (
        Link(r.seq, r.at, r.actor, r.action, r.case_id, r.details, r.prev_hash, r.hash)
        for r in rows
    )
    return check_chain(links, head.seq, head.hash)


async def events_for_case(session: AsyncSession, case_id: int) -> list[AuditEvent]:
    rows = await session.execute(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    )
    return list(rows.scalars())
