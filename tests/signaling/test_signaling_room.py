"""The pure room model, through whole sequences of states."""

from __future__ import annotations

import pytest

from signaling.room import Notice, Outcome, Room, RoomError

JUDGE = "judge-7"


def new_room(grace: float = 60.0) -> Room:
    return Room(1, "第一调解室", JUDGE, grace_seconds=grace)


def to(outcome: Outcome) -> list[tuple[str, str, str | None]]:
    return [
        (n.to, str(n.message["type"]), n.message.get("event"))  # type: ignore[misc]
        for n in outcome.notices
    ]


def actions(outcome: Outcome) -> list[tuple[str, str]]:
    return [(e.action, e.participant_id) for e in outcome.audit]


def state(room: Room) -> dict[str, tuple[bool, bool]]:
    return {pid: (s.admitted, s.connected) for pid, s in room.seats.items()}


def test_a_hearing_from_lobby_to_leave() -> None:
    room = new_room()
    out = room.join(JUDGE, "judge", "王法官", resume_token="r0", now=0)
    assert actions(out) == [("join", JUDGE)] and to(out) == []
    out = room.join("kiosk", "kiosk", "社区终端", resume_token="r1", now=1)
    assert to(out) == [(JUDGE, "presence", "joined")]
    assert state(room) == {JUDGE: (True, True), "kiosk": (False, True)}
    assert room.welcome("kiosk")["participants"] == []  # the lobby sees nobody
    with pytest.raises(RoomError, match="not_admitted"):
        room.check_signal("kiosk", JUDGE)

    out = room.admit(JUDGE, "kiosk", now=2)
    assert to(out) == [("kiosk", "admitted", None), (JUDGE, "presence", "admitted")]
    admitted = out.notices[0].message["participants"]
    assert admitted == [
        {"id": JUDGE, "role": "judge", "name": "王法官", "admitted": True, "connected": True}
    ]
    room.check_signal("kiosk", JUDGE)
    room.check_signal(JUDGE, "kiosk")

    out = room.join("party", "party", "张三", resume_token="r2", now=3)
    assert to(out) == [(JUDGE, "presence", "joined"), ("kiosk", "presence", "joined")]
    with pytest.raises(RoomError, match="unknown_participant"):
        room.check_signal("kiosk", "party")  # still in the lobby
    out = room.remove(JUDGE, "party", "不是当事人", now=4)
    assert to(out) == [
        ("party", "removed", None),
        (JUDGE, "presence", "removed"),
        ("kiosk", "presence", "removed"),
    ]
    with pytest.raises(RoomError, match="removed"):
        room.join("party", "party", "张三", resume_token="r3", now=5)

    out = room.leave("kiosk", now=6)
    assert to(out) == [(JUDGE, "presence", "left")] and actions(out) == [("leave", "kiosk")]
    out = room.leave(JUDGE, now=7)
    assert room.empty and to(out) == []


def test_drop_resume_and_expiry() -> None:
    room = new_room(grace=10)
    room.join(JUDGE, "judge", "J", resume_token="rj", now=0)
    room.join("kiosk", "kiosk", "K", resume_token="rk", now=0)
    room.admit(JUDGE, "kiosk", now=0)
    out = room.drop("kiosk", now=5)
    assert to(out) == [(JUDGE, "presence", "dropped")]
    assert state(room)["kiosk"] == (True, False)
    assert room.expiry_due() == 15
    with pytest.raises(RoomError, match="not_connected"):
        room.drop("kiosk", now=6)
    # A message for a dropped seat is still allowed: it waits in the mailbox.
    room.check_signal(JUDGE, "kiosk")
    assert to(room.expire(now=14.9)) == []
    with pytest.raises(RoomError, match="resume_failed"):
        room.resume("kiosk", "wrong", now=7)
    out = room.resume("kiosk", "rk", now=8)
    assert to(out) == [(JUDGE, "presence", "resumed")]
    assert out.audit[0].details == {"via": "resume", "away_seconds": 3.0}
    assert room.expiry_due() is None

    room.drop("kiosk", now=20)
    room.drop(JUDGE, now=25)
    out = room.expire(now=30)
    assert actions(out) == [("expire", "kiosk")]
    assert to(out) == [(JUDGE, "presence", "left")]  # buffered for the dropped judge
    assert out.notices[0].message["reason"] == "timeout"
    assert actions(room.expire(now=35)) == [("expire", JUDGE)]
    assert room.empty
    with pytest.raises(RoomError, match="resume_failed"):
        room.resume("kiosk", "rk", now=36)


def test_join_again_takes_the_seat_back_with_its_admission() -> None:
    room = new_room()
    room.join(JUDGE, "judge", "J", resume_token="rj", now=0)
    room.join("kiosk", "kiosk", "K", resume_token="rk", now=0)
    room.admit(JUDGE, "kiosk", now=1)
    room.drop("kiosk", now=2)
    out = room.join("kiosk", "kiosk", "K", resume_token="new", now=3)
    assert actions(out) == [("resume", "kiosk")]
    assert room.seats["kiosk"].resume_token == "rk" and room.seats["kiosk"].admitted
    with pytest.raises(RoomError, match="role_mismatch"):
        room.join("kiosk", "party", "K", resume_token="x", now=4)


def test_capacity_and_judge_rules() -> None:
    room = new_room()
    with pytest.raises(RoomError, match="not_assigned_judge"):
        room.join("judge-9", "judge", "X", resume_token="r", now=0)
    with pytest.raises(RoomError, match="bad_role"):
        room.join("x", "spectator", "X", resume_token="r", now=0)
    for n in range(2):
        room.join(f"m{n}", "mediator", "M", resume_token="r", now=0)
    with pytest.raises(RoomError, match="role_full"):
        room.join("m2", "mediator", "M", resume_token="r", now=0)
    # A dropped seat still counts: it may come back.
    room.drop("m0", now=1)
    with pytest.raises(RoomError, match="role_full"):
        room.join("m2", "mediator", "M", resume_token="r", now=2)
    room.join(JUDGE, "judge", "J", resume_token="r", now=0)
    with pytest.raises(RoomError, match="forbidden"):
        room.admit("m1", "m0", now=3)
    with pytest.raises(RoomError, match="bad_target"):
        room.remove(JUDGE, JUDGE, "", now=3)
    room.admit(JUDGE, "m1", now=3)
    with pytest.raises(RoomError, match="not_in_lobby"):
        room.admit(JUDGE, "m1", now=3)
    with pytest.raises(RoomError, match="unknown_participant"):
        room.admit(JUDGE, "ghost", now=3)
    with pytest.raises(RoomError, match="bad_target"):
        room.check_signal("m1", "m1")


def test_recorder_is_admitted_and_hidden() -> None:
    room = new_room()
    room.join(JUDGE, "judge", "J", resume_token="r", now=0)
    out = room.join("rec", "recorder", "录像", resume_token="r", now=0)
    assert to(out) == [] and actions(out) == [("join", "rec")]
    assert room.seats["rec"].admitted
    room.join("kiosk", "kiosk", "K", resume_token="r", now=0)
    out = room.admit(JUDGE, "kiosk", now=1)
    assert [p["id"] for p in out.notices[0].message["participants"]] == [JUDGE]  # type: ignore[attr-defined]
    # The recorder sees everyone and may exchange media with everyone admitted.
    assert {p["id"] for p in room.welcome("rec")["participants"]} == {JUDGE, "kiosk"}  # type: ignore[attr-defined]
    room.check_signal("rec", "kiosk")
    assert to(room.leave("rec", now=2)) == []


def test_quality_warnings_on_level_changes_only() -> None:
    room = new_room()
    room.join(JUDGE, "judge", "J", resume_token="r", now=0)
    room.join("kiosk", "kiosk", "K", resume_token="r", now=0)
    with pytest.raises(RoomError, match="not_admitted"):
        room.report("kiosk", 0.5, None, None, now=0)
    room.admit(JUDGE, "kiosk", now=0)
    levels = []
    for loss in (0.0, 0.05, 0.10, 0.11, 0.14, 0.15, 0.16, 0.3, 0.09):
        out = room.report("kiosk", loss, 50.0, 800.0, now=1)
        levels += [n.message["level"] for n in out.notices if n.to == JUDGE]
    assert levels == ["poor", "bad", "ok"]
    assert room.quality_of("kiosk") is not None
    assert room.quality_of("kiosk").packet_loss == 0.09  # type: ignore[union-attr]


def test_notice_is_a_value() -> None:
    assert Notice("a", {"type": "x"}) == Notice("a", {"type": "x"})


def test_a_seat_the_judge_admitted_before_a_restart_joins_admitted_without_the_judge() -> None:
    room = new_room()  # formed afresh after a restart: nobody in it, the judge not yet back
    out = room.join("kiosk", "kiosk", "社区终端", resume_token="r1", now=0, readmit=True)
    assert state(room) == {"kiosk": (True, True)}
    assert [(e.action, dict(e.details)) for e in out.audit] == [
        ("join", {"admitted": True, "readmitted": True})
    ]
    out = room.join(JUDGE, "judge", "王法官", resume_token="r0", now=1)
    assert to(out) == [("kiosk", "presence", "joined")]
    assert room.welcome(JUDGE)["participants"][0]["admitted"] is True
    room.check_signal("kiosk", JUDGE)
    # Without the application's word, a newcomer waits in the lobby as ever.
    room.join("party", "party", "张三", resume_token="r2", now=2)
    assert state(room)["party"] == (False, True)
