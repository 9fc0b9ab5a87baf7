"""Real aiortc peers exchanging real audio and video through the real signaling server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from signaling_helpers import CASE, JUDGE_ID, MediaPeer, Stack, StackFactory, token

pytestmark = pytest.mark.slow


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def seat(
    stack: Stack, session: aiohttp.ClientSession, judge: MediaPeer, pid: str, role: str
) -> MediaPeer:
    peer = MediaPeer(session, stack.ws_url, pid)
    await peer.join(token(pid, role), CASE)
    await judge.client.expect("presence", event="joined", within=5)
    await judge.client.send({"type": "admit", "participant": pid})
    await peer.client.expect("admitted")
    return peer


async def judge_of(stack: Stack, session: aiohttp.ClientSession) -> MediaPeer:
    judge = MediaPeer(session, stack.ws_url, JUDGE_ID)
    await judge.join(token(JUDGE_ID, "judge"), CASE)
    return judge


async def test_kiosk_and_judge_exchange_media(stack: Stack, session: aiohttp.ClientSession) -> None:
    judge = await judge_of(stack, session)
    kiosk = await seat(stack, session, judge, "kiosk-1", "kiosk")
    try:
        got_judge = await judge.wait_frames("kiosk-1", video=20, audio=20)
        got_kiosk = await kiosk.wait_frames(JUDGE_ID, video=20, audio=20)
        assert got_judge["video"] >= 20 and got_kiosk["video"] >= 20
    finally:
        await kiosk.close()
        await judge.close()
    await stack.signaling.audit_flushed()
    actions = stack.authority.actions(CASE)
    assert actions[:3] == [("join", JUDGE_ID), ("join", "kiosk-1"), ("admit", "kiosk-1")]


async def test_three_way_mesh(stack: Stack, session: aiohttp.ClientSession) -> None:
    judge = await judge_of(stack, session)
    kiosk = await seat(stack, session, judge, "kiosk-1", "kiosk")
    party = await seat(stack, session, judge, "party-1", "party")
    peers = {p.id: p for p in (judge, kiosk, party)}
    try:
        for me in peers.values():
            for other in peers:
                if other != me.id:
                    await me.wait_frames(other, video=15, audio=15)
        joined = await kiosk.client.expect("presence", event="admitted")
        assert joined["participant"]["id"] == "party-1"
    finally:
        for peer in peers.values():
            await peer.close()


async def test_resume_within_grace_delivers_missed_messages(
    stack: Stack, session: aiohttp.ClientSession
) -> None:
    judge = await judge_of(stack, session)
    kiosk = await seat(stack, session, judge, "kiosk-1", "kiosk")
    party: MediaPeer | None = None
    try:
        await kiosk.wait_frames(JUDGE_ID, video=10, audio=10)
        await kiosk.client.cut()
        dropped = await judge.client.expect("presence", event="dropped")
        assert dropped["participant"] == {
            "id": "kiosk-1",
            "role": "kiosk",
            "name": "kiosk-1",
            "admitted": True,
            "connected": False,
        }
        # While the kiosk is away a party is admitted and offers to everyone:
        # the offer to the kiosk waits in its mailbox.
        party = await seat(stack, session, judge, "party-1", "party")
        await party.wait_frames(JUDGE_ID, video=10, audio=10)
        before = kiosk.frames[JUDGE_ID]["video"]

        resumed = await kiosk.resume()
        assert resumed["complete"] is True
        kinds = [m["type"] for m in kiosk.client.received[-(resumed["replayed"] + 1) :]]
        assert kinds == ["presence", "presence", "signal", "resumed"]
        assert {p["id"] for p in resumed["participants"]} == {JUDGE_ID, "party-1"}
        await judge.client.expect("presence", event="resumed")

        # Media with the judge never stopped; media with the party was negotiated after resume.
        await kiosk.wait_frames("party-1", video=10, audio=10)
        await party.wait_frames("kiosk-1", video=10, audio=10)
        await kiosk.wait_frames(JUDGE_ID, video=before + 10, audio=10)
    finally:
        for peer in (judge, kiosk, party):
            if peer is not None:
                await peer.close()
    await stack.signaling.audit_flushed()
    actions = stack.authority.actions(CASE)
    assert ("drop", "kiosk-1") in actions
    assert actions.index(("drop", "kiosk-1")) < actions.index(("resume", "kiosk-1"))


async def test_no_return_after_grace_tells_others_it_left(
    make_stack: StackFactory, session: aiohttp.ClientSession
) -> None:
    stack = await make_stack(grace_seconds=0.8)
    judge = await judge_of(stack, session)
    kiosk = await seat(stack, session, judge, "kiosk-1", "kiosk")
    party = await seat(stack, session, judge, "party-1", "party")
    try:
        await party.wait_frames(JUDGE_ID, video=10, audio=10)
        await kiosk.close()
        await judge.client.expect("presence", event="dropped")
        left = await judge.client.expect("presence", event="left", within=3)
        assert left["participant"]["id"] == "kiosk-1" and left["reason"] == "timeout"
        left = await party.client.expect("presence", event="left", within=3)
        assert left["participant"]["id"] == "kiosk-1"
        snapshot = stack.signaling.snapshot(CASE)
        assert snapshot is not None
        assert [p["id"] for p in snapshot["participants"]] == [JUDGE_ID, "party-1"]  # type: ignore[index]

        # The rest of the hearing goes on.
        seen = judge.frames["party-1"]["video"]
        await judge.wait_frames("party-1", video=seen + 10, audio=10)

        # Too late to resume.
        await kiosk.client.connect()
        await kiosk.client.send(
            {
                "type": "resume",
                "case_id": CASE,
                "participant": "kiosk-1",
                "resume_token": kiosk.resume_token,
                "last_seq": kiosk.client.last_seq,
            }
        )
        refusal = await kiosk.client.expect("error")
        assert refusal["code"] == "resume_failed"
        await asyncio.wait_for(kiosk.client.closed.wait(), 3)
        assert kiosk.client.close_code == 4001
    finally:
        for peer in (judge, kiosk, party):
            await peer.close()
    await stack.signaling.audit_flushed()
    actions = stack.authority.actions(CASE)
    assert ("drop", "kiosk-1") in actions and ("expire", "kiosk-1") in actions
