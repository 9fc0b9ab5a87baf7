"""Mediation cases on the database: filing, the committee's acceptance, and each step of the
lifecycle in app/domain/mediation.py, every one audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.clock import court_date
from app.domain.errors import NotFound, NotPermitted, ValidationError
from app.domain.mediation import ENDED, MediationState, MediationStep, advance
from app.domain.mediation_filing import MediationFiling, parse_filing
from app.domain.people import mask_phone, phone_digits
from app.domain.roles import Role
from app.keyring import FieldCipher
from app.services import audit
from app.services.cases import BOOKING_HORIZON, party_row
from app.store.models import Account, Committee, MediationCase, MediationParty

_ONLY_MEDIATORS = (
    "只有人民调解员可以办理调解案件。 / Only a people's mediator works on mediation cases."
)
_NOT_ASSIGNED = (
    "本案已指派其他调解员，只有承办调解员可以办理。"
    " / Another mediator is assigned to this mediation: only they may act on it."
)


def require_mediator(actor: Actor) -> int:
    """The actor's committee; anyone but a committee's mediator is refused (403)."""
    if actor.role is not Role.MEDIATOR or actor.committee_id is None:
        raise NotPermitted(_ONLY_MEDIATORS)
    return actor.committee_id


async def file_mediation(
    session: AsyncSession,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    cipher: FieldCipher,
    now: dt.datetime,
) -> MediationCase:
    committee_id = require_mediator(actor)
    filing = parse_filing(payload, today=court_date(now))
    mediation = _new_mediation(committee_id, filing, cipher, now, filed_by_id=actor.account_id)
    session.add(mediation)
    await session.flush()
    counted = {"parties": len(filing.parties)}
    await record_event(session, actor.username, mediation, "mediation.filed", counted, now)
    return mediation


async def file_by_party(
    session: AsyncSession,
    committee_id: int,
    phone: str,
    payload: Mapping[str, Any],
    *,
    cipher: FieldCipher,
    now: dt.datetime,
) -> MediationCase:
    """A party's own filing from the public page, once a one-time code proved the phone,
    which must be one of the parties' own (the one who files is a party)."""
    if await session.get(Committee, committee_id) is None:
        raise ValidationError(
            [("committee_id", "没有这个人民调解委员会。 / There is no such mediation committee.")]
        )
    filing = parse_filing(payload, today=court_date(now))
    if phone_digits(phone) not in {phone_digits(p.phone) for p in filing.parties if p.phone}:
        raise ValidationError(
            [
                (
                    "phone",
                    "须为当事人之一的联系电话：申请人应为纠纷的一方当事人。"
                    " / Must be one of the parties' phone numbers: the one who files is a party.",
                )
            ]
        )
    filer = phone_digits(phone)
    mediation = _new_mediation(committee_id, filing, cipher, now, filed_by_phone=filer)
    session.add(mediation)
    await session.flush()
    counted = {"parties": len(filing.parties), "by": "party"}
    await record_event(
        session, f"party:{mask_phone(phone)}", mediation, "mediation.filed", counted, now
    )
    return mediation


def _new_mediation(
    committee_id: int,
    filing: MediationFiling,
    cipher: FieldCipher,
    now: dt.datetime,
    *,
    filed_by_id: int | None = None,
    filed_by_phone: str | None = None,
) -> MediationCase:
    return MediationCase(
        committee_id=committee_id,
        filed_by_id=filed_by_id,
        filed_by_phone=filed_by_phone,
        state=MediationState.FILED.value,
        dispute_type=filing.dispute_type,
        facts=filing.facts,
        claims=filing.claims,
        filed_at=now,
        updated_at=now,
        parties=[
            party_row(MediationParty, position, party, cipher)
            for position, party in enumerate(filing.parties)
        ],
    )


async def list_mediations(session: AsyncSession, actor: Actor) -> list[MediationCase]:
    """The committee's mediations, the open ones first, newest first within each."""
    committee_id = require_mediator(actor)
    rows = await session.scalars(
        select(MediationCase)
        .where(MediationCase.committee_id == committee_id)
        .order_by(MediationCase.id.desc())
    )
    found = list(rows)
    return sorted(found, key=lambda m: MediationState(m.state) in ENDED)


async def listed(session: AsyncSession, actor: Actor) -> list[tuple[MediationCase, dict[int, str]]]:
    """The committee's mediations as list_mediations orders them, each with its people's names."""
    return [(m, await mediator_names(session, m)) for m in await list_mediations(session, actor)]


async def load_mediation(session: AsyncSession, actor: Actor, mediation_id: int) -> MediationCase:
    """The mediation, if it is the actor's committee's; others hear it does not exist."""
    committee_id = require_mediator(actor)
    mediation = await session.get(MediationCase, mediation_id)
    if mediation is None or mediation.committee_id != committee_id:
        raise NotFound(f"没有编号为 {mediation_id} 的调解案件。 / No mediation {mediation_id}.")
    return mediation


async def mediator_names(session: AsyncSession, mediation: MediationCase) -> dict[int, str]:
    ids = {i for i in (mediation.mediator_id, mediation.filed_by_id) if i is not None}
    if not ids:
        return {}
    rows = await session.execute(
        select(Account.id, Account.display_name).where(Account.id.in_(ids))
    )
    return {account_id: name for account_id, name in rows}


async def accept(
    session: AsyncSession, actor: Actor, mediation_id: int, mediator_id: int, now: dt.datetime
) -> MediationCase:
    """The committee takes the dispute on and names the mediator (any of its own, active)."""
    mediation = await load_mediation(session, actor, mediation_id)
    assigned = await session.get(Account, mediator_id)
    if (
        assigned is None
        or not assigned.active
        or assigned.role != Role.MEDIATOR.value
        or assigned.committee_id != mediation.committee_id
    ):
        raise ValidationError(
            [
                (
                    "mediator_id",
                    "须为本调解委员会在职的调解员。"
                    " / Must be an active mediator of this committee.",
                )
            ]
        )
    await _step(session, actor, mediation, MediationStep.ACCEPT, now, {"mediator": assigned.id})
    mediation.mediator_id = assigned.id
    mediation.accepted_at = now
    return mediation


async def schedule(
    session: AsyncSession, actor: Actor, mediation_id: int, at: dt.datetime, now: dt.datetime
) -> MediationCase:
    mediation = await load_mediation(session, actor, mediation_id)
    if not now < at <= now + BOOKING_HORIZON:
        raise ValidationError(
            [
                (
                    "scheduled_at",
                    "须为今后一年内的时间。 / Must be a time within the coming year.",
                )
            ]
        )
    await _step(session, actor, mediation, MediationStep.SCHEDULE, now, {"at": at.isoformat()})
    mediation.scheduled_at = at
    return mediation


async def take_step(
    session: AsyncSession,
    actor: Actor,
    mediation_id: int,
    step: MediationStep,
    now: dt.datetime,
    *,
    note: str = "",
    party: int | None = None,
) -> MediationCase:
    """Start, agree, fail (with its termination record), or a party's refusal or request to
    end it (naming the party, as the mediator heard it)."""
    mediation = await load_mediation(session, actor, mediation_id)
    details: dict[str, Any] = {}
    if party is not None:
        if not party < len(mediation.parties):
            raise ValidationError(
                [("party", "没有这个序号的当事人。 / There is no party at that position.")]
            )
        details["party"] = party
    if note:
        details["note"] = note
    await _step(session, actor, mediation, step, now, details)
    if MediationState(mediation.state) in ENDED:
        mediation.ended_at = now
        mediation.end_note = note or None
    return mediation


async def _step(
    session: AsyncSession,
    actor: Actor,
    mediation: MediationCase,
    step: MediationStep,
    now: dt.datetime,
    details: Mapping[str, Any],
) -> None:
    if mediation.mediator_id is not None and mediation.mediator_id != actor.account_id:
        raise NotPermitted(_NOT_ASSIGNED)
    before = MediationState(mediation.state)
    after = advance(before, step, actor.role)
    mediation.state = after.value
    mediation.updated_at = now
    change = {"from": before.value, "to": after.value, **details}
    await record_event(session, actor.username, mediation, f"mediation.{step.value}", change, now)


async def record_event(
    session: AsyncSession,
    actor: str,
    mediation: MediationCase,
    action: str,
    details: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    await audit.append(
        session,
        actor=actor,
        action=action,
        case_id=None,
        details={"mediation": mediation.id, **details},
        now=now,
    )
