"""Hostile messages over real sockets: a lone surrogate anywhere, first message or later, gets a
clear error and never kills a handler; binary frames count against the rate limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from signaling_helpers import CASE, JUDGE_ID, Client, Stack, StackFactory, token

LONE = "\\ud800"  # as a client writes it in JSON: an escape the parser turns into a surrogate


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def seated(stack: Stack, session: aiohttp.ClientSession, pid: str, role: str) -> Client:
    client = Client(session, stack.ws_url)
    await client.connect()
    await client.join(token(pid, role), CASE)
    return client


async def judge_with(
    stack: Stack, session: aiohttp.ClientSession, pid: str, role: str, *, admit: bool
) -> tuple[Client, Client]:
    """The judge and one other seat; admitted from the lobby when `admit`."""
    judge = await seated(stack, session, JUDGE_ID, "judge")
    other = await seated(stack, session, pid, role)
    if admit:
        await judge.send({"type": "admit", "participant": pid})
        await other.expect("admitted")
    return judge, other


async def alive(client: Client) -> None:
    await client.send({"type": "ping"})
    await client.expect("pong")
    assert not client.closed.is_set()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    broken = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not broken, [r.getMessage() for r in broken]


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "join", "v": 1, "case_id": 101, "token": "' + LONE + '"}',
        '{"type": "' + LONE + '"}',
        '{"type": "resume", "case_id": 101, "participant": "' + LONE + '", '
        '"resume_token": "x", "last_seq": 0}',
        '{"' + LONE + '": 1, "type": "ping"}',
    ],
)
async def test_a_lone_surrogate_in_the_first_message_is_refused_cleanly(
    stack: Stack, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    client = Client(session, stack.ws_url)
    await client.connect()
    await client.send_raw(text)
    error = await client.expect("error")
    assert error["code"] in {"bad_message", "unknown_type", "not_joined"}, error
    await asyncio.wait_for(client.closed.wait(), 3)
    assert client.close_code == 4001
    no_tracebacks(caplog)


async def test_a_lone_surrogate_in_a_seated_sockets_messages_is_refused_cleanly(
    stack: Stack, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    judge, kiosk = await judge_with(stack, session, "kiosk-1", "kiosk", admit=True)
    texts = [
        '{"type": "' + LONE + '"}',
        '{"type": "signal", "to": "' + LONE + '", "candidate": {"candidate": "", "sdpMid": "0"}}',
        '{"type": "signal", "to": "' + JUDGE_ID + '", "description": {"type": "offer", '
        '"sdp": "v=0' + LONE + '"}}',
        '{"type": "stats", "packet_loss": 0, "' + LONE + '": 1}',
        '{"type": "admit", "participant": "' + LONE + '"}',
    ]
    for text in texts:
        await kiosk.send_raw(text)
        error = await kiosk.expect("error")
        assert error["code"] == "bad_message", (text, error)
        await alive(kiosk)
    await asyncio.sleep(0.05)
    assert not [m for m in judge.received if m["type"] == "signal"]
    no_tracebacks(caplog)


async def test_a_removal_with_an_unencodable_reason_costs_the_judge_nothing(
    stack: Stack, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    judge, party = await judge_with(stack, session, "party-1", "party", admit=False)
    await judge.send_raw('{"type": "remove", "participant": "party-1", "reason": "' + LONE + '"}')
    assert (await judge.expect("error"))["code"] == "bad_message"
    await alive(judge)
    await alive(party)
    await judge.send({"type": "remove", "participant": "party-1", "reason": "不是本案当事人"})
    assert (await party.expect("removed"))["reason"] == "不是本案当事人"
    await alive(judge)
    await stack.signaling.audit_flushed()
    assert ("remove", "party-1") in stack.authority.actions(CASE)
    for event in stack.authority.events:
        str(event.details).encode("utf-8")  # everything audited can be stored
    no_tracebacks(caplog)


async def test_binary_frames_count_against_the_rate_limit_and_the_flood_closure(
    make_stack: StackFactory, session: aiohttp.ClientSession
) -> None:
    stack = await make_stack(rate_burst=20, rate_per_second=10.0, flood_strikes=50)
    judge, kiosk = await judge_with(stack, session, "kiosk-1", "kiosk", admit=False)
    assert kiosk.ws is not None
    for _ in range(300):
        if kiosk.closed.is_set():
            break
        try:
            await kiosk.ws.send_bytes(b"\x00\x01")
        except ConnectionError:
            break
    await asyncio.wait_for(kiosk.closed.wait(), 3)
    assert kiosk.close_code == 4008
    codes = [m["code"] for m in kiosk.received if m["type"] == "error"]
    assert codes.count("bad_message") <= 20, codes
    assert codes[-2:] == ["rate_limited", "flood"] or codes[-1] == "flood", codes
    await alive(judge)
