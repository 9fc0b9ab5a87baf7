"""The mediation transcript (调解笔录): what happened in a mediation's session, in order, each
line from a record the platform kept. Pure.

Nothing here is typed by anyone: every line is a room event (who came in, on which device, who
let them in), a check of a party (identity, consent, rights, the sham-mediation warning), a
party's request for a change, a draft saved, a signature, or the seal, each at its recorded
time. So the transcript says only what the records prove.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.domain.clock import court_time
from app.domain.mediation_checks import WORDING, Check

# Room events worth a line: joining, being let in, leaving or being removed. A dropped socket
# that comes back within its grace period is not a change of who was in the session.
_ROOM_WORDS = {
    "admit": "经调解员准许进入视频调解",
    "remove": "被调解员移出视频调解",
    "leave": "离开视频调解",
    "expire": "断线后未能在宽限时间内重新连接",
}


@dataclass(frozen=True)
class RoomLine:
    at: dt.datetime
    action: str  # join, admit, remove, leave, expire (room.* in the audit log)
    who: str  # as the transcript names the seat: 调解员李华, 当事人赵六（本人手机）, …
    admitted_on_join: bool = False
    recorder: bool = False  # the platform's own recorder, a hidden seat


@dataclass(frozen=True)
class CheckLine:
    at: dt.datetime
    party: str
    check: Check
    device: str


@dataclass(frozen=True)
class TextLine:
    """A line whose words are already written: a request for a change, a draft, a signature."""

    at: dt.datetime
    text: str


@dataclass(frozen=True)
class Line:
    at: dt.datetime
    time: str  # HH:MM:SS, Beijing time
    text: str


def _room_text(line: RoomLine) -> str | None:
    if line.recorder:
        return {"join": "平台开始录像", "leave": "平台停止录像"}.get(line.action)
    if line.action == "join":
        return f"{line.who}进入视频调解" if line.admitted_on_join else f"{line.who}进入候场"
    words = _ROOM_WORDS.get(line.action)
    return None if words is None else f"{line.who}{words}"


def _check_text(line: CheckLine) -> str:
    said = WORDING[line.check][0].rstrip("。")
    if line.check is Check.IDENTITY:
        return f"调解员核验当事人{line.party}的身份：{said}"
    return f"当事人{line.party}在{line.device}上确认：“{said}。”"


def lines(
    room: Iterable[RoomLine], checks: Iterable[CheckLine], written: Iterable[TextLine]
) -> list[Line]:
    """Every record as a line of the transcript, oldest first (records at the same instant
    keep the order they are given in: room, then checks, then the rest)."""
    found: list[tuple[dt.datetime, str]] = []
    for event in room:
        text = _room_text(event)
        if text is not None:
            found.append((event.at, text))
    found.extend((check.at, _check_text(check)) for check in checks)
    found.extend((item.at, item.text) for item in written)
    found.sort(key=lambda pair: pair[0])
    return [Line(at, court_time(at).strftime("%H:%M:%S"), text) for at, text in found]


def seat_name(participant: str, role: str, names: Mapping[str, str]) -> str:
    """How the transcript names a seat: the person where the platform knows them, else the
    seat's role."""
    known = names.get(participant)
    if known is not None:
        return known
    return {"kiosk": "调解室终端", "mediator": "调解员", "party": "当事人"}.get(role, role)
