"""Serving the ruling on each party (送达): the party's own answer to electronic service, the
electronic receipt with its signed voucher (电子送达凭证), and the paper path (a printed ruling
and a 送达回证 the party signs by hand, recorded by the clerk). The case is served when every
party is, whichever the path."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import refusals
from app.domain import service_choice as choice
from app.domain import session as rules
from app.domain.access import Actor
from app.domain.cases import HEARING, State, Step
from app.domain.clock import court_date
from app.domain.errors import Conflict, NotPermitted, ValidationError, WrongState
from app.domain.free_text import read_free_text
from app.domain.roles import Role
from app.domain.state_words import wrong_state
from app.files import issued_file
from app.metrics import observe
from app.ruling import model as doc
from app.ruling.desk import RulingDesk
from app.services import audit, session_records
from app.services.cases import _take_step, load_case, names_for
from app.services.rulings import ruling_of, verification_url
from app.services.session_records import PartyPass, Result, Who
from app.store.db import Database
from app.store.models import Case, PaperReceipt, Room, Ruling, ServiceReceipt

SERVICE_METHOD = "在线司法确认室当场电子送达，受送达人于终端确认签收"
# A party who joined from their own device with the mediator's one-time code is served there
# (人民法院在线诉讼规则 arts 29-32: electronic service through the court's platform).
OWN_DEVICE_METHOD = "通过人民法院在线服务平台向受送达人本人设备电子送达，受送达人于本人设备确认签收"
OWN_DEVICE_PLACE = "受送达人本人设备"
SERVABLE = frozenset({State.RULING_ISSUED, State.SERVED})


def _no_ruling(case: Case) -> WrongState:
    return WrongState(wrong_state(case.state, "送达裁定书", "serve a ruling"))


async def paper_receipt_of(
    session: AsyncSession, case_id: int, position: int
) -> PaperReceipt | None:
    return await session.scalar(
        select(PaperReceipt).where(
            PaperReceipt.case_id == case_id, PaperReceipt.party_position == position
        )
    )


def _paper_done(receipt: PaperReceipt) -> Conflict:
    return Conflict(
        f"申请人{receipt.recipient_name}已纸质签收，不能重复签收。 / "
        f"{receipt.recipient_name} signed a paper receipt already.",
        code="already_acknowledged",
    )


async def _served(
    session: AsyncSession, case: Case, position: int
) -> ServiceReceipt | PaperReceipt | None:
    """The party's receipt, whichever the path: one service per party."""
    done = await session_records.receipt_of(session, case.id, position)
    return done if done is not None else await paper_receipt_of(session, case.id, position)


async def _refuse_if_served(session: AsyncSession, case: Case, position: int) -> None:
    done = await _served(session, case, position)
    if isinstance(done, ServiceReceipt):
        raise session_records.already_acknowledged(done)
    if done is not None:
        raise _paper_done(done)


async def _served_count(session: AsyncSession, case_id: int) -> int:
    electronic = await session.scalar(
        select(func.count()).select_from(ServiceReceipt).where(ServiceReceipt.case_id == case_id)
    )
    paper = await session.scalar(
        select(func.count()).select_from(PaperReceipt).where(PaperReceipt.case_id == case_id)
    )
    return int(electronic or 0) + int(paper or 0)


async def _settle(session: AsyncSession, case: Case, now: dt.datetime) -> None:
    """Every party served, one way or the other: the case is served."""
    count = await _served_count(session, case.id)
    if count == len(case.parties) and State(case.state) is State.RULING_ISSUED:
        system = Actor(0, "system", Role.SYSTEM, "system")
        await _take_step(session, system, case, Step.SERVE, now, {"parties": count})
        observe.session_served(await session_records.view_of(session, case, now))


async def hall_done(session: AsyncSession, case: Case) -> bool:
    """Nothing left for the room to do: each party signed on screen or asked for paper (which
    the clerk serves away from the video room). Then the hearing's recording may stop."""
    if State(case.state) is State.SERVED:
        return True
    if State(case.state) is not State.RULING_ISSUED:
        return False
    view = await session_records.view_of(session, case, case.updated_at)
    for record in view.parties:
        if record.service_electronic is False:
            continue
        if await session_records.receipt_of(session, case.id, record.position) is None:
            return False
    return True


# --- the party's answer --------------------------------------------------------------------


async def choose(
    session: AsyncSession, who: Who, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> Result:
    """The party's own tap: electronic service yes, or no (paper). Asked once."""
    if isinstance(who, Actor):
        session_records.require_role(
            who, Role.KIOSK, "须由当事人在终端选择。 / Parties answer at the room's kiosk."
        )
    case, view = await session_records.prepare(
        session, who, case_id, HEARING, "选择送达方式 / choose how to be served", now
    )
    party = session_records.acting_party(who, data)
    electronic = choice.read_choice(data)
    record = view.party(party)
    choice.check_choice(record, served=await _served(session, case, party) is not None)
    device = rules.Device.OWN_DEVICE if isinstance(who, PartyPass) else rules.Device.KIOSK
    payload = {"electronic": electronic, "device": device.value}
    await session_records.append(
        session,
        case,
        view,
        rules.Kind.SERVICE_CHOICE,
        party,
        payload,
        who.username,
        now,
        audit_details=payload,
    )
    return await session_records.done(session, case, now)


# --- electronic service: the receipt and its voucher -------------------------------------


def _recipient(who: Who, position: int | None) -> int:
    """Whose receipt: a party's own device only its own; the room's kiosk names the party
    sitting in front of it. Nobody else acknowledges for a party."""
    if isinstance(who, PartyPass):
        if position is not None and position != who.party:
            raise NotPermitted("只能为本人签收。 / A party acknowledges receipt only for themself.")
        return who.party
    if who.role is not Role.KIOSK:
        raise NotPermitted("须在确认室终端签收。 / Receipt is acknowledged at the room's kiosk.")
    if position is None:
        raise ValidationError([("party", refusals.PARTY_POSITION)])
    return position


async def acknowledge(
    db: Database,
    desk: RulingDesk,
    who: Who,
    case_id: int,
    position: int | None,
    *,
    folder: Path,
    public_url: str,
    now: dt.datetime,
) -> ServiceReceipt:
    """A party acknowledges receipt, at the room's kiosk or on their own device: record it and
    sign a service voucher. Each party acknowledges once; a second time is refused, so a
    voucher always names the one act of receipt."""
    position = _recipient(who, position)
    own_device = isinstance(who, PartyPass)
    async with db.transaction() as session:
        case = await session_records.case_for(session, who, case_id)
        ruling = await ruling_of(session, case.id)
        if ruling is None or State(case.state) not in SERVABLE:
            raise _no_ruling(case)
        party = next((p for p in case.parties if p.position == position), None)
        if party is None:
            raise ValidationError([("party", "没有该当事人。 / No such party.")])
        await _refuse_if_served(session, case, position)
        # Electronic service only with the party's own consent, asked in its own tap.
        record = (await session_records.view_of(session, case, now)).party(position)
        choice.require(record, choice.Path.ELECTRONIC)
        assert record.service_choice_at is not None
        names = await names_for(session, case)
        assert case.case_number and case.clerk_id
        if own_device:
            device, method = OWN_DEVICE_PLACE, OWN_DEVICE_METHOD
        else:
            room = await session.get(Room, case.room_id)
            assert room is not None
            # The room by its name: the kiosk's login account is no fact of the service.
            device, method = room.name, SERVICE_METHOD
        # The voucher's own page, so that scanning it checks the voucher, not the ruling.
        voucher_token = secrets.token_urlsafe(24)
        voucher = doc.VoucherData(
            court_name=names.court,
            case_number=case.case_number,
            document_title="民事裁定书",
            document_sha256=ruling.sha256,
            recipient_name=party.name,
            method=method,
            place=device,
            acknowledged_at=now,
            served_by=f"书记员{names.accounts[case.clerk_id]}",
            verification_url=verification_url(public_url, voucher_token),
            own_device=own_device,
            consented_at=record.service_choice_at,
        )
    pdf = await desk.voucher(voucher)
    storage_name = f"{court_date(now).year}/{case_id}-voucher-{position}-{secrets.token_hex(4)}.pdf"
    details: dict[str, Any] = {"party": position, "device": device, "method": method}
    if isinstance(who, PartyPass):
        details["code"] = who.code_id  # which redemption of which join code
    try:
        with issued_file(folder / storage_name, pdf):
            async with db.transaction() as session:
                case = await session_records.case_for(session, who, case_id)
                # Checked again: another tap (the kiosk, a second device) may have won the race
                # while the voucher was being signed; the unique key catches the rest.
                await _refuse_if_served(session, case, position)
                receipt = ServiceReceipt(
                    case_id=case.id,
                    party_position=position,
                    recipient_name=voucher.recipient_name,
                    acknowledged_at=now,
                    device=device,
                    method=method,
                    voucher_storage_name=storage_name,
                    voucher_sha256=hashlib.sha256(pdf).hexdigest(),
                    verify_token=voucher_token,
                )
                session.add(receipt)
                await session.flush()
                await audit.append(
                    session,
                    actor=who.username,
                    action="service.acknowledged",
                    case_id=case.id,
                    details={**details, "voucher_sha256": receipt.voucher_sha256},
                    now=now,
                )
                await _settle(session, case, now)
    except IntegrityError:
        raise Conflict(
            "该当事人已签收，不能重复签收。 / This party already acknowledged receipt.",
            code="already_acknowledged",
        ) from None
    return receipt


async def receipts_of(session: AsyncSession, case_id: int) -> list[ServiceReceipt]:
    rows = await session.execute(
        select(ServiceReceipt)
        .where(ServiceReceipt.case_id == case_id)
        .order_by(ServiceReceipt.party_position)
    )
    return list(rows.scalars())


# --- paper service: the form and the clerk's record ------------------------------------------


async def paper_awaited(
    session: AsyncSession, case: Case, view: rules.SessionView
) -> list[rules.PartyRecord]:
    """Parties who asked for paper and whose signed 送达回证 the clerk has not yet recorded."""
    on_paper = {r.party_position for r in await paper_receipts_of(session, case.id)}
    return [p for p in view.parties if p.service_electronic is False and p.position not in on_paper]


async def paper_receipts_of(session: AsyncSession, case_id: int) -> list[PaperReceipt]:
    rows = await session.scalars(
        select(PaperReceipt)
        .where(PaperReceipt.case_id == case_id)
        .order_by(PaperReceipt.party_position)
    )
    return list(rows)


async def _paper_party(
    session: AsyncSession, case: Case, position: int, now: dt.datetime
) -> rules.PartyRecord:
    """The party, who must have asked for paper and not be served yet."""
    if State(case.state) not in SERVABLE or await ruling_of(session, case.id) is None:
        raise _no_ruling(case)
    record = (await session_records.view_of(session, case, now)).party(position)
    choice.require(record, choice.Path.PAPER)
    await _refuse_if_served(session, case, position)
    return record


def _read_signed_on(data: Mapping[str, Any], issued: dt.date, today: dt.date) -> dt.date:
    raw = data.get("signed_on")
    try:
        day = dt.date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError([("signed_on", refusals.SIGNED_ON)])
    if not issued <= day <= today:
        raise ValidationError(
            [
                (
                    "signed_on",
                    f"签收日期应在{issued}至{today}之间。 / "
                    f"Must be between {issued} (issue) and {today}.",
                )
            ]
        )
    return day


async def record_paper_receipt(
    session: AsyncSession, actor: Actor, case_id: int, data: Mapping[str, Any], now: dt.datetime
) -> PaperReceipt:
    """The clerk has the 送达回证 back, signed by the party: record when it was signed."""
    if actor.role is not Role.CLERK:
        raise NotPermitted("纸质送达由书记员登记。 / The clerk records a paper receipt.")
    case = await load_case(session, actor, case_id)
    await session_records.lock_case(session, case)
    position = session_records.party_position(data)
    record = await _paper_party(session, case, position, now)
    ruling = await ruling_of(session, case.id)
    assert ruling is not None
    signed_on = _read_signed_on(data, court_date(ruling.issued_at), court_date(now))
    note = read_free_text(data, "note", choice.MAX_PAPER_NOTE, required=False)
    receipt = PaperReceipt(
        case_id=case.id,
        party_position=position,
        recipient_name=record.name,
        signed_on=signed_on,
        recorded_at=now,
        recorded_by=actor.username,
        note=note,
    )
    session.add(receipt)
    try:
        await session.flush()
    except IntegrityError:
        raise _paper_done(receipt) from None
    await audit.append(
        session,
        actor=actor.username,
        action="service.paper_recorded",
        case_id=case.id,
        details={"party": position, "signed_on": signed_on.isoformat()},
        now=now,
    )
    await _settle(session, case, now)
    return receipt


async def paper_form(
    db: Database, desk: RulingDesk, actor: Actor, case_id: int, position: int, now: dt.datetime
) -> bytes:
    """The 送达回证 to print for a party who asked for paper: the room's kiosk prints it with the
    ruling; the clerk and the judge may print it too. Each print is audited."""
    if actor.role not in (Role.KIOSK, Role.CLERK, Role.JUDGE):
        raise NotPermitted("无权打印送达回证。 / Not yours to print.")
    async with db.transaction() as session:
        case = await load_case(session, actor, case_id)
        record = await _paper_party(session, case, position, now)
        ruling = await session.scalar(select(Ruling).where(Ruling.case_id == case.id))
        assert ruling is not None and case.case_number and case.clerk_id
        names = await names_for(session, case)
        room = await session.get(Room, case.room_id) if case.room_id else None
        assert record.service_choice_at is not None
        context = {
            "court_name": names.court,
            "case_number": case.case_number,
            "document_title": "民事裁定书",
            "document_sha256": ruling.sha256,
            "recipient_name": record.name,
            "place": room.name if room else "",
            "served_by": f"书记员{names.accounts[case.clerk_id]}",
            "declined_at": record.service_choice_at,
            "made_at": now,
        }
        await audit.append(
            session,
            actor=actor.username,
            action="service.paper_form",
            case_id=case.id,
            details={"party": position},
            now=now,
        )
    return await desk.paper_form(context)
