"""A case's timeline: the session's records and the audit log's events about the case, in
order, each named in Chinese and English; words said and drafts read stay out of it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import session as rules
from app.services.session_records import Who, case_for, event_rows
from app.store.models import AuditEvent

# Each label in Chinese and English: (zh, en).
SESSION_LABEL: dict[rules.Kind, tuple[str, str]] = {
    rules.Kind.OPENED: ("另行开庭", "Further session opened"),
    rules.Kind.CHECK_IN: ("终端自检签到", "Kiosk self-test and check-in"),
    rules.Kind.ADMIT: ("审判员准许入室", "Judge admitted the room"),
    rules.Kind.IDENTITY: ("身份核验", "Identity check"),
    rules.Kind.WARNING_ACK: ("确认知悉虚假调解风险告知", "Sham-mediation warning acknowledged"),
    rules.Kind.CONSENT: ("当事人确认", "Party confirmed"),
    rules.Kind.ANSWERS: ("询问记录", "Answers recorded"),
    rules.Kind.REVIEW: ("审查记录", "Review recorded"),
    rules.Kind.SERVICE_CHOICE: ("当事人选择送达方式", "Party chose how to be served"),
    rules.Kind.TRANSCRIPT_CONFIRMED: ("当事人核对笔录并确认", "Party confirmed the transcript"),
    rules.Kind.TRANSCRIPT_CORRECTION_ASKED: (
        "当事人申请补正笔录",
        "Party asked for a correction of the transcript",
    ),
    rules.Kind.TRANSCRIPT_CORRECTION: (
        "审判员处理笔录补正申请",
        "Judge decided a correction of the transcript",
    ),
    rules.Kind.TRANSCRIPT_NOT_SIGNED: (
        "记明当事人未在笔录上签名",
        "Party's not signing the transcript noted",
    ),
    rules.Kind.WITHOUT_RECORDING: (
        "审判员决定在无录像的情况下继续",
        "Judge decided to go on without recording",
    ),
}
AUDIT_LABEL: dict[str, tuple[str, str]] = {
    "case.schedule": ("排期", "Scheduled"),
    "case.open_session": ("开庭", "Session opened"),
    "session.code_issued": ("发放加入码", "Join code issued"),
    "session.party_joined": ("当事人以本人设备加入", "Party joined on own device"),
    "room.join": ("进入视频确认室", "Joined the video room"),
    "room.admit": ("准许进入视频确认室", "Admitted to the video room"),
    # Not an action of its own: a room.join that says readmitted (below).
    "room.readmitted": (
        "重新进入视频确认室（此前已获准许入室）",
        "Back in the video room (admitted earlier in the session)",
    ),
    "room.drop": ("视频连接中断", "Video connection lost"),
    "room.resume": ("视频连接恢复", "Video connection back"),
    "room.leave": ("离开视频确认室", "Left the video room"),
    "room.remove": ("被审判员移出视频确认室", "Removed from the video room by the judge"),
    "room.expire": ("连接中断后未恢复", "Connection lost and not back"),
    "room.adopt": ("视频确认室由另一台服务器接管", "Video room taken over by another server"),
    "room.handover": ("视频确认室移交另一台服务器", "Video room handed to another server"),
    "recording.started": ("开始录像", "Recording started"),
    "recording.stopped": ("录像结束", "Recording ended"),
    "recording.failed": ("录像故障中断", "Recording failed"),
    "recording.interrupted": ("录像因服务器意外停止而中断", "Recording cut off: the server died"),
    "recording.segment_interrupted": (
        "录像分段因服务器意外停止而中断",
        "Recording segment cut off: the server died",
    ),
    "recording.restarted": ("重新开始录像", "Recording started again"),
    "case.confirm": ("裁定确认调解协议有效", "Decided: agreement confirmed"),
    "case.reject": ("裁定驳回申请", "Decided: application rejected"),
    "case.withdraw": ("准许撤回申请", "Withdrawal allowed"),
    "case.issue_ruling": ("出具裁定书", "Ruling issued"),
    "service.acknowledged": ("当事人签收", "Party acknowledged receipt"),
    "service.paper_form": ("打印送达回证", "Paper receipt form printed"),
    "service.paper_recorded": (
        "书记员登记纸质送达回证",
        "Clerk recorded the signed paper receipt form",
    ),
    "case.serve": ("送达完成", "Service completed"),
}
_AUDIT_KEEP = (
    "party",
    "ground",
    "result",
    "method",
    "device",
    "role",
    "participant",
    "signed_on",
    "run",
    "reason",
    "after",
    "readmitted",
)


# Words said and drafts read stay in the session record and the transcript; the timeline
# lists facts.
_TIMELINE_PRIVATE = frozenset({"note", "reference", "presence", "request", "text", "draft_sha256"})


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    source: str  # "session" (session_events) or "audit" (the audit log)
    kind: str
    label: str
    label_en: str
    actor: str
    session: int | None = None
    party: int | None = None
    details: Mapping[str, Any] | None = None


async def timeline(session: AsyncSession, who: Who, case_id: int) -> list[TimelineItem]:
    case = await case_for(session, who, case_id)
    items: list[tuple[dt.datetime, int, int, TimelineItem]] = []
    for row in await event_rows(session, case.id):
        kind = rules.Kind(row.kind)
        payload = json.loads(row.payload)
        details = {
            k: v for k, v in payload.items() if k not in _TIMELINE_PRIVATE
        }  # notes belong in the transcript, not a list anyone with the case sees; the presence
        # evidence stays in the stored record
        if kind is rules.Kind.REVIEW:
            details = {"present": {g: i["present"] for g, i in payload["items"].items()}}
        item = TimelineItem(
            row.at,
            "session",
            kind.value,
            *SESSION_LABEL[kind],
            row.actor,
            row.session_no,
            row.party_position,
            details or None,
        )
        items.append((row.at, 0, row.id, item))
    result = await session.execute(
        select(AuditEvent)
        .where(AuditEvent.case_id == case.id, AuditEvent.action.in_(list(AUDIT_LABEL)))
        .order_by(AuditEvent.seq)
    )
    for event in result.scalars():
        data = json.loads(event.details)
        party = data.get("party") if isinstance(data.get("party"), int) else None
        kept = {k: data[k] for k in _AUDIT_KEEP if k in data and k != "party"}
        # A seat let in again after a restart, on the judge's earlier admission, is told
        # from one the judge admits now.
        label = "room.readmitted" if data.get("readmitted") is True else event.action
        item = TimelineItem(
            event.at,
            "audit",
            event.action,
            *AUDIT_LABEL[label],
            event.actor,
            None,
            party,
            kept or None,
        )
        items.append((event.at, 1, event.seq, item))
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    return [t[3] for t in items]
