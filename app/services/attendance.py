"""The transcript's attendance section: each seat's time in the video room and the recording.

From the room's audit events (what signaling recorded) and the recorder's runs and segments,
within the session the transcript covers. The wording is in templates/rulings/_attendance.txt.j2.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import attendance as facts
from app.domain.live import party_participant
from app.recording.restart import RESTART_CAUSES
from app.recording.settings import FAILED
from app.services.presence import room_history
from app.store.models import Case, RecordingRun, RecordingSegment

# The order seats are listed in: the judge presides, then where the parties are heard from.
_ROLE_ORDER = {"judge": 0, "kiosk": 1, "party": 2, "mediator": 3, "clerk": 4}
_ENDED_TEXT = {
    "dropped": "视频连接中断",
    "left": "离开",
    "removed": "被审判员移出",
    "timed_out": "连接中断后未恢复",
}
_STOP_TEXT = {"shutdown": "服务器停止运行", "interrupted": "服务器意外中止"}
_SEGMENT_TEXT = {
    "recording": "录制中",
    "closed": "已封存",
    "recovered": "异常中断后封存",
    "failed": "写入失败",
    "empty": "无内容",
    "purged": "已按期删除",
}


async def _segments(session: AsyncSession, case_id: int) -> list[facts.Segment]:
    rows = await session.scalars(
        select(RecordingSegment)
        .where(RecordingSegment.case_id == case_id)
        .order_by(RecordingSegment.id)
    )
    return [
        facts.Segment(
            r.participant_id, r.number, r.state, r.started_at, r.ended_at, r.sha256, r.failure
        )
        for r in rows
    ]


async def section(
    session: AsyncSession, case: Case, begin: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """The template's `attendance`: seats[], failures[], judge/kiosk/video_held facts."""
    seats = facts.histories(
        await room_history(session, case.id), await _segments(session, case.id), begin, end
    )
    names = {party_participant(case.id, p.position): p.name for p in case.parties}
    listed = sorted(
        (s for s in seats if s.role in _ROLE_ORDER),
        key=lambda s: (_ROLE_ORDER[s.role], s.participant),
    )
    kiosk = any(s.attended for s in seats if s.role == "kiosk")
    judge = any(s.attended for s in seats if s.role == "judge")
    own = {s.participant for s in seats if s.role == "party" and s.attended}
    hearing = facts.HearingFacts(
        judge_attended=judge,
        kiosk_attended=kiosk,
        parties_attended={
            p.position: kiosk or party_participant(case.id, p.position) in own for p in case.parties
        },
    )
    runs = list(
        await session.scalars(
            select(RecordingRun).where(RecordingRun.case_id == case.id).order_by(RecordingRun.id)
        )
    )
    failures = [
        {"run": r.id, "at": facts.hms(r.ended_at or end), "reason": (r.failure or "")[:200]}
        for r in runs
        # Within the record: a failure after the decision is not the hearing's.
        if r.state == FAILED
        and r.end_reason not in RESTART_CAUSES  # a server that died: said in "stops"
        and begin <= (r.ended_at or end) <= end
    ]
    return {
        "stops": _stops(runs, begin, end),
        "video_held": hearing.video_held,
        "judge_attended": hearing.judge_attended,
        "kiosk_attended": hearing.kiosk_attended,
        "seats": [_seat(s, names.get(s.participant, ""), end) for s in listed],
        "failures": failures,
    }


def _stops(runs: list[RecordingRun], begin: dt.datetime, end: dt.datetime) -> list[dict[str, str]]:
    """Each time the recording stopped because its server stopped or died, within the record,
    and when the next run began (the recording restarted by itself), if it did before the end."""
    out = []
    for i, run in enumerate(runs):
        cause = run.end_reason or ""
        if run.ended_at is None or not begin <= run.ended_at <= end:
            continue
        if cause not in RESTART_CAUSES:
            continue
        following = runs[i + 1] if i + 1 < len(runs) else None
        resumed = following is not None and following.started_at <= end
        out.append(
            {
                "at": facts.hms(run.ended_at),
                "cause": _STOP_TEXT[cause],
                "resumed": facts.hms(following.started_at) if resumed and following else "",
            }
        )
    return out


def _segment(g: facts.Segment, end: dt.datetime) -> dict[str, Any]:
    """A segment as of the record's end (the decision): one still recording then is printed as
    such, whatever came after, so the draft the parties confirm stays the draft archived."""
    if g.ended_at is None or g.ended_at > end:
        return {"number": g.number, "start": facts.hms(g.started_at), "end": "", "sha256": ""}
    return {
        "number": g.number,
        "start": facts.hms(g.started_at),
        "end": facts.hms(g.ended_at),
        "state": _SEGMENT_TEXT.get(g.state, g.state),
        "sha256": g.sha256 or "",
    }


def _seat(seat: facts.SeatHistory, name: str, end: dt.datetime) -> dict[str, Any]:
    return {
        "role": seat.role,
        "name": name,
        "stretches": [
            {
                "start": facts.hms(t.start),
                "end": facts.hms(t.end) if t.end else "",
                "ended_by": _ENDED_TEXT.get(t.ended_by, ""),
            }
            for t in seat.stretches
        ],
        "segments": [_segment(g, end) for g in seat.segments],
        "unrecorded": [
            {"start": facts.hms(i.start), "end": facts.hms(i.end)} for i in seat.unrecorded
        ],
    }
