"""Appending to and checking the audit log, keyed with the installation's audit key.

How links are made and checked: app/domain/audit_chain.py; which key a session uses:
app/audit_key.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit_key
from app.audit_key import AuditKey, AuditKeyUnavailable
from app.domain.audit_chain import (
    SEAL_ACTION,
    ChainReport,
    Link,
    check_chain,
    encode_details,
    keyed_link,
    link_hash,
    seal_details,
)
from app.store.models import AuditEvent, AuditHead

SYSTEM_ACTOR = "system"


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
    the chain a single line; SQLite's write lock does the same there. The first keyed append
    of a chain seals it first (see seal).
    """
    if action == SEAL_ACTION:
        raise ValueError(f"{SEAL_ACTION} is written by seal() only")
    head = await _locked_head(session)
    key = audit_key.for_writing(session)
    if key is None and head.sealed_seq is not None:
        raise AuditKeyUnavailable(
            "本进程未获得审计密钥，而审计链已用密钥封存",
            "this process was given no audit key, and the chain is sealed with one",
        )
    if key is not None and head.sealed_seq is None:
        await _write_seal(session, head, key, now)
    return await _add(session, head, key, actor, action, case_id, encode_details(details), now)


async def seal(session: AsyncSession, key: AuditKey, now: dt.datetime) -> tuple[int, bool]:
    """Key the chain from here on, once: (the seal's sequence number, whether it is new).

    The seal records how many unkeyed events precede it and the last one's hash, so the
    record itself says what keying covered and from when. `sifa init` calls this; so does
    the first append of a process that has the key.
    """
    head = await _locked_head(session)
    if head.sealed_seq is not None:
        return head.sealed_seq, False
    event = await _write_seal(session, head, key, now)
    return event.seq, True


async def _locked_head(session: AsyncSession) -> AuditHead:
    return (
        await session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    ).scalar_one()


async def _write_seal(
    session: AsyncSession, head: AuditHead, key: AuditKey, now: dt.datetime
) -> AuditEvent:
    details = encode_details(seal_details(key.key_id, head.seq, head.hash))
    event = await _add(session, head, key, SYSTEM_ACTOR, SEAL_ACTION, None, details, now)
    head.sealed_seq = event.seq
    await session.flush()
    return event


async def _add(
    session: AsyncSession,
    head: AuditHead,
    key: AuditKey | None,
    actor: str,
    action: str,
    case_id: int | None,
    text: str,
    now: dt.datetime,
) -> AuditEvent:
    seq = head.seq + 1
    fields = (seq, now, actor, action, case_id, text, head.hash)
    digest = keyed_link(key, *fields) if key is not None else link_hash(*fields)
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


async def verify(session: AsyncSession, key: AuditKey | None = None) -> ChainReport:
    """Check the whole chain with `key`, or the key the session would write with."""
    key = key if key is not None else audit_key.for_checking(session)
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one()
    rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()
    links = (
        Link(r.seq, r.at, r.actor, r.action, r.case_id, r.details, r.prev_hash, r.hash)
        for r in rows
    )
    return check_chain(links, head.seq, head.hash, key)


def describe(report: ChainReport) -> str:
    """The verdict as `sifa audit verify` prints it: what the record proves, and no more."""
    if not report.intact:
        return (
            f"audit log BROKEN at event {report.broken_at}: {report.reason} "
            f"({report.checked} events before it are intact)"
        )
    line = f"audit log intact: {report.checked} events checked"
    if report.sealed_at is None:
        return line + " (none keyed)" if report.checked else line
    line += f", keyed with audit key {report.key_id} from event {report.sealed_at}"
    if report.unkeyed:
        line += (
            f"; events 1-{report.unkeyed} were written before keying and are vouched for by"
            f" the seal at event {report.sealed_at} only as they stood when it was written"
        )
    return line


async def events_for_case(session: AsyncSession, case_id: int) -> list[AuditEvent]:
    rows = await session.execute(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    )
    return list(rows.scalars())
