"""A hearing across real nodes: aiortc participants that resume through the balancer the way
call.js does, and the API steps from a booked case to a served ruling."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp
from cluster.cluster_api import Clients, ok
from cluster.cluster_support import Cluster

from integration.ruling_flow import record_session, review_transcript, scheduled_case, sign_for
from signaling_helpers import MediaPeer, Message

RECORDER = "~recorder"
# call.js's reconnect delays: a moving room costs a client one or two of these.
RETRY_SECONDS = (0.25, 0.5, 1.0, 2.0, 4.0)


class FollowingPeer(MediaPeer):
    """An aiortc participant that, like the browser client, resumes its seat through the
    balancer whenever its socket closes with a code that is not final."""

    FINAL = frozenset({4001, 4002, 4003, 4008, 4009})

    def __init__(self, session: aiohttp.ClientSession, ws_url: str, pid: str, lb_ws: str) -> None:
        super().__init__(session, ws_url, pid)
        self.lb_ws = lb_ws
        self.resumes: list[Message] = []
        self.close_codes: list[int | None] = []
        self._follow: asyncio.Task[None] | None = None

    async def join(self, token: str, case_id: int) -> Message:
        welcome = await super().join(token, case_id)
        self._follow = asyncio.create_task(self._keep_seat())
        return welcome

    async def _keep_seat(self) -> None:
        while True:
            await self.client.closed.wait()
            code = self.client.close_code
            self.close_codes.append(code)
            if code in self.FINAL or code == 1000:
                return
            self.client.ws_url = self.lb_ws
            for delay in (*RETRY_SECONDS, *RETRY_SECONDS[-1:] * 10):
                await asyncio.sleep(delay)
                with contextlib.suppress(TimeoutError, aiohttp.ClientError, AssertionError):
                    self.resumes.append(await self.resume())
                    break
            else:
                raise AssertionError(f"{self.id} could not resume through the balancer")

    async def _on_signal(self, message: Message) -> None:
        description = message.get("description") or {}
        if message["from"] == RECORDER and description.get("type") == "offer":
            # A recorder on the room's new server: a new connection, not a renegotiation.
            old = self.pcs.pop(RECORDER, None)
            if old is not None:
                await old.close()
        await super()._on_signal(message)

    def seen(self, remote: str) -> int:
        return self.frames[remote]["video"]

    async def close(self) -> None:
        """Leave the room (its recorder then stops: the room is empty), then hang up."""
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(BaseException):
                await self._follow
        with contextlib.suppress(Exception):
            await self.client.send({"type": "leave"})
            await asyncio.wait_for(self.client.closed.wait(), 5)
        await super().close()


@dataclass
class Hearing:
    case_id: int
    mediator: Any
    clerk: Any
    judge: Any  # through the balancer
    kiosk: Any
    judge_peer: FollowingPeer
    kiosk_peer: FollowingPeer

    async def recording(self, via: Any | None = None) -> Any:
        return await ok(await (via or self.judge).get(f"/api/cases/{self.case_id}/recording"))

    async def host(self) -> str:
        """The node recording the hearing, which is the room's host."""
        view = await self.recording()
        live = [run for run in view["runs"] if run["state"] == "recording"]
        assert len(live) == 1, view["runs"]
        return str(live[0]["node"])

    async def media_flows(self, more: int = 15, within: float = 20.0) -> None:
        """Both parties get `more` video frames from each other than they had."""
        judge_id, kiosk_id = self.judge_peer.id, self.kiosk_peer.id
        await self.kiosk_peer.wait_frames(
            judge_id, video=self.kiosk_peer.seen(judge_id) + more, audio=0, within=within
        )
        await self.judge_peer.wait_frames(
            kiosk_id, video=self.judge_peer.seen(kiosk_id) + more, audio=0, within=within
        )

    async def report_media(self) -> None:
        """Both peers send a `stats` report, as call.js does every 5 s: the media evidence the
        records that follow need (presence). The recorder's segments are the other evidence,
        but after a takeover the new host's recorder may take longer to reach everyone."""
        for peer in (self.judge_peer, self.kiosk_peer):
            await peer.client.send(
                {"type": "stats", "packet_loss": 0.0, "rtt_ms": 20, "bitrate_kbps": 800}
            )
        await asyncio.sleep(0.5)  # through the balancer and, bridged, to the room's host

    async def served(self) -> Any:
        """The rest of the session through the balancer: records, decision, ruling, receipts."""
        await self.report_media()
        await record_session(self.judge, self.kiosk, self.case_id, seated=True)
        path = f"/api/cases/{self.case_id}"
        await self.report_media()
        await ok(await self.judge.post(f"{path}/decision", json={"decision": "confirm"}))
        await review_transcript(self.kiosk, self.case_id)
        ruling = await ok(await self.judge.post(f"{path}/ruling", json={}), 201)
        for party in (0, 1):
            await ok(await sign_for(self.kiosk, self.case_id, party), 201)
        case = await ok(await self.clerk.get(path))
        assert case["state"] == "served", case["state"]
        return ruling

    async def close(self) -> None:
        await self.judge_peer.close()
        await self.kiosk_peer.close()


async def open_hearing(
    cluster: Cluster,
    clients: Clients,
    session: aiohttp.ClientSession,
    *,
    judge_node: str,
    kiosk_node: str,
    room_index: int = 0,
) -> Hearing:
    """A booked case opened by the judge (the recorder joins), the judge's socket on one node
    and the kiosk's on another, the kiosk admitted, media flowing both ways."""
    lb = cluster.lb_url
    mediator, clerk = await clients.as_user(lb, "mediator"), await clients.as_user(lb, "clerk")
    # Kiosk N stands in the court's N-th room.
    judge = await clients.as_user(lb, "judge")
    kiosk = await clients.as_user(lb, f"kiosk{room_index + 1}")
    case_id = await scheduled_case(mediator, clerk, room_index=room_index)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    lb_ws = lb.replace("http://", "ws://") + "/ws"
    doors = []
    for who in (judge, kiosk):
        doors.append(await ok(await who.post(f"/api/cases/{case_id}/room-token", json={})))
    peers = [
        FollowingPeer(session, ws(cluster, node), door["participant_id"], lb_ws)
        for node, door in ((judge_node, doors[0]), (kiosk_node, doors[1]))
    ]
    judge_peer, kiosk_peer = peers
    await judge_peer.join(doors[0]["token"], case_id)
    await judge_peer.admits(kiosk_peer, doors[1]["token"])
    hearing = Hearing(case_id, mediator, clerk, judge, kiosk, judge_peer, kiosk_peer)
    await hearing.media_flows()
    return hearing


def ws(cluster: Cluster, node: str) -> str:
    return cluster.url(node).replace("http://", "ws://") + "/ws"
