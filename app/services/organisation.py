"""The administrator's courts, committees, halls and rooms, and which room each kiosk account
stands in. Each use case is one transaction with its audit event (org.*); the rules are in
app/domain/organisation.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.cases import State
from app.domain.errors import Conflict, NotFound, ValidationError
from app.domain.organisation import (
    PARENT,
    Draft,
    Kind,
    code_taken,
    name_taken,
    no_such,
    parent_field,
    refuse_move,
    refuse_recode,
    require_admin,
)
from app.domain.roles import Role
from app.services import accounts, audit
from app.store.models import Account, Case, Committee, Court, Hall, Room

Unit = Court | Committee | Hall | Room
MODEL: dict[Kind, type[Court] | type[Committee] | type[Hall] | type[Room]] = {
    Kind.COURT: Court,
    Kind.COMMITTEE: Committee,
    Kind.HALL: Hall,
    Kind.ROOM: Room,
}


def _parent_attr(kind: Kind) -> str:
    """The column naming a unit's parent: the body's field of the same name."""
    attr = parent_field(kind)
    assert attr is not None, f"a {kind} has no parent"
    return attr


def _court_id_of(kind: Kind, unit_id: int) -> Select[int]:
    """The court a unit belongs to, through its parents."""
    if kind is Kind.COURT:
        return select(Court.id).where(Court.id == unit_id)
    query = select(Committee.court_id)
    if kind is Kind.COMMITTEE:
        return query.where(Committee.id == unit_id)
    query = query.join(Hall, Hall.committee_id == Committee.id)
    if kind is Kind.HALL:
        return query.where(Hall.id == unit_id)
    return query.join(Room, Room.hall_id == Hall.id).where(Room.id == unit_id)


async def court_of(session: AsyncSession, kind: Kind, unit_id: int) -> int:
    court = await session.scalar(_court_id_of(kind, unit_id))
    assert court is not None, f"{kind} {unit_id} belongs to no court"
    return court


def _rooms_under(kind: Kind, unit_id: int) -> Select[int]:
    """The rooms of a room (itself), a hall or a committee."""
    query = select(Room.id)
    if kind is Kind.ROOM:
        return query.where(Room.id == unit_id)
    if kind is Kind.HALL:
        return query.where(Room.hall_id == unit_id)
    return query.join(Hall, Room.hall_id == Hall.id).where(Hall.committee_id == unit_id)


async def cases_of(session: AsyncSession, kind: Kind, unit_id: int) -> int:
    """Cases a committee filed or that were booked into a room under the unit."""
    touching: ColumnElement[bool] = Case.room_id.in_(_rooms_under(kind, unit_id))
    if kind is Kind.COMMITTEE:
        touching = or_(touching, Case.committee_id == unit_id)
    return int(await session.scalar(select(func.count()).select_from(Case).where(touching)) or 0)


async def _find(
    session: AsyncSession, kind: Kind, unit_id: int | None, *, lock: bool = False
) -> Unit | None:
    if unit_id is None:
        return None
    model = MODEL[kind]
    # Locks the unit's own row (a room loads its hall along, which PostgreSQL will not lock).
    found = await session.get(model, unit_id, with_for_update={"of": model} if lock else None)
    return cast("Unit | None", found)  # the model of `kind`, which mypy cannot follow


async def _get(session: AsyncSession, kind: Kind, unit_id: int) -> Unit:
    unit = await _find(session, kind, unit_id, lock=True)
    if unit is None:
        raise NotFound(no_such(kind))
    return unit


async def _parent(session: AsyncSession, kind: Kind, parent_id: int | None) -> Unit:
    """The unit a body names as parent: a wrong one is a mistake in the body (422)."""
    parent = await _find(session, PARENT[kind], parent_id)
    if parent is None:
        raise ValidationError([(_parent_attr(kind), no_such(PARENT[kind]))])
    return parent


async def _refuse_taken(
    session: AsyncSession, kind: Kind, draft: Draft, unit_id: int | None
) -> None:
    model = MODEL[kind]
    others: list[ColumnElement[bool]] = [] if unit_id is None else [model.id != unit_id]
    named = select(model.id).where(model.name == draft.name, *others)
    if draft.name is not None and await session.scalar(named):
        raise name_taken(kind, draft.name)
    coded = select(Court.id).where(Court.code == draft.code, *others)
    if draft.code is not None and await session.scalar(coded):
        raise code_taken(draft.code)


async def _flush(session: AsyncSession, kind: Kind, draft: Draft) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # Another administrator took the name (or code) between the check and the write.
        raise (
            code_taken(draft.code)
            if draft.code is not None and kind is Kind.COURT
            else name_taken(kind, draft.name or "")
        ) from None


async def _record(
    session: AsyncSession, actor: Actor, action: str, details: dict[str, Any], now: dt.datetime
) -> None:
    await audit.append(
        session, actor=actor.username, action=action, case_id=None, details=details, now=now
    )


async def _create(
    session: AsyncSession, actor: Actor, kind: Kind, draft: Draft, now: dt.datetime
) -> Unit:
    """A new unit, audited as org.<kind>_created."""
    require_admin(actor)
    assert draft.name is not None, "read_draft requires every field of a new unit"
    values: dict[str, Any] = {"name": draft.name}
    details: dict[str, Any] = {"name": draft.name}
    if kind is Kind.COURT:
        values["code"] = details["code"] = draft.code
    else:
        parent = await _parent(session, kind, draft.parent_id)
        values[_parent_attr(kind)] = parent.id
        details[PARENT[kind].value] = parent.name
    await _refuse_taken(session, kind, draft, None)
    unit = MODEL[kind](**values)
    session.add(unit)
    await _flush(session, kind, draft)
    await _record(session, actor, f"org.{kind}_created", {"id": unit.id, **details}, now)
    return unit


async def _move(
    session: AsyncSession, kind: Kind, unit: Unit, parent_id: int | None
) -> dict[str, Any]:
    """Re-parent a unit; within its court freely, to another court only without cases."""
    parent = await _parent(session, kind, parent_id)
    before = await court_of(session, kind, unit.id)
    after = await court_of(session, PARENT[kind], parent.id)
    if before != after:
        refuse_move(kind, await cases_of(session, kind, unit.id))
        if kind is Kind.COMMITTEE:
            # A mediator carries its committee's court (accounts.add_account).
            await session.execute(
                update(Account).where(Account.committee_id == unit.id).values(court_id=after)
            )
    change = {"from": getattr(unit, _parent_attr(kind)), "to": parent.id}
    setattr(unit, _parent_attr(kind), parent.id)
    return change


async def _edit(
    session: AsyncSession, actor: Actor, kind: Kind, unit_id: int, draft: Draft, now: dt.datetime
) -> Unit:
    """Change what the draft sets, audited as org.<kind>_updated with each change; asking for
    what is already there changes nothing and records nothing."""
    require_admin(actor)
    unit = await _get(session, kind, unit_id)
    wanted = Draft(
        draft.name if draft.name != unit.name else None,
        draft.code if isinstance(unit, Court) and draft.code != unit.code else None,
    )
    await _refuse_taken(session, kind, wanted, unit.id)
    changed: dict[str, Any] = {}
    if wanted.name is not None:
        changed["name"] = {"from": unit.name, "to": wanted.name}
        unit.name = wanted.name
    if isinstance(unit, Court) and wanted.code is not None:
        numbered = await session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.court_id == unit.id, Case.case_number.is_not(None))
        )
        refuse_recode(int(numbered or 0))
        changed["code"] = {"from": unit.code, "to": wanted.code}
        unit.code = wanted.code
    if kind in PARENT and draft.parent_id not in (None, getattr(unit, _parent_attr(kind))):
        changed[_parent_attr(kind)] = await _move(session, kind, unit, draft.parent_id)
    if not changed:
        return unit
    await _flush(session, kind, wanted)
    details = {"id": unit.id, "name": unit.name, "changed": changed}
    await _record(session, actor, f"org.{kind}_updated", details, now)
    return unit


async def save(
    session: AsyncSession,
    actor: Actor,
    kind: Kind,
    unit_id: int | None,
    draft: Draft,
    now: dt.datetime,
) -> Unit:
    """A new unit (`unit_id` None) or an edit of one."""
    if unit_id is None:
        return await _create(session, actor, kind, draft, now)
    return await _edit(session, actor, kind, unit_id, draft, now)


async def bind_kiosk(
    session: AsyncSession, actor: Actor, room_id: int, account_id: int | None, now: dt.datetime
) -> Account:
    """Put a kiosk account in a room (it stands in exactly one). Its login sessions end: the
    device still logged in belongs to the old room and must not start showing the new room's
    parties unnoticed."""
    require_admin(actor)
    room = await _get(session, Kind.ROOM, room_id)
    kiosk = None if account_id is None else await session.get(Account, account_id)
    if kiosk is None or kiosk.role != Role.KIOSK.value:
        raise ValidationError([("account_id", "没有这个终端账户。 / No such kiosk account.")])
    if kiosk.room_id == room.id:
        return kiosk
    busy = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.room_id == kiosk.room_id, Case.state == State.IN_SESSION.value)
    )
    if busy:
        raise Conflict(
            "该终端所在确认室正在进行在线确认，结束后再改。 / The kiosk's room is in session; "
            "move it afterwards.",
            code="room_in_session",
        )
    before = await session.get(Room, kiosk.room_id) if kiosk.room_id is not None else None
    kiosk.room_id = room.id
    ended = await accounts.end_sessions(session, kiosk.id)
    details = accounts.account_details(
        kiosk,
        from_room=before.name if before is not None else None,
        to_room=room.name,
        sessions_ended=ended,
    )
    await _record(session, actor, "org.kiosk_bound", details, now)
    return kiosk
