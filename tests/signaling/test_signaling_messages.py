"""Wire format, tokens, ICE settings, mailbox and rate limit: pure functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from signaling import messages as m
from signaling.ice import IceSettings, ice_servers_for
from signaling.mailbox import Mailbox, ReplayLimits
from signaling.ratelimit import TokenBucket
from signaling.tokens import RoomClaims, TokenError, issue_room_token, verify_room_token

SECRET = b"0123456789abcdef0123"


def test_parse_every_client_type() -> None:
    assert m.parse('{"type":"join","v":1,"case_id":3,"token":"t"}') == m.Join(3, "t")
    assert m.parse(
        '{"type":"resume","case_id":3,"participant":"p","resume_token":"r","last_seq":4}'
    ) == m.Resume(3, "p", "r", 4)
    assert m.parse('{"type":"admit","participant":"p"}') == m.Admit("p")
    assert m.parse('{"type":"remove","participant":"p"}') == m.Remove("p", "")
    text = ' {"type":"signal","to":"p","description":{"type":"offer","sdp":"v=0"}}\n'
    offer = m.parse(text)
    assert offer == m.Signal("p", {"type": "offer", "sdp": "v=0"}, None, text.strip())
    cand = m.parse(
        '{"type":"signal","to":"p","candidate":{"candidate":"c","sdpMid":"0",'
        '"sdpMLineIndex":0,"usernameFragment":"u"}}'
    )
    assert isinstance(cand, m.Signal) and cand.candidate == {
        "candidate": "c",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "u",
    }
    assert m.parse('{"type":"stats","packet_loss":0.1}') == m.Stats(0.1, None, None)
    assert m.parse('{"type":"leave"}') == m.Leave()
    assert m.parse('{"type":"ping"}') == m.Ping()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("nope", "bad_json"),
        ("[]", "bad_message"),
        ('{"v":1}', "unknown_type"),
        ('{"type":"shout"}', "unknown_type"),
        ('{"type":"join","v":2,"case_id":1,"token":"t"}', "unsupported_version"),
        ('{"type":"join","case_id":1}', "token_missing"),
        ('{"type":"join","case_id":"1","token":"t"}', "bad_message"),
        ('{"type":"join","case_id":true,"token":"t"}', "bad_message"),
        # a case id names an INTEGER row: zero, negative or past 2^31 - 1 names none
        ('{"type":"join","case_id":0,"token":"t"}', "bad_message"),
        ('{"type":"join","case_id":2147483648,"token":"t"}', "bad_message"),
        ('{"type":"join","case_id":99999999999999999999,"token":"t"}', "bad_message"),
        (
            '{"type":"resume","case_id":99999999999999999999,"participant":"p",'
            '"resume_token":"r","last_seq":0}',
            "bad_message",
        ),
        (
            '{"type":"resume","case_id":1,"participant":"p","resume_token":"r",'
            '"last_seq":99999999999999999999}',
            "bad_message",
        ),
        # text no socket or audit record can carry
        ('{"type":"remove","participant":"p","reason":"\\ud800"}', "bad_message"),
        ('{"type":"remove","participant":"p","reason":"a\\u0000b"}', "bad_message"),
        ('{"type":"admit","participant":"p\\u0007"}', "bad_message"),
        ('{"type":"ping","x":"\\udfff"}', "bad_message"),
        (
            '{"type":"resume","case_id":1,"participant":"p","resume_token":"r","last_seq":-1}',
            "bad_message",
        ),
        ('{"type":"admit","participant":""}', "bad_message"),
        ('{"type":"admit","participant":"' + "x" * 200 + '"}', "bad_message"),
        ('{"type":"signal","to":"p"}', "bad_message"),
        ('{"type":"signal","to":"p","description":{"type":"x","sdp":""}}', "bad_message"),
        ('{"type":"signal","to":"p","description":{},"candidate":{}}', "bad_message"),
        ('{"type":"signal","to":"p","candidate":{"candidate":"c"}}', "bad_message"),
        ('{"type":"signal","to":"p","candidate":"c"}', "bad_message"),
        (
            '{"type":"signal","to":"p","from":"judge","candidate":{"candidate":"c","sdpMid":"0"}}',
            "bad_message",
        ),
        ('{"type":"signal","to":"p","description":{"type":"offer","sdp":"","x":1}}', "bad_message"),
        (
            '{"type":"signal","to":"p","candidate":{"candidate":"c","sdpMid":"0","x":1}}',
            "bad_message",
        ),
        ('{"type":"stats","packet_loss":-0.1}', "bad_message"),
        ('{"type":"stats","packet_loss":"0.1"}', "bad_message"),
        ('{"type":"stats","packet_loss":0.1,"rtt_ms":"x"}', "bad_message"),
        ('{"type":"remove","participant":"p","reason":7}', "bad_message"),
        ("[" * 100_000 + "]" * 100_000, "too_large"),
    ],
)
def test_parse_rejects(text: str, code: str) -> None:
    with pytest.raises(m.ProtocolError) as caught:
        m.parse(text, max_bytes=64 * 1024)
    assert caught.value.code == code


def test_size_limit_counts_bytes_not_characters() -> None:
    text = json.dumps(
        {"type": "remove", "participant": "p", "reason": "调" * 150}, ensure_ascii=False
    )
    assert len(text) < 500 < len(text.encode())
    with pytest.raises(m.ProtocolError, match="too_large"):
        m.parse(text, max_bytes=500)
    with pytest.raises(m.ProtocolError, match="bad_message"):
        m.parse(b'{"type":"ping"}')


def test_server_messages() -> None:
    body = m.dump({"type": "presence", "participant": {"name": "张三"}})
    assert "张三" in body
    assert json.loads(m.seal(body, 7)) == {
        "seq": 7,
        "type": "presence",
        "participant": {"name": "张三"},
    }
    assert json.loads(m.error("x", "y", "signal")) == {
        "type": "error",
        "code": "x",
        "message": "y",
        "ref": "signal",
    }
    sig = m.Signal("b", None, {"candidate": "c", "sdpMid": "0", "sdpMLineIndex": None})
    relayed = json.loads(m.seal(m.signal_body(m.sender_prefix('a"b'), sig), 3))
    assert relayed == {
        "seq": 3,
        "from": 'a"b',
        "type": "signal",
        "to": "b",
        "candidate": {"candidate": "c", "sdpMid": "0", "sdpMLineIndex": None},
    }
    raw = m.parse('{"type":"signal","to":"b","description":{"type":"answer","sdp":"v=0"}}')
    assert isinstance(raw, m.Signal)
    assert json.loads(m.signal_body(m.sender_prefix("a"), raw))["from"] == "a"


def test_tokens_round_trip_and_fail_clearly() -> None:
    t = issue_room_token(
        SECRET,
        case_id=5,
        participant_id="p1",
        role="party",
        display_name="李四",
        ttl_seconds=60,
        now=1000.0,
    )
    assert set(t) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert verify_room_token(SECRET, t, now=1059.9) == RoomClaims(5, "p1", "party", "李四", 1060)
    cases = {
        "token_expired": (SECRET, t, 1060.0),
        "token_invalid": (b"other-secret-0123456", t, 1000.0),
        "token_malformed": (SECRET, "abc", 1000.0),
    }
    for code, (secret, tok, now) in cases.items():
        with pytest.raises(TokenError) as caught:
            verify_room_token(secret, tok, now=now)
        assert caught.value.code == code
    payload, sig = t.split(".")
    with pytest.raises(TokenError, match="token_invalid"):
        verify_room_token(SECRET, payload[:-2] + "AA." + sig, now=1000.0)
    with pytest.raises(TokenError, match="token_malformed"):
        verify_room_token(SECRET, "a.b.c", now=1000.0)
    with pytest.raises(ValueError):
        issue_room_token(
            SECRET,
            case_id=5,
            participant_id="p",
            role="king",
            display_name="",
            ttl_seconds=60,
            now=0,
        )


def test_ice_servers_are_empty_by_default_and_coturn_style() -> None:
    assert ice_servers_for(IceSettings(), "p1", now=0) == []
    settings = IceSettings(
        stun_urls=("stun:turn.court.example:3478",),
        turn_urls=("turn:turn.court.example:3478?transport=udp",),
        turn_secret=b"s3cret",
        turn_ttl_seconds=600,
    )
    stun, turn = ice_servers_for(settings, "p1", now=1000.5)
    assert stun == {"urls": ["stun:turn.court.example:3478"]}
    assert turn["username"] == "1600:p1"
    expected = base64.b64encode(hmac.new(b"s3cret", b"1600:p1", hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
    with pytest.raises(ValueError):
        IceSettings(turn_urls=("turn:x",))
    with pytest.raises(ValueError):
        IceSettings(stun_urls=("http://x",))


def test_mailbox_numbers_buffers_and_replays() -> None:
    written: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            written.append(text)

    box = Mailbox(ReplayLimits(window_seconds=10, max_messages=3, max_bytes=10_000))
    box.sink = Sink()
    box.deliver('{"type":"a"}', now=0)
    assert json.loads(written[0]) == {"seq": 1, "type": "a"}
    box.deliver('{"type":"b"}', now=20)  # "a" is past the window while connected
    assert box.missed_since(0) == (['{"seq":2,"type":"b"}'], False)
    box.sink = None
    for n in range(3):
        box.deliver('{"type":"c"}', now=100 + n)  # kept however old while dropped
    held, complete = box.missed_since(2)
    assert [json.loads(t)["seq"] for t in held] == [3, 4, 5] and complete
    box.deliver('{"type":"d"}', now=200)
    held, complete = box.missed_since(2)
    assert [json.loads(t)["seq"] for t in held] == [4, 5, 6] and not complete
    assert box.missed_since(6) == ([], True)
    assert len(written) == 2


def test_token_bucket() -> None:
    bucket = TokenBucket(burst=3, rate=2, now=0)
    assert [bucket.take(0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)
    assert [bucket.take(100) for _ in range(4)] == [True, True, True, False]
