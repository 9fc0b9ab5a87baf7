"""Everything a client may get wrong gets a clear error: never a crash or a broken room."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from signaling_helpers import CASE, JUDGE_ID, SECRET, Client, Stack, StackFactory, token


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(stack: Stack, session: aiohttp.ClientSession) -> Client:
    client = Client(session, stack.ws_url)
    await client.connect()
    return client


async def refused(client: Client, code: str) -> dict[str, object]:
    message = await client.expect("error")
    assert message["code"] == code, message
    await asyncio.wait_for(client.closed.wait(), 3)
    assert client.close_code == 4001
    return message


async def seated(stack: Stack, session: aiohttp.ClientSession, pid: str, role: str) -> Client:
    client = await connect(stack, session)
    await client.join(token(pid, role), CASE)
    return client


async def room_of_two(stack: Stack, session: aiohttp.ClientSession) -> tuple[Client, Client]:
    judge = await seated(stack, session, JUDGE_ID, "judge")
    kiosk = await seated(stack, session, "kiosk-1", "kiosk")
    await judge.send({"type": "admit", "participant": "kiosk-1"})
    await kiosk.expect("admitted")
    return judge, kiosk


def seats(stack: Stack) -> list[str]:
    snapshot = stack.signaling.snapshot(CASE)
    assert snapshot is not None
    return [p["id"] for p in snapshot["participants"]]  # type: ignore[attr-defined]


# -- joining -------------------------------------------------------------------


async def test_no_token(stack: Stack, session: aiohttp.ClientSession) -> None:
    client = await connect(stack, session)
    await client.send({"type": "join", "v": 1, "case_id": CASE})
    await refused(client, "token_missing")
    assert stack.signaling.snapshot(CASE) is None


async def test_expired_token(stack: Stack, session: aiohttp.ClientSession) -> None:
    client = await connect(stack, session)
    old = token("kiosk-1", "kiosk", ttl=60, now=time.time() - 120)
    await client.send({"type": "join", "case_id": CASE, "token": old})
    await refused(client, "token_expired")


async def test_forged_and_garbage_tokens(stack: Stack, session: aiohttp.ClientSession) -> None:
    client = await connect(stack, session)
    forged = token(JUDGE_ID, "judge", secret=b"another-secret-0123456789")
    await client.send({"type": "join", "case_id": CASE, "token": forged})
    await refused(client, "token_invalid")
    client = await connect(stack, session)
    await client.send({"type": "join", "case_id": CASE, "token": "not-a-token"})
    await refused(client, "token_malformed")
    assert SECRET not in forged.encode()


async def test_another_cases_token(stack: Stack, session: aiohttp.ClientSession) -> None:
    client = await connect(stack, session)
    await client.send({"type": "join", "case_id": CASE, "token": token("p", "party", case_id=7)})
    await refused(client, "token_wrong_case")
    client = await connect(stack, session)
    await client.send({"type": "join", "case_id": 7, "token": token("p", "party", case_id=7)})
    await refused(client, "no_room")
    assert stack.signaling.snapshot(CASE) is None and stack.signaling.snapshot(7) is None


async def test_second_judge_is_refused(stack: Stack, session: aiohttp.ClientSession) -> None:
    await seated(stack, session, JUDGE_ID, "judge")
    impostor = await connect(stack, session)
    await impostor.send({"type": "join", "case_id": CASE, "token": token("judge-9", "judge")})
    await refused(impostor, "not_assigned_judge")
    assert seats(stack) == [JUDGE_ID]


async def test_full_role(stack: Stack, session: aiohttp.ClientSession) -> None:
    await seated(stack, session, "kiosk-1", "kiosk")
    second = await connect(stack, session)
    await second.send({"type": "join", "case_id": CASE, "token": token("kiosk-2", "kiosk")})
    message = await refused(second, "role_full")
    assert "1 kiosk" in str(message["message"])
    for n in range(4):
        await seated(stack, session, f"party-{n}", "party")
    fifth = await connect(stack, session)
    await fifth.send({"type": "join", "case_id": CASE, "token": token("party-9", "party")})
    await refused(fifth, "role_full")


async def test_first_message_must_join(stack: Stack, session: aiohttp.ClientSession) -> None:
    client = await connect(stack, session)
    await client.send(
        {"type": "signal", "to": JUDGE_ID, "candidate": {"candidate": "", "sdpMid": "0"}}
    )
    await refused(client, "not_joined")


async def test_cross_origin_upgrade_is_forbidden(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await session.ws_connect(stack.ws_url, headers={"Origin": "https://evil.example"})
    assert caught.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await session.ws_connect(stack.ws_url, headers={"Origin": "null"})
    same = await session.ws_connect(stack.ws_url, headers={"Origin": stack.origin})
    await same.close()


async def test_plain_get_is_bad_request(stack: Stack, session: aiohttp.ClientSession) -> None:
    async with session.get(stack.ws_url) as response:
        assert response.status == 400


# -- after joining ---------------------------------------------------------------


async def test_non_judge_cannot_admit_or_remove(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    _judge, kiosk = await room_of_two(stack, session)
    party = await seated(stack, session, "party-1", "party")
    await kiosk.send({"type": "admit", "participant": "party-1"})
    assert (await kiosk.expect("error"))["code"] == "forbidden"
    await kiosk.send({"type": "remove", "participant": "party-1"})
    assert (await kiosk.expect("error"))["code"] == "forbidden"
    await party.send({"type": "admit", "participant": "party-1"})
    assert (await party.expect("error"))["code"] == "forbidden"
    assert "admitted" not in [m["type"] for m in party.received]


async def test_bad_messages_get_errors_and_the_room_lives_on(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    judge, kiosk = await room_of_two(stack, session)
    await kiosk.send_raw("{not json")
    assert (await kiosk.expect("error"))["code"] == "bad_json"
    await kiosk.send({"type": "teleport"})
    error = await kiosk.expect("error")
    assert error["code"] == "unknown_type" and error["ref"] == "teleport"
    await kiosk.send({"type": "signal", "to": JUDGE_ID})
    assert (await kiosk.expect("error"))["code"] == "bad_message"
    await kiosk.send({"type": "admit"})
    assert (await kiosk.expect("error"))["code"] == "bad_message"
    await kiosk.send_raw(json.dumps([1, 2]))
    assert (await kiosk.expect("error"))["code"] == "bad_message"
    huge = {"type": "signal", "to": JUDGE_ID, "description": {"type": "offer", "sdp": "x" * 70_000}}
    await kiosk.send(huge)
    assert (await kiosk.expect("error"))["code"] == "too_large"
    assert kiosk.ws is not None
    await kiosk.ws.send_bytes(b"\x00\x01")
    assert (await kiosk.expect("error"))["code"] == "bad_message"
    await kiosk.send(
        {"type": "signal", "to": "nobody", "candidate": {"candidate": "", "sdpMid": "0"}}
    )
    error = await kiosk.expect("error")
    assert error["code"] == "unknown_participant" and error["ref"] == "signal"
    await kiosk.send({"type": "join", "case_id": CASE, "token": token("kiosk-1", "kiosk")})
    assert (await kiosk.expect("error"))["code"] == "already_joined"

    # Still seated, still relaying.
    await kiosk.send({"type": "ping"})
    await kiosk.expect("pong")
    await kiosk.send(
        {"type": "signal", "to": JUDGE_ID, "description": {"type": "offer", "sdp": "v=0"}}
    )
    assert (await judge.expect("signal"))["from"] == "kiosk-1"
    assert seats(stack) == [JUDGE_ID, "kiosk-1"]


async def test_lobby_participant_cannot_send_media(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    judge = await seated(stack, session, JUDGE_ID, "judge")
    party = await seated(stack, session, "party-1", "party")
    await party.send(
        {"type": "signal", "to": JUDGE_ID, "description": {"type": "offer", "sdp": "v=0"}}
    )
    error = await party.expect("error")
    assert error["code"] == "not_admitted"
    # Nor may anyone send media to someone still in the lobby.
    await judge.send(
        {"type": "signal", "to": "party-1", "description": {"type": "offer", "sdp": "v=0"}}
    )
    assert (await judge.expect("error"))["code"] == "unknown_participant"
    await asyncio.sleep(0.05)
    assert not [m for m in judge.received if m["type"] == "signal"]


async def test_flood_is_limited_then_closed(
    make_stack: StackFactory, session: aiohttp.ClientSession
) -> None:
    stack = await make_stack(rate_burst=20, rate_per_second=10.0, flood_strikes=50)
    judge, kiosk = await room_of_two(stack, session)
    candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}
    for _ in range(200):
        await kiosk.send({"type": "signal", "to": JUDGE_ID, "candidate": candidate})
        if kiosk.closed.is_set():
            break
    errors = [m["code"] for m in kiosk.received if m["type"] == "error"]
    await asyncio.wait_for(kiosk.closed.wait(), 3)
    errors = [m["code"] for m in kiosk.received if m["type"] == "error"]
    assert errors == ["rate_limited", "flood"]
    assert kiosk.close_code == 4008
    relayed = [m for m in judge.received if m["type"] == "signal"]
    assert 20 <= len(relayed) < 40
    # The flooder's seat is kept for the grace period; the judge's room is fine.
    await judge.send({"type": "ping"})
    await judge.expect("pong")
    await judge.expect("presence", event="dropped")


async def test_rate_limit_recovers(
    make_stack: StackFactory, session: aiohttp.ClientSession
) -> None:
    stack = await make_stack(rate_burst=5, rate_per_second=50.0)
    _judge, kiosk = await room_of_two(stack, session)
    for _ in range(10):
        await kiosk.send({"type": "ping"})
    assert (await kiosk.expect("error"))["code"] == "rate_limited"
    await asyncio.sleep(0.2)
    await kiosk.send({"type": "ping"})
    await kiosk.expect("pong")
    assert not kiosk.closed.is_set()


async def test_removed_participant_is_told_and_cannot_come_back(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    judge, kiosk = await room_of_two(stack, session)
    party = await seated(stack, session, "party-1", "party")
    await judge.send({"type": "remove", "participant": "party-1", "reason": "不是本案当事人"})
    removed = await party.expect("removed")
    assert removed["reason"] == "不是本案当事人"
    await asyncio.wait_for(party.closed.wait(), 3)
    assert party.close_code == 4002
    gone = await kiosk.expect("presence", event="removed")
    assert gone["participant"]["id"] == "party-1"
    again = await connect(stack, session)
    await again.send({"type": "join", "case_id": CASE, "token": token("party-1", "party")})
    await refused(again, "removed")
    await stack.signaling.audit_flushed()
    assert ("remove", "party-1") in stack.authority.actions(CASE)


async def test_leave_frees_the_seat_at_once(stack: Stack, session: aiohttp.ClientSession) -> None:
    judge, kiosk = await room_of_two(stack, session)
    await kiosk.send({"type": "leave"})
    left = await judge.expect("presence", event="left")
    assert left["reason"] == "leave"
    await asyncio.wait_for(kiosk.closed.wait(), 3)
    assert seats(stack) == [JUDGE_ID]
    # The kiosk seat can be taken again.
    await seated(stack, session, "kiosk-2", "kiosk")


async def test_quality_warnings_reach_the_judge(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    judge, kiosk = await room_of_two(stack, session)
    for loss in (0.02, 0.12, 0.13, 0.2, 0.01):
        await kiosk.send({"type": "stats", "packet_loss": loss, "rtt_ms": 80, "bitrate_kbps": 600})
    levels = [(await judge.expect("quality"))["level"] for _ in range(3)]
    assert levels == ["poor", "bad", "ok"]
    await kiosk.send({"type": "stats", "packet_loss": 3})
    assert (await kiosk.expect("error"))["code"] == "bad_message"


async def test_second_socket_for_a_seat_replaces_the_first(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    judge, kiosk = await room_of_two(stack, session)
    again = await connect(stack, session)
    welcome = await again.join(token("kiosk-1", "kiosk"), CASE)
    assert welcome["you"]["admitted"] is True
    await asyncio.wait_for(kiosk.closed.wait(), 3)
    assert kiosk.close_code == 4003
    await again.send(
        {"type": "signal", "to": JUDGE_ID, "description": {"type": "offer", "sdp": "v=0"}}
    )
    assert (await judge.expect("signal"))["from"] == "kiosk-1"
    assert not [m for m in judge.received if m.get("event") == "dropped"]


async def test_shutdown_closes_every_socket(stack: Stack, session: aiohttp.ClientSession) -> None:
    judge, kiosk = await room_of_two(stack, session)
    await stack.server.close()
    for client in (judge, kiosk):
        await asyncio.wait_for(client.closed.wait(), 5)
        assert client.close_code == 1001


async def test_heartbeat_notices_a_silent_socket(
    make_stack: StackFactory, session: aiohttp.ClientSession
) -> None:
    stack = await make_stack(heartbeat_seconds=0.3)
    judge = await seated(stack, session, JUDGE_ID, "judge")
    # A client that stops answering WebSocket pings, like a peer behind a dead network.
    mute = Client(session, stack.ws_url)
    await mute.connect(autoping=False)
    await mute.join(token("kiosk-1", "kiosk"), CASE)
    dropped = await judge.expect("presence", event="dropped", within=3)
    assert dropped["participant"]["id"] == "kiosk-1"
    await stack.signaling.audit_flushed()
    assert ("drop", "kiosk-1") in stack.authority.actions(CASE)


async def test_the_hearing_over_closes_the_room_for_good(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    """Served: the server closes the room. Every socket gets 4010 (no client resumes after it),
    each seat leaves on the record and the room is gone."""
    judge, kiosk = await room_of_two(stack, session)
    assert stack.signaling.end_room(CASE, "served")
    for client in (judge, kiosk):
        await asyncio.wait_for(client.closed.wait(), 3)
        assert client.close_code == 4010
    assert stack.signaling.snapshot(CASE) is None
    assert not stack.signaling.end_room(CASE, "served")  # once
    await stack.signaling.audit_flushed()
    actions = stack.authority.actions(CASE)
    assert ("leave", JUDGE_ID) in actions and ("leave", "kiosk-1") in actions
    assert actions[-1] == ("closed", "server")
