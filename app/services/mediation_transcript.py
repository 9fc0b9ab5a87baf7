"""The mediation transcript's context (templates/rulings/mediation_transcript.txt.j2) from the
records of the session: the room's trail, the checks, the requests, the drafts, the
signatures, and the recorder's runs (app/domain/mediation_transcript.py words them)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import mediation_transcript as words
from app.domain.live import participant_id
from app.domain.mediation_checks import Check
from app.domain.roles import Role
from app.services.mediation_agreements import AgreementRecord
from app.services.mediation_pass import on_own_device, party_seat
from app.services.mediation_room import KIOSK_DEVICE, change_requests
from app.services.party_checks import checks_of
from app.store.models import Account, AgreementDraftRow, AuditEvent, Committee, RecordingSegment
from signaling.room_keys import mediation_room

_ROOM_ACTIONS = ("room.join", "room.admit", "room.remove", "room.leave", "room.expire")


async def _seat_names(
    session: AsyncSession, record: AgreementRecord, actors: set[str], mediator: Account | None
) -> dict[str, str]:
    mediation = record.mediation
    names = {
        party_seat(mediation.id, p.position): f"当事人{p.name}（本人手机）"
        for p in mediation.parties
    }
    if mediator is not None:
        names[participant_id(Role.MEDIATOR, mediator.id)] = f"调解员{mediator.display_name}"
    kiosks = {int(a.removeprefix("kiosk-")) for a in actors if a.startswith("kiosk-")}
    if kiosks:
        rows = await session.execute(
            select(Account.id, Account.display_name).where(Account.id.in_(kiosks))
        )
        names.update({participant_id(Role.KIOSK, i): name for i, name in rows.all()})
    return names


async def _room_lines(
    session: AsyncSession, record: AgreementRecord, mediator: Account | None
) -> tuple[list[words.RoomLine], bool]:
    """The room's trail, and whether a kiosk took part."""
    rows = list(
        await session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.case_id == mediation_room(record.mediation.id),
                AuditEvent.action.in_(_ROOM_ACTIONS),
            )
            .order_by(AuditEvent.seq)
        )
    )
    names = await _seat_names(session, record, {r.actor for r in rows}, mediator)
    found = []
    for row in rows:
        details = json.loads(row.details)
        role = str(details.get("role", ""))
        who = words.seat_name(row.actor, role, names)
        admitted = bool(details.get("admitted"))
        action = row.action.removeprefix("room.")
        found.append(words.RoomLine(row.at, action, who, admitted, recorder=role == "recorder"))
    return found, any(r.actor.startswith("kiosk-") for r in rows)


async def _written(session: AsyncSession, record: AgreementRecord) -> list[words.TextLine]:
    mediation, row = record.mediation, record.row
    names = {p.position: p.name for p in mediation.parties}
    drafts = await session.execute(
        select(AgreementDraftRow.version, AgreementDraftRow.saved_at)
        .where(AgreementDraftRow.mediation_id == mediation.id)
        .order_by(AgreementDraftRow.version)
    )
    found = [
        words.TextLine(saved_at, f"调解员保存调解协议草稿第{version}稿")
        for version, saved_at in drafts.all()
    ]
    if row is not None and row.frozen_at is not None:
        found.append(
            words.TextLine(row.frozen_at, f"调解员将第{row.draft_version}稿定稿，交当事人签名")
        )
    for asked in await change_requests(session, mediation):
        who = names.get(asked["party"], "")
        at = dt.datetime.fromisoformat(asked["at"])
        found.append(words.TextLine(at, f"当事人{who}请求修改协议草稿：“{asked['text']}”"))
    counted = {id(s) for s in record.counting()}
    for s in record.signatures:
        if s.party_position is None:
            text = f"调解员{s.signer_name}在第{s.draft_version}稿上手写签名"
        else:
            text = f"当事人{s.signer_name}在{s.device}上手写签名，签署第{s.draft_version}稿"
            if s.applies_for_confirmation:
                text += "，并同意共同申请司法确认"
        if id(s) not in counted:
            text += "（该稿此后经修改，此签名已作废）"
        found.append(words.TextLine(s.signed_at, text))
    return found


async def transcript_context(
    session: AsyncSession, record: AgreementRecord, sealed_at: dt.datetime
) -> dict[str, Any]:
    """What the transcript reads, as of the seal (which is its last line)."""
    mediation = record.mediation
    committee = await session.get(Committee, mediation.committee_id)
    mediator = await session.get(Account, mediation.mediator_id) if mediation.mediator_id else None
    assert committee is not None
    room, kiosk_took_part = await _room_lines(session, record, mediator)
    names = {p.position: p.name for p in mediation.parties}
    made = await checks_of(session, mediation.id)
    checks = [
        words.CheckLine(c.at, names[c.party_position], Check(c.check), c.device) for c in made
    ]
    written = await _written(session, record)
    written.append(words.TextLine(sealed_at, "人民调解委员会加盖电子印章，调解协议生效"))
    lines = words.lines(room, checks, written)
    phones = await on_own_device(session, mediation.id)
    at_kiosk = {c.party_position for c in made if c.device.startswith(KIOSK_DEVICE)}
    # Recorded: the recorder holds media of the session, not merely a run that saw nobody.
    recorded = await session.scalar(
        select(RecordingSegment.id)
        .where(RecordingSegment.case_id == mediation_room(mediation.id))
        .limit(1)
    )

    def where(position: int) -> str:
        """Where the records show the party took part; nothing where they show nothing."""
        if position in phones:
            return "在本人手机上参加"
        if position in at_kiosk or kiosk_took_part:
            return "在调解室终端参加"
        return ""

    return {
        "committee_name": committee.name,
        "reference": f"调{mediation.id}",
        "mediator_name": mediator.display_name if mediator else "",
        "dispute_type": mediation.dispute_type,
        "parties": [{"name": p.name, "where": where(p.position)} for p in mediation.parties],
        "lines": lines,
        "started_at": lines[0].at if lines else sealed_at,
        "ended_at": sealed_at,
        "recorded": recorded is not None,
        "by_video": any(not line.recorder for line in room),
    }
