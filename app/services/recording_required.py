"""The shell of the whole-hearing recording rule (app/domain/recording_rule.py): the facts from
the recording runs and the audit trail (shared by every server), the refusal, and the judge's
reasoned decision to go on without a recording."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import recording_rule as rule
from app.domain import session as rules
from app.domain.access import Actor
from app.domain.roles import Role
from app.recording.settings import RECORDING
from app.services import session_records
from app.services.session_records import Result
from app.services.sessions_states import RECORD_STATES
from app.store.models import AuditEvent, Case, RecordingRun

# How a run's end is audited (app/recording/service.py, sweep.py), and the judge's step.
RUN_ENDS = ("recording.stopped", "recording.failed", "recording.interrupted")
OVERRIDE = f"session.{rules.Kind.WITHOUT_RECORDING.value}"


async def facts_of(session: AsyncSession, case: Case) -> rule.RecordingFacts:
    live = await session.scalar(
        select(func.count())
        .select_from(RecordingRun)
        .where(RecordingRun.case_id == case.id, RecordingRun.state == RECORDING)
    )
    ended = await session.scalar(
        select(func.max(AuditEvent.seq)).where(
            AuditEvent.case_id == case.id, AuditEvent.action.in_(RUN_ENDS)
        )
    )
    override = await session.scalar(
        select(func.max(AuditEvent.seq)).where(
            AuditEvent.case_id == case.id, AuditEvent.action == OVERRIDE
        )
    )
    return rule.RecordingFacts(bool(live), ended, override)


async def require(session: AsyncSession, case: Case, what: tuple[str, str]) -> None:
    rule.check_recorded(await facts_of(session, case), what)


async def go_on_without(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    """The judge's explicit, reasoned step: the hearing goes on while nothing records it."""
    session_records.require_role(
        actor, Role.JUDGE, "只有审判员可以作此决定。 / Only the judge decides this."
    )
    case, view = await session_records.prepare(
        session, actor, case_id, RECORD_STATES, "决定无录像继续 / go on without recording", now
    )
    rule.check_override(await facts_of(session, case))
    reason = rule.read_override(data)
    await session_records.append(
        session,
        case,
        view,
        rules.Kind.WITHOUT_RECORDING,
        None,
        {"reason": reason},
        actor.username,
        now,
    )
    return await session_records.done(session, case, now)
