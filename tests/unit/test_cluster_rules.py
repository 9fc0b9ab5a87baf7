"""The pure parts of several nodes: bus frames, room snapshots, placement by load."""

from __future__ import annotations

import pytest

from signaling.frames import BadFrame, connection_id, edge_of, pack, unpack
from signaling.placement import NodeLoad, choose_host
from signaling.room import Room, Thresholds
from signaling.snapshot import BadSnapshot, restore_room, room_state


def test_frames_carry_any_client_text_and_refuse_other_shapes() -> None:
    hostile = '{"type":"signal","x":"\\ud800"}\t\n\x00' + "\ud800" + "法"
    frames = [("M", "7", connection_id("node-b", 3), hostile), ("W", "", "node-a#1", "{}")]
    assert unpack(pack(frames)) == [list(f) for f in frames]
    assert edge_of("node-b#3") == "node-b"
    for data in (b"{}", b"[1]", b'[["X","","",""]]', b'[["M",""]]', b"\xff", b"[" * 5000):
        with pytest.raises(BadFrame):
            unpack(data)


def _room() -> Room:
    room = Room(7, "第一确认室", "judge-1", grace_seconds=60)
    room.join("judge-1", "judge", "王法官", resume_token="rj", now=100.0)
    room.join("kiosk-1", "kiosk", "终端", resume_token="rk", now=101.0)
    room.admit("judge-1", "kiosk-1", now=102.0)
    room.join("party-7-1", "party", "赵六", resume_token="rp", now=103.0)
    room.remove("judge-1", "party-7-1", "扰乱秩序", now=104.0)
    return room


def test_a_room_survives_its_snapshot_with_every_seat_waiting_for_its_resume() -> None:
    room = _room()
    room.drop("kiosk-1", now=110.0)
    state = room_state(room, {"judge-1": 5, "kiosk-1": 9}, loop_now=120.0, wall_now=5000.0)
    restored = restore_room(
        state, grace_seconds=60, thresholds=Thresholds(), loop_now=7.0, wall_now=5003.0
    )
    new = restored.room
    assert restored.seqs == {"judge-1": 5, "kiosk-1": 9}
    assert new.removed == {"party-7-1"}
    judge, kiosk = new.seats["judge-1"], new.seats["kiosk-1"]
    assert (judge.admitted, kiosk.admitted) == (True, True)
    assert not judge.connected and not kiosk.connected
    # The kiosk dropped 13 s (wall clock) before the new node's now: its grace runs on.
    assert kiosk.dropped_at == pytest.approx(7.0 - 13.0)
    assert judge.dropped_at == 7.0
    outcome = new.resume("kiosk-1", "rk", now=8.0)
    assert [e.action for e in outcome.audit] == ["resume"]
    with pytest.raises(Exception, match="removed"):
        new.join("party-7-1", "party", "赵六", resume_token="x", now=9.0)


def test_an_unreadable_snapshot_is_refused_not_half_used() -> None:
    state = room_state(_room(), {}, loop_now=0.0, wall_now=0.0)
    for broken in ({**state, "v": 99}, {**state, "seats": [{"id": "x"}]}, {"v": 1}):
        with pytest.raises(BadSnapshot):
            restore_room(broken, grace_seconds=60, thresholds=Thresholds(), loop_now=0, wall_now=0)


def test_placement_takes_the_lightest_node_that_takes_rooms() -> None:
    nodes = [NodeLoad("node-a", 3, 10), NodeLoad("node-b", 1, 4), NodeLoad("node-c", 0, 0, True)]
    assert choose_host(nodes, "node-a") == "node-b"
    # A tie keeps the room where the first socket landed: one hop fewer.
    assert choose_host([NodeLoad("node-a", 1, 4), NodeLoad("node-b", 1, 4)], "node-b") == "node-b"
    # Nobody else: this node, even draining.
    assert choose_host([NodeLoad("node-c", 0, 0, True)], "node-c") == "node-c"
