"""A mediation's video session on the database: who may come in (the assigned mediator hosts;
a kiosk of the committee's halls; a party's own phone with its pass), the room signaling asks
for, and each party's checks (app/domain/mediation_checks.py), every one kept for good."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import mediation_checks as rules
from app.domain.access import Actor
from app.domain.attendance import RoomEvent, readmitted, removed_from_room
from app.domain.errors import NotFound, NotPermitted, ValidationError
from app.domain.free_text import read_free_text
from app.domain.live import participant_id
from app.domain.mediation import STATE_WORDS, MediationState
from app.domain.people import mask_name
from app.domain.roles import Role
from app.services import audit, mediations
from app.services.mediation_agreements import kiosk_mediation, require_assigned
from app.services.mediation_pass import MediationPass, on_own_device
from app.services.party_checks import checks_of, done_by_party
from app.store.models import AuditEvent, Committee, MediationCase, MediationCheckRow
from signaling.authority import RoomInfo
from signaling.roles import MEDIATOR
from signaling.room_keys import mediation_room

SessionCaller = Actor | MediationPass
KIOSK_DEVICE = "调解室终端"  # how a check or a signature made at a kiosk names its device

_NO_SUCH = "没有编号为 {0} 的调解案件。 / No mediation {0}."


async def mediation_for(
    session: AsyncSession, who: SessionCaller, mediation_id: int
) -> MediationCase:
    """The mediation, for its assigned mediator, a kiosk of its committee, or a pass to it;
    anyone else hears it does not exist (a mediator of the committee not assigned to it is
    told so)."""
    if isinstance(who, MediationPass):
        mediation = await session.get(MediationCase, mediation_id)
        if mediation is None or who.mediation_id != mediation_id:
            raise NotFound(_NO_SUCH.format(mediation_id))
        return mediation
    if who.role is Role.KIOSK:
        return await kiosk_mediation(session, who, mediation_id)
    mediation = await mediations.load_mediation(session, who, mediation_id)
    require_assigned(who, mediation)
    return mediation


async def room_info(
    session: AsyncSession, mediation_id: int, earlier: list[RoomEvent]
) -> RoomInfo | None:
    """The room signaling opens while the mediation is in session, hosted by its mediator."""
    mediation = await session.get(MediationCase, mediation_id)
    if (
        mediation is None
        or MediationState(mediation.state) is not MediationState.IN_MEDIATION
        or mediation.mediator_id is None
    ):
        return None
    committee = await session.get(Committee, mediation.committee_id)
    assert committee is not None
    return RoomInfo(
        mediation_room(mediation_id),
        f"{committee.name} 视频调解",
        participant_id(Role.MEDIATOR, mediation.mediator_id),
        readmit=readmitted(earlier),
        removed=removed_from_room(earlier),
        host_role=MEDIATOR,
    )


@dataclass(frozen=True)
class Where:
    """The device a check was made on, as its record keeps it."""

    device: str
    client_address: str | None


async def record_check(
    session: AsyncSession,
    who: SessionCaller,
    mediation: MediationCase,
    party: int,
    check: rules.Check,
    where: Where,
    now: dt.datetime,
) -> MediationCheckRow:
    """One check, by the one who makes it: the mediator checks identity; the party taps the
    rest on their own phone, or at the kiosk if they sit there (not for a party on a phone)."""
    if MediationState(mediation.state) is not MediationState.IN_MEDIATION:
        raise NotPermitted(
            "视频调解开始后才能进行核验和确认。 / Checks are made during the video session."
        )
    _require_party(mediation, party)
    by_mediator = isinstance(who, Actor) and who.role is Role.MEDIATOR
    if not by_mediator:
        _may_act_for(who, party, await on_own_device(session, mediation.id))
    done = done_by_party(await checks_of(session, mediation.id)).get(party, set())
    rules.may_record(done, check, by_mediator=by_mediator)
    row = MediationCheckRow(
        mediation_id=mediation.id,
        party_position=party,
        check=check.value,
        by=who.username,
        device=where.device[:200],
        client_address=where.client_address,
        at=now,
    )
    session.add(row)
    await session.flush()
    details = {"party": party, "check": check.value, "device": row.device}
    await mediations.record_event(session, who.username, mediation, "mediation.check", details, now)
    return row


CHANGE_REQUESTED = "mediation.change_requested"  # in the room's trail (case_id: the room key)


def _may_act_for(who: SessionCaller, party: int, phones: set[int]) -> None:
    """A phone acts for its own party only; the kiosk for the parties sitting at it."""
    if isinstance(who, MediationPass) and who.party != party:
        raise NotPermitted(
            "一方当事人不能替另一方确认。 / A party cannot confirm for another party."
        )
    if isinstance(who, Actor) and who.role is Role.KIOSK and party in phones:
        raise NotPermitted(
            "该当事人在自己的手机上参加调解，须在自己的手机上确认。"
            " / That party takes part on their own phone and confirms there."
        )


async def ask_for_change(
    session: AsyncSession,
    who: SessionCaller,
    mediation: MediationCase,
    party: int,
    text: str,
    where: Where,
    now: dt.datetime,
) -> dict[str, Any]:
    """A party asks for a change to the draft: kept in the room's trail, shown to everyone."""
    _require_party(mediation, party)
    if isinstance(who, Actor) and who.role is Role.MEDIATOR:
        raise NotPermitted(
            "修改意见由当事人提出；调解员直接修改草稿。"
            " / Parties ask for changes; the mediator edits the draft."
        )
    _may_act_for(who, party, await on_own_device(session, mediation.id))
    clean = read_free_text({"text": text}, "text", 500, required=True)
    details = {"mediation": mediation.id, "party": party, "text": clean, "device": where.device}
    await audit.append(
        session,
        actor=who.username,
        action=CHANGE_REQUESTED,
        case_id=mediation_room(mediation.id),
        details=details,
        now=now,
    )
    return {"party": party, "text": clean, "at": now.isoformat()}


async def change_requests(session: AsyncSession, mediation: MediationCase) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.case_id == mediation_room(mediation.id),
            AuditEvent.action == CHANGE_REQUESTED,
        )
        .order_by(AuditEvent.seq)
    )
    asked = []
    for row in rows:
        details = json.loads(row.details)
        asked.append({"party": details["party"], "text": details["text"], "at": row.at.isoformat()})
    return asked


def _require_party(mediation: MediationCase, party: int) -> None:
    if not 0 <= party < len(mediation.parties):
        raise ValidationError(
            [("party", "没有这个序号的当事人。 / There is no party at that position.")]
        )


def _you(who: SessionCaller) -> dict[str, Any]:
    if isinstance(who, MediationPass):
        return {"role": "party", "party": who.party}
    return {"role": who.role.value, "name": who.display_name}


async def session_view(
    session: AsyncSession, who: SessionCaller, mediation: MediationCase
) -> dict[str, Any]:
    """What every screen of the session draws: the state, and each party's checks. A phone
    sees the other parties' names masked."""
    rows = await checks_of(session, mediation.id)
    done = done_by_party(rows)
    phones = await on_own_device(session, mediation.id)
    state = MediationState(mediation.state)
    parties = []
    for index, party in enumerate(mediation.parties):
        mine = done.get(index, set())
        own = isinstance(who, MediationPass) and who.party == index
        shown = party.name if not isinstance(who, MediationPass) or own else mask_name(party.name)
        upcoming = rules.next_check(mine)
        parties.append(
            {
                "position": index,
                "name": shown,
                "on_own_device": index in phones,
                "done": [check.value for check in rules.ORDER if check in mine],
                "next": None if upcoming is None else upcoming.value,
                "ready": upcoming is None,
            }
        )
    return {
        "mediation": mediation.id,
        "state": state.value,
        "state_words": list(STATE_WORDS[state]),
        "dispute_type": mediation.dispute_type,
        "parties": parties,
        "checks": {check.value: list(rules.WORDING[check]) for check in rules.ORDER},
        "change_requests": await change_requests(session, mediation),
        "you": _you(who),
    }
