"""Who is really in the confirmation room, with media, at the moment of a record. Pure.

A record of the hearing (an identity check, an answer, the decision) says that the people
concerned were heard over video. The server can see that for itself: the person's seat in the
signaling room is connected and admitted, and media from it is flowing — the hearing recorder
holds a live segment for it, or its device reported `stats` recently. The shell
(app/services/presence.py) gathers a SeatPresence per seat; these rules read only that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain.errors import WrongState
from app.domain.session import SessionRefused

# A device sends `stats` every 5 s (call.js); three missed reports in a row is a device whose
# media the server no longer sees. The one place "recent" is defined.
RECENT_STATS = dt.timedelta(seconds=15)

KIOSK, PARTY, JUDGE = "kiosk", "party", "judge"


@dataclass(frozen=True)
class SeatPresence:
    """One seat of the room as the server saw it at `RoomPresence.seen_at`."""

    participant_id: str
    role: str
    connected: bool
    admitted: bool
    admitted_since: dt.datetime | None  # from the room's audit log; None: not yet written
    segment_id: int | None  # the recorder's live segment for this seat
    stats_at: dt.datetime | None  # its last `stats` report, on the app's clock

    def evidence(self) -> dict[str, Any]:
        media: dict[str, Any] = {}
        if self.segment_id is not None:
            media["segment"] = self.segment_id
        if self.stats_at is not None:
            media["stats_at"] = self.stats_at.isoformat()
        return {
            "participant": self.participant_id,
            "role": self.role,
            "admitted_since": self.admitted_since.isoformat() if self.admitted_since else None,
            "media": media,
        }


@dataclass(frozen=True)
class RoomPresence:
    seen_at: dt.datetime
    seats: Mapping[str, SeatPresence]  # by participant id; the recorder is left out
    reachable: bool = True  # False: no node could show the room just now

    def by_role(self, role: str) -> list[SeatPresence]:
        return [s for s in self.seats.values() if s.role == role]


class Absence(StrEnum):
    NOT_IN_ROOM = "not_in_room"
    IN_LOBBY = "in_lobby"
    DROPPED = "dropped"
    NO_MEDIA = "no_media"
    ROOM_UNSEEN = "room_unseen"
    LOBBY_EMPTY = "lobby_empty"


_TEXT: dict[Absence, tuple[str, str]] = {
    Absence.NOT_IN_ROOM: ("{zh}不在视频确认室", "{en} is not in the video room"),
    Absence.IN_LOBBY: ("{zh}仍在等候区，尚未准许入室", "{en} is still waiting in the lobby"),
    Absence.DROPPED: ("{zh}的视频连接已中断", "{en}: the video connection dropped"),
    Absence.NO_MEDIA: (
        "服务器未收到{zh}的音视频（没有录像分段，{secs}秒内也没有媒体统计报告）",
        "the server receives no media from {en} (no recording segment, no stats report within "
        "{secs} s)",
    ),
    Absence.ROOM_UNSEEN: ("暂时无法查看视频确认室", "the video room cannot be seen just now"),
    Absence.LOBBY_EMPTY: (
        "等候区没有确认室终端或当事人",
        "nobody (kiosk or party) is waiting in the lobby",
    ),
}


@dataclass(frozen=True)
class Absent:
    """One person the record needs who is not present with media: why, in both languages."""

    why: Absence
    who_zh: str = ""
    who_en: str = ""

    def _text(self, english: bool) -> str:
        template = _TEXT[self.why][1 if english else 0]
        secs = int(RECENT_STATS.total_seconds())
        return template.format(zh=self.who_zh, en=self.who_en, secs=secs)

    @property
    def zh(self) -> str:
        return self._text(english=False)

    @property
    def en(self) -> str:
        return self._text(english=True)


class NotPresent(SessionRefused):
    """A record refused because the person it concerns is not in the room with media."""

    code = "not_present"

    def __init__(self, zh: str, en: str, absent: Sequence[Absent]) -> None:
        self.items = ()
        self.absent = tuple(absent)
        self.missing = tuple(a.zh for a in self.absent)
        zh_all = f"{zh}：{'；'.join(self.missing)}"
        en_all = f"{en}: {'; '.join(a.en for a in self.absent)}"
        # SessionRefused's own wording needs Missing items; the shape is the same.
        WrongState.__init__(self, f"{zh_all}。 / {en_all}.")


def absence(seat: SeatPresence | None, at: dt.datetime) -> Absence | None:
    """Is this seat present with media at `at`? None when it is; else what is missing."""
    if seat is None:
        return Absence.NOT_IN_ROOM
    if not seat.connected:
        return Absence.DROPPED
    if not seat.admitted:
        return Absence.IN_LOBBY
    if seat.segment_id is not None:
        return None
    if seat.stats_at is not None and dt.timedelta(0) <= at - seat.stats_at <= RECENT_STATS:
        return None
    return Absence.NO_MEDIA


# Which refusal to name when no seat is present: the one nearest to being present.
_NEARNESS = (Absence.NO_MEDIA, Absence.IN_LOBBY, Absence.DROPPED)


def _best(
    seats: Iterable[SeatPresence | None], at: dt.datetime
) -> tuple[SeatPresence | None, Absence | None]:
    judged = [(s, absence(s, at)) for s in seats if s is not None]
    for seat, why in judged:
        if why is None:
            return seat, None
    judged.sort(key=lambda t: _NEARNESS.index(t[1]) if t[1] in _NEARNESS else len(_NEARNESS))
    return judged[0] if judged else (None, Absence.NOT_IN_ROOM)


def party_seats(room: RoomPresence, own_seat: str) -> list[SeatPresence | None]:
    """Where a party may be heard from: the room's kiosk, or their own device's seat."""
    return [*room.by_role(KIOSK), room.seats.get(own_seat)]


def require_party(
    room: RoomPresence, own_seat: str, name: str, what: tuple[str, str]
) -> dict[str, Any]:
    """The evidence that party `name` is in the room with media, or NotPresent."""
    if not room.reachable:
        raise NotPresent(*what, [Absent(Absence.ROOM_UNSEEN)])
    seat, why = _best(party_seats(room, own_seat), room.seen_at)
    if why is not None or seat is None:
        zh = f"申请人{name}（确认室终端或本人设备）"
        raise NotPresent(*what, [Absent(why or Absence.NOT_IN_ROOM, zh, f"Applicant {name}")])
    return {**seat.evidence(), "at": room.seen_at.isoformat()}


def require_hearing(
    room: RoomPresence,
    judge_seat: str,
    parties: Sequence[tuple[str, str]],
    what: tuple[str, str],
) -> dict[str, Any]:
    """The judge and every party (own seat, name) present with media: their evidence."""
    if not room.reachable:
        raise NotPresent(*what, [Absent(Absence.ROOM_UNSEEN)])
    absent: list[Absent] = []
    evidence: dict[str, Any] = {"at": room.seen_at.isoformat()}
    why = absence(room.seats.get(judge_seat), room.seen_at)
    if why is not None:
        absent.append(Absent(why, "审判员", "the judge"))
    else:
        evidence["judge"] = room.seats[judge_seat].evidence()
    heard: dict[str, Any] = {}
    for own_seat, name in parties:
        seat, why = _best(party_seats(room, own_seat), room.seen_at)
        if why is not None or seat is None:
            zh = f"申请人{name}（确认室终端或本人设备）"
            absent.append(Absent(why or Absence.NOT_IN_ROOM, zh, f"Applicant {name}"))
        else:
            heard[own_seat] = seat.evidence()
    if absent:
        raise NotPresent(*what, absent)
    return {**evidence, "parties": heard}


def require_lobby(room: RoomPresence, judge_seat: str, what: tuple[str, str]) -> dict[str, Any]:
    """Admission: the judge is seated and a kiosk or a party waits (or was just let in)."""
    if not room.reachable:
        raise NotPresent(*what, [Absent(Absence.ROOM_UNSEEN)])
    absent: list[Absent] = []
    judge = room.seats.get(judge_seat)
    if judge is None or not judge.connected:
        why = Absence.NOT_IN_ROOM if judge is None else Absence.DROPPED
        absent.append(Absent(why, "审判员", "the judge"))
    waiting = [s for s in room.seats.values() if s.role in (KIOSK, PARTY) and s.connected]
    if not waiting:
        absent.append(Absent(Absence.LOBBY_EMPTY))
    if absent:
        raise NotPresent(*what, absent)
    return {
        "at": room.seen_at.isoformat(),
        "judge": judge_seat,
        "seats": [
            {"participant": s.participant_id, "role": s.role, "admitted": s.admitted}
            for s in waiting
        ],
    }
