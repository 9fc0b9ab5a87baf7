"""`kill -9` of a one-node installation (a real `sifa serve`, SQLite) mid-inquiry, with real
aiortc participants, then a restart: a resume is told the server holds no such room; the kiosk
comes back with a fresh room token and is let in as it joins, with no judge there (the server
remembers the judge's admission); the judge comes back, media flows both ways again and the
server counts it; the start-up sweep ends the killed run as interrupted and the recording
starts again by itself when the room opens. Later in the inquiry a SIGTERM stops the node the
orderly way; everyone is back again, a third run records, and the session completes to a
served ruling. The timeline names each interruption and the readmissions."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cluster.cluster_api import Clients
from cluster.one_node import one_node, restart

from integration.ruling_flow import (
    ALL_ABSENT,
    PASSED,
    ok,
    review_transcript,
    scheduled_case,
    sign_for,
)
from signaling_helpers import MediaPeer

SELF_TEST = {"camera": True, "microphone": True, "network": True}


class Seats:
    """The judge's and the kiosk's aiortc peers, each joining with a fresh room token as the
    browsers do (a new call, new connections), and closed together."""

    def __init__(self, session: aiohttp.ClientSession, base: str, case_id: int) -> None:
        self.session, self.case_id = session, case_id
        self.ws_url = base.replace("http", "ws", 1) + "/ws"
        self.peers: list[MediaPeer] = []

    async def join(self, who: Any) -> tuple[MediaPeer, dict[str, Any]]:
        door = await ok(await who.post(f"/api/cases/{self.case_id}/room-token", json={}))
        peer = MediaPeer(self.session, self.ws_url, door["participant_id"])
        self.peers.append(peer)
        return peer, await peer.join(door["token"], self.case_id)

    async def close(self) -> None:
        for peer in self.peers:
            with contextlib.suppress(Exception):
                await peer.client.send({"type": "leave"})
            await peer.close()


@contextlib.asynccontextmanager
async def seats(base: str, case_id: int) -> AsyncIterator[Seats]:
    async with aiohttp.ClientSession() as session:
        held = Seats(session, base, case_id)
        try:
            yield held
        finally:
            await held.close()


async def flowing(a: MediaPeer, b: MediaPeer, more: int = 15, within: float = 30.0) -> None:
    """Each peer gets `more` video frames from the other than it had."""
    for me, other in ((a, b), (b, a)):
        seen = me.frames[other.id]["video"]
        await me.wait_frames(other.id, video=seen + more, audio=0, within=within)


async def recorded(who: Any, url: str, body: dict[str, Any]) -> Any:
    """A record of the session, accepted once the server sees the people it concerns with
    media (the recorder's live segments: these peers send no stats); until then it is refused
    as not present, and pressed again, as a judge or a party would."""
    answer: Any = None
    for _ in range(60):
        response = await who.post(url, json=body)
        answer = await response.json()
        if response.status == 200:
            return answer
        assert response.status == 409 and answer["code"] == "not_present", answer
        await asyncio.sleep(0.5)
    raise AssertionError(answer)


async def identity_checked(judge: Any, path: str, party: int) -> None:
    await recorded(judge, f"{path}/session/identity", {"party": party, **PASSED})


async def back_in(judge: Any, kiosk: Any, room: Seats) -> None:
    """After a restart: the kiosk first, with a fresh room token, and nobody lets it in (the
    server remembers that the judge admitted it in this session); then the judge; media flows
    both ways again."""
    kiosk_peer, welcome = await room.join(kiosk)
    assert welcome["you"]["admitted"] is True, welcome
    judge_peer, _ = await room.join(judge)
    await judge_peer.offer(kiosk_peer.id)  # the newcomer offers, as call.js does
    await flowing(judge_peer, kiosk_peer)


async def runs_once_recording(judge: Any, path: str, count: int) -> list[tuple[str, Any]]:
    """The recording's runs once the `count`-th records."""
    view: dict[str, Any] = {}
    for _ in range(100):
        view = await ok(await judge.get(f"{path}/recording"))
        if view["state"] == "recording" and len(view["runs"]) == count:
            break
        await asyncio.sleep(0.1)
    assert view["missing"] is False, view
    return [(r["state"], r["end_reason"]) for r in view["runs"]]


async def to_served(judge: Any, kiosk: Any, case_id: int) -> None:
    """The rest of the session: the parties' taps and answers, review, decision, ruling,
    the transcript confirmed and the ruling signed for."""
    session = f"/api/cases/{case_id}/session"
    for party in (0, 1):
        await recorded(kiosk, f"{session}/warning-ack", {"party": party})
        await recorded(kiosk, f"{session}/consent", {"party": party})
        answers = {"party": party, "agreed_freely": True, "understands": True}
        await recorded(judge, f"{session}/answers", answers)
    await ok(await judge.post(f"{session}/review", json=ALL_ABSENT))
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/decision", json={"decision": "confirm"}))
    await review_transcript(kiosk, case_id)
    await ok(await judge.post(f"{path}/ruling", json={}), 201)
    for party in (0, 1):
        await ok(await sign_for(kiosk, case_id, party), 201)


async def resume_refused(base: str, case_id: int, peer: MediaPeer) -> dict[str, Any]:
    """A seat of the killed server tries to resume on the restarted one."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{base.replace('http', 'ws', 1)}/ws")
        await ws.send_json(
            {
                "type": "resume",
                "v": 1,
                "case_id": case_id,
                "participant": peer.id,
                "resume_token": peer.resume_token,
                "last_seq": 0,
            }
        )
        answer: dict[str, Any] = await ws.receive_json(timeout=10)
        await ws.close()
    return answer


@pytest.mark.slow
async def test_kill_9_then_sigterm_mid_inquiry_everyone_back_recording_again_and_served(
    tmp_path: Path, clients: Clients
) -> None:
    # One second for the hearings under way after SIGTERM, then the node stops.
    async with one_node(tmp_path, SIFA_FINISH_SECONDS="1") as (node, base):
        mediator, clerk = (
            await clients.as_user(base, "mediator"),
            await clients.as_user(base, "clerk"),
        )
        judge, kiosk = await clients.as_user(base, "judge"), await clients.as_user(base, "kiosk1")
        case_id = await scheduled_case(mediator, clerk)
        path = f"/api/cases/{case_id}"
        await ok(await judge.post(f"{path}/open-session", json={}))
        await ok(await kiosk.post(f"{path}/session/check-in", json=SELF_TEST))
        async with seats(base, case_id) as before:
            judge_peer, _ = await before.join(judge)
            kiosk_peer, lobby = await before.join(kiosk)
            assert lobby["you"]["admitted"] is False  # the judge lets the kiosk in, once
            await judge_peer.client.expect("presence", event="joined", within=10)
            await judge_peer.client.send({"type": "admit", "participant": kiosk_peer.id})
            await kiosk_peer.client.expect("admitted", within=10)
            await ok(await judge.post(f"{path}/session/admit", json={}))
            await flowing(judge_peer, kiosk_peer)
            await identity_checked(judge, path, 0)

            await asyncio.to_thread(restart, node, base, signal.SIGKILL)

            # The old seat's resume says what happened: this server holds no such room.
            refused = await resume_refused(base, case_id, judge_peer)
            assert refused["type"] == "error" and refused["code"] == "resume_failed", refused
            assert "服务器可能已重新启动" in str(refused["message"])

        async with seats(base, case_id) as after:
            await back_in(judge, kiosk, after)
            # The recording started again by itself when the room opened afresh.
            assert await runs_once_recording(judge, path, 2) == [
                ("failed", "interrupted"),
                ("recording", None),
            ]
            # The server counts the media again: the record that needs it is taken.
            await identity_checked(judge, path, 1)

            # Later in the inquiry, SIGTERM: the orderly stop ends the run as a shutdown.
            await asyncio.to_thread(restart, node, base, signal.SIGTERM)

        async with seats(base, case_id) as again:
            await back_in(judge, kiosk, again)
            assert await runs_once_recording(judge, path, 3) == [
                ("failed", "interrupted"),
                ("stopped", "shutdown"),
                ("recording", None),
            ]
            await to_served(judge, kiosk, case_id)
        assert (await ok(await clerk.get(path)))["state"] == "served"

        timeline = await ok(await clerk.get(f"{path}/timeline"))
        items = timeline["timeline"]
        kinds = {i["kind"]: i for i in items}
        assert {"recording.interrupted", "recording.restarted"} <= set(kinds)
        assert kinds["recording.restarted"]["label_en"] == "Recording started again"
        restarted = [i["details"]["after"] for i in items if i["kind"] == "recording.restarted"]
        assert restarted == ["interrupted", "shutdown"], restarted
        back = [i for i in items if i["kind"] == "room.join" and i["actor"] == kiosk_peer.id]
        assert [i["details"].get("readmitted") for i in back] == [None, True, True], back
        assert back[1]["label"] == "重新进入视频确认室（此前已获准许入室）"
        # The judge admitted once: the readmission is the server's, not a second admission.
        assert [i["kind"] for i in items].count("room.admit") == 1
