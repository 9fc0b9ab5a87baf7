"""A mediation room in the pure model: the mediator hosts it as the judge hosts a hearing, and
nobody else holds the host's powers; its seats are a mediation's; a snapshot keeps its host."""

from __future__ import annotations

import pytest

from signaling.room import Room, RoomError
from signaling.room_keys import MEDIATION_BASE, mediation_of, mediation_room
from signaling.snapshot import restore_room, room_state

MEDIATOR = "mediator-3"


def mediation(grace: float = 60.0) -> Room:
    return Room(
        mediation_room(5),
        "光明街道人民调解委员会 视频调解",
        MEDIATOR,
        grace_seconds=grace,
        host_role="mediator",
    )


def test_the_mediator_hosts_admits_and_removes() -> None:
    room = mediation()
    room.join(MEDIATOR, "mediator", "李华", resume_token="r0", now=0)
    room.join("kiosk-4", "kiosk", "终端", resume_token="r1", now=1)
    room.join("party-m5-1", "party", "赵六", resume_token="r2", now=1)
    assert {pid: s.admitted for pid, s in room.seats.items()} == {
        MEDIATOR: True,
        "kiosk-4": False,
        "party-m5-1": False,
    }
    # A party cannot let anyone in, nor remove anyone: only the host can.
    with pytest.raises(RoomError, match="only the mediator may admit"):
        room.admit("kiosk-4", "party-m5-1", now=2)
    room.admit(MEDIATOR, "kiosk-4", now=2)
    room.admit(MEDIATOR, "party-m5-1", now=2)
    with pytest.raises(RoomError, match="only the mediator may remove"):
        room.remove("kiosk-4", "party-m5-1", "", now=3)
    room.remove(MEDIATOR, "party-m5-1", "不当言行", now=3)
    with pytest.raises(RoomError, match="removed"):
        room.join("party-m5-1", "party", "赵六", resume_token="r3", now=4)


def test_only_the_assigned_mediator_hosts_and_no_judge_sits_in_it() -> None:
    room = mediation()
    with pytest.raises(RoomError, match="not_assigned_mediator"):
        room.join("mediator-9", "mediator", "周敏", resume_token="r", now=0)
    with pytest.raises(RoomError, match="bad_role"):
        room.join("judge-1", "judge", "王法官", resume_token="r", now=0)
    room.join("kiosk-4", "kiosk", "终端", resume_token="r", now=0)
    with pytest.raises(RoomError, match="role_full"):
        room.join("kiosk-5", "kiosk", "另一终端", resume_token="r", now=0)


def test_a_hearing_room_is_still_the_judges() -> None:
    room = Room(7, "第一调解室", "judge-1", grace_seconds=60)
    room.join("mediator-3", "mediator", "李华", resume_token="r", now=0)
    assert not room.seats["mediator-3"].admitted  # a mediator waits for the judge there
    with pytest.raises(RoomError, match="only the judge may admit"):
        room.admit("mediator-3", "mediator-3", now=1)
    with pytest.raises(ValueError, match="cannot host"):
        Room(7, "x", "kiosk-1", grace_seconds=60, host_role="kiosk")


def test_a_snapshot_keeps_the_host() -> None:
    room = mediation()
    room.join(MEDIATOR, "mediator", "李华", resume_token="r0", now=0)
    state = room_state(room, {MEDIATOR: 3}, loop_now=10, wall_now=1000)
    back = restore_room(
        state, grace_seconds=60, thresholds=room.thresholds, loop_now=5, wall_now=1001
    )
    assert (back.room.host_role, back.room.host_participant_id) == ("mediator", MEDIATOR)
    # A snapshot written before rooms had other hosts still reads as the judge's.
    old = {**state, "judge": state["host"]}
    del old["host"], old["host_role"]
    back = restore_room(
        old, grace_seconds=60, thresholds=room.thresholds, loop_now=5, wall_now=1001
    )
    assert (back.room.host_role, back.room.host_participant_id) == ("judge", MEDIATOR)


def test_room_keys_keep_cases_and_mediations_apart() -> None:
    assert mediation_of(mediation_room(1)) == 1 and mediation_room(1) == MEDIATION_BASE + 1
    assert mediation_of(12345) is None and mediation_of(MEDIATION_BASE) is None
    assert mediation_room(2**31 - 1 - MEDIATION_BASE) == 2**31 - 1  # still a protocol case_id
    for bad in (0, -1, 2**31 - MEDIATION_BASE):
        with pytest.raises(ValueError):
            mediation_room(bad)
