"""A bounded fuzz run over real sockets: ten thousand hostile messages, first messages and later
ones, text and binary. Afterwards no traceback was logged, every seat is where it was, and a
legitimate session still relays."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest

from signaling_helpers import CASE, JUDGE_ID, Client, Stack, StackFactory, token
from wire_fields import CLIENT_FIELDS

pytestmark = pytest.mark.slow

MESSAGES = 10_000
FIRST_MESSAGES = 300
TYPES = ["join", "resume", "admit", "remove", "signal", "stats", "ping", "teleport", ""]
KEYS = ["type", *CLIENT_FIELDS, "from"]
ESCAPES = ["\\ud800", "\\udfff", "\\ud83d", "\\u0000", "\\u001b", "\\\\", '\\"', "\\n"]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def value(rng: random.Random, seat: str, depth: int = 0) -> object:
    pick = rng.randrange(12)
    if pick == 0 and depth < 3:
        return [value(rng, seat, depth + 1) for _ in range(rng.randrange(3))]
    if pick == 1 and depth < 3:
        return {rng.choice(KEYS): value(rng, seat, depth + 1) for _ in range(rng.randrange(3))}
    if pick == 2:
        return rng.choice([0, -1, 1, 2**63, 10**40, 1.5, -0.0, True, None])
    if pick == 3:
        return rng.choice([JUDGE_ID, seat])
    if pick == 4:
        return {"type": "offer", "sdp": "v=0"}
    if pick == 5:
        return {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}
    return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(6)))


ESCAPE_MARK = "\ue000"  # a private-use character, swapped for a raw escape after dumping


def hostile(rng: random.Random, seat: str) -> str | bytes:
    """A frame of any kind; `seat` is a participant it may name (so removals hit)."""
    pick = rng.randrange(10)
    if pick == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    if pick == 1:
        opener = rng.choice("[{")
        return (opener if opener == "[" else '{"a":') * rng.randrange(1, 3000)
    if pick == 2:  # any character a socket can carry: UTF-8 has no lone surrogates
        points = (rng.randrange(1, 0x110000) for _ in range(rng.randrange(30)))
        return "".join(chr(0xFFFD if 0xD800 <= p <= 0xDFFF else p) for p in points)
    message: dict[str, object] = {"type": rng.choice(TYPES)}
    for key in rng.sample(KEYS, rng.randrange(5)):
        message[key] = value(rng, seat)
    if rng.random() < 0.5:
        key = rng.choice(["participant", "reason", "to", "type", "token", "x"])
        message[key] = f"a{ESCAPE_MARK}b"
    if message["type"] in ("remove", "signal") and rng.random() < 0.5:
        message["participant" if message["type"] == "remove" else "to"] = seat
        if rng.random() < 0.5:
            message["reason" if message["type"] == "remove" else "x"] = f"a{ESCAPE_MARK}b"
    text = json.dumps(message, ensure_ascii=False)
    return text.replace(ESCAPE_MARK, rng.choice(ESCAPES))


async def send(client: Client, frame: str | bytes) -> None:
    assert client.ws is not None
    if isinstance(frame, bytes):
        await client.ws.send_bytes(frame)
    else:
        await client.ws.send_str(frame)


async def pong(client: Client) -> None:
    await client.send({"type": "ping"})
    await client.expect("pong", within=30)


async def test_ten_thousand_hostile_messages_break_nothing(
    make_stack: StackFactory, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    # Limits high enough that the fuzzer's messages are parsed, not dropped as a flood.
    stack: Stack = await make_stack(rate_burst=100_000, rate_per_second=100_000.0)
    rng = random.Random(13)
    judge = Client(session, stack.ws_url)
    await judge.connect()
    await judge.join(token(JUDGE_ID, "judge"), CASE)
    kiosk = Client(session, stack.ws_url)
    await kiosk.connect()
    await kiosk.join(token("kiosk-1", "kiosk"), CASE)
    await judge.send({"type": "admit", "participant": "kiosk-1"})
    await kiosk.expect("admitted")

    for _ in range(FIRST_MESSAGES):
        stranger = Client(session, stack.ws_url)
        await stranger.connect()
        await send(stranger, hostile(rng, JUDGE_ID))
        await asyncio.wait_for(stranger.closed.wait(), 10)
        assert stranger.close_code in {4001, 1009}, stranger.close_code

    # An admitted party and the judge both send: a party's frames reach the relay, the
    # judge's reach admission and removal (the party's seat is named half the time).
    fuzzer, seat, sent, parties = Client(session, stack.ws_url), "", 0, 0
    while sent < MESSAGES - FIRST_MESSAGES:
        if fuzzer.ws is None or fuzzer.closed.is_set():
            parties += 1
            seat = f"party-{parties}"
            fuzzer = Client(session, stack.ws_url)
            await fuzzer.connect()
            await fuzzer.join(token(seat, "party"), CASE)
            await judge.send({"type": "admit", "participant": seat})
        sender = judge if rng.random() < 0.3 else fuzzer
        try:
            await send(sender, hostile(rng, seat))
        except ConnectionError:
            assert sender is fuzzer, "the judge's socket was lost"
            continue
        sent += 1
        if sent % 500 == 0:
            await pong(judge)
    assert parties > 1  # removals happened and were survived

    await pong(judge)
    await pong(kiosk)
    assert not judge.closed.is_set() and not kiosk.closed.is_set()
    await kiosk.send(
        {"type": "signal", "to": JUDGE_ID, "description": {"type": "offer", "sdp": "v=0"}}
    )
    relayed = await judge.expect("signal", **{"from": "kiosk-1"})
    assert relayed["description"] == {"type": "offer", "sdp": "v=0"}
    snapshot = stack.signaling.snapshot(CASE)
    assert snapshot is not None
    seats = {p["id"] for p in snapshot["participants"]}  # type: ignore[attr-defined]
    assert {JUDGE_ID, "kiosk-1"} <= seats
    await stack.signaling.audit_flushed()
    for event in stack.authority.events:
        json.dumps(event.details, ensure_ascii=False).encode("utf-8")
    # asyncio's "Unclosed client session" comes from a client some earlier test in this worker
    # left to the garbage collector, collected now: nothing of the server's.
    broken = [
        r
        for r in caplog.records
        if (r.levelno >= logging.ERROR or r.exc_info)
        and not (r.name == "asyncio" and r.getMessage().startswith("Unclosed"))
    ]
    assert not broken, [r.getMessage() for r in broken[:5]]
