"""The mediation transcript's lines, in the pure core: each from a record, in time order, the
recorder and dropped sockets worded as what they were."""

from __future__ import annotations

import datetime as dt

from app.domain.mediation_checks import Check
from app.domain.mediation_transcript import CheckLine, RoomLine, TextLine, lines, seat_name

T0 = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_every_record_becomes_a_line_in_time_order() -> None:
    room = [
        RoomLine(at(0), "join", "平台", recorder=True),
        RoomLine(at(1), "join", "调解员李华", admitted_on_join=True),
        RoomLine(at(5), "join", "当事人赵六（本人手机）"),
        RoomLine(at(6), "admit", "当事人赵六（本人手机）"),
        RoomLine(at(7), "drop", "当事人赵六（本人手机）"),  # came back within grace: no line
        RoomLine(at(90), "remove", "当事人赵六（本人手机）"),
    ]
    checks = [
        CheckLine(at(20), "赵六", Check.CONSENT, "当事人自己的手机"),
        CheckLine(at(10), "赵六", Check.IDENTITY, "调解员 李华"),
    ]
    written = [TextLine(at(30), "调解员保存调解协议草稿第1稿")]
    got = [(line.time, line.text) for line in lines(room, checks, written)]
    assert got == [
        ("10:00:00", "平台开始录像"),
        ("10:00:01", "调解员李华进入视频调解"),
        ("10:00:05", "当事人赵六（本人手机）进入候场"),
        ("10:00:06", "当事人赵六（本人手机）经调解员准许进入视频调解"),
        ("10:00:10", "调解员核验当事人赵六的身份：调解员已通过视频核对当事人本人及其身份证件"),
        (
            "10:00:20",
            "当事人赵六在当事人自己的手机上确认：“本人同意通过本平台以视频方式进行人民调解。”",
        ),
        ("10:00:30", "调解员保存调解协议草稿第1稿"),
        ("10:01:30", "当事人赵六（本人手机）被调解员移出视频调解"),
    ]


def test_a_seat_is_named_by_its_person_else_its_role() -> None:
    names = {"mediator-3": "调解员李华"}
    assert seat_name("mediator-3", "mediator", names) == "调解员李华"
    assert seat_name("kiosk-9", "kiosk", names) == "调解室终端"
    assert seat_name("x", "observer", names) == "observer"
