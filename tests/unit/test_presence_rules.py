"""The presence rule and the attendance facts, on hand-made records (no clock, no I/O)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.domain import attendance as att
from app.domain.presence import (
    RECENT_STATS,
    Absence,
    NotPresent,
    RoomPresence,
    SeatPresence,
    absence,
    require_hearing,
    require_party,
)

T0 = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)


def seat(pid: str = "kiosk-5", role: str = "kiosk", **kw: object) -> SeatPresence:
    base: dict[str, object] = {
        "connected": True,
        "admitted": True,
        "admitted_since": T0,
        "segment_id": None,
        "stats_at": None,
    }
    return SeatPresence(pid, role, **{**base, **kw})  # type: ignore[arg-type]


def test_present_only_with_media_seen_recently() -> None:
    now = T0 + dt.timedelta(minutes=1)
    assert absence(None, now) is Absence.NOT_IN_ROOM
    assert absence(seat(connected=False), now) is Absence.DROPPED
    assert absence(seat(admitted=False), now) is Absence.IN_LOBBY
    assert absence(seat(), now) is Absence.NO_MEDIA
    assert absence(seat(segment_id=7), now) is None
    assert absence(seat(stats_at=now - RECENT_STATS), now) is None
    stale = now - RECENT_STATS - dt.timedelta(seconds=1)
    assert absence(seat(stats_at=stale), now) is Absence.NO_MEDIA


def test_a_party_is_heard_at_the_kiosk_or_on_own_device() -> None:
    own = seat("party-3-1", "party", segment_id=9)
    room = RoomPresence(T0, {"kiosk-5": seat(admitted=False), own.participant_id: own})
    evidence = require_party(room, "party-3-1", "赵六", ("尚不能记录", "Cannot record"))
    assert evidence["participant"] == "party-3-1" and evidence["media"] == {"segment": 9}
    with pytest.raises(NotPresent) as refused:
        require_party(room, "party-3-0", "张三", ("尚不能记录", "Cannot record"))
    # The kiosk is the nearest to being present: it waits in the lobby.
    assert refused.value.missing == ("申请人张三（确认室终端或本人设备）仍在等候区，尚未准许入室",)
    assert refused.value.message.startswith("尚不能记录：") and " / Cannot record: " in (
        refused.value.message
    )


def test_the_decision_needs_the_judge_too() -> None:
    room = RoomPresence(T0, {"kiosk-5": seat(stats_at=T0)})
    parties = [("party-3-0", "张三"), ("party-3-1", "赵六")]
    with pytest.raises(NotPresent) as refused:
        require_hearing(room, "judge-4", parties, ("尚不能作出裁定", "Cannot decide yet"))
    assert refused.value.missing == ("审判员不在视频确认室",)
    with_judge = RoomPresence(T0, {**room.seats, "judge-4": seat("judge-4", "judge", segment_id=1)})
    heard = require_hearing(with_judge, "judge-4", parties, ("x", "y"))
    assert heard["judge"]["media"] == {"segment": 1}
    assert {p["participant"] for p in heard["parties"].values()} == {"kiosk-5"}
    unseen = RoomPresence(T0, {}, reachable=False)
    with pytest.raises(NotPresent, match="暂时无法查看视频确认室"):
        require_hearing(unseen, "judge-4", parties, ("x", "y"))


def ev(minute: int, action: str, admitted: bool = False) -> att.RoomEvent:
    return att.RoomEvent(T0 + dt.timedelta(minutes=minute), action, "kiosk-5", "kiosk", admitted)


def test_stretches_follow_admission_drops_and_resumes() -> None:
    events = [ev(0, "join"), ev(1, "admit"), ev(5, "drop"), ev(7, "resume"), ev(12, "leave")]
    found = att.stretches(events)
    assert [(s.start.minute, s.end and s.end.minute, s.ended_by) for s in found] == [
        (1, 5, "dropped"),
        (7, 12, "left"),
    ]
    assert att.admitted_since(events[:4]) == T0 + dt.timedelta(minutes=1)
    assert att.admitted_since(events) is None
    # Clipped to the hearing: before it began and after it ended do not count.
    clipped = att.clip(found, T0 + dt.timedelta(minutes=2), T0 + dt.timedelta(minutes=10))
    assert [(s.start.minute, s.end and s.end.minute, s.ended_by) for s in clipped] == [
        (2, 5, "dropped"),
        (7, 10, ""),
    ]


def test_the_judges_admission_stands_until_the_judges_removal() -> None:
    def by(who: str, minute: int, action: str) -> att.RoomEvent:
        return att.RoomEvent(T0 + dt.timedelta(minutes=minute), action, who, "")

    events = [by("kiosk-5", 1, "admit"), by("party-9-0", 2, "admit"), by("kiosk-5", 3, "leave")]
    assert att.readmitted(events) == {"kiosk-5", "party-9-0"}
    assert att.readmitted([*events, by("party-9-0", 4, "remove")]) == {"kiosk-5"}
    assert att.readmitted([by("kiosk-5", 1, "join")]) == frozenset()


def test_time_in_the_room_without_a_segment_is_listed() -> None:
    stay = [att.Stretch(T0, T0 + dt.timedelta(minutes=10), "left")]
    segment = att.Segment("kiosk-5", 1, "closed", T0, T0 + dt.timedelta(minutes=4), "ab" * 32)
    gaps = att.unrecorded(stay, [segment], T0 + dt.timedelta(minutes=10))
    assert [(g.start.minute, g.end.minute) for g in gaps] == [(4, 10)]
    assert att.unrecorded(stay, [], T0 + dt.timedelta(minutes=10))[0].start == T0
