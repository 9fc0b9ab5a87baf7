"""Test clients: a plain protocol client and an aiortc participant that counts frames."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import av
from aiohttp.test_utils import TestServer
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaStreamError
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp

from signaling.authority import MemoryAuthority
from signaling.server import SignalingServer
from signaling.tokens import issue_room_token

Message = dict[str, Any]

SECRET = b"test-secret-0123456789abcdef"
CASE = 101
JUDGE_ID = "judge-7"


def token(
    participant_id: str,
    role: str,
    *,
    case_id: int = CASE,
    name: str | None = None,
    ttl: int = 300,
    now: float | None = None,
    secret: bytes = SECRET,
) -> str:
    return issue_room_token(
        secret,
        case_id=case_id,
        participant_id=participant_id,
        role=role,
        display_name=name or participant_id,
        ttl_seconds=ttl,
        now=time.time() if now is None else now,
    )


class Stack:
    def __init__(self, server: TestServer, signaling: SignalingServer, authority: MemoryAuthority):
        self.server = server
        self.signaling = signaling
        self.authority = authority

    @property
    def ws_url(self) -> str:
        return str(self.server.make_url("/ws"))

    @property
    def origin(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"


StackFactory = Callable[..., Awaitable[Stack]]


class Client:
    """One WebSocket to the server; keeps every message it receives, in order."""

    def __init__(self, session: aiohttp.ClientSession, ws_url: str) -> None:
        self.session = session
        self.ws_url = ws_url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.received: list[Message] = []
        self.last_seq = 0
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._cond = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self.on_message: Callable[[Message], Any] | None = None

    async def connect(self, **kwargs: Any) -> None:
        self.closed.clear()
        self.ws = await self.session.ws_connect(self.ws_url, **kwargs)
        self._reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if "seq" in data:
                # Numbered messages arrive gapless and in order, across resumes too.
                assert data["seq"] == self.last_seq + 1, (self.last_seq, data)
                self.last_seq = data["seq"]
            async with self._cond:
                self.received.append(data)
                self._cond.notify_all()
            if self.on_message is not None:
                result = self.on_message(data)
                if asyncio.iscoroutine(result):
                    await result
        self.close_code = ws.close_code
        self.closed.set()

    async def send(self, message: Message) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    async def send_raw(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(text)

    async def expect(self, kind: str, within: float = 5.0, **match: Any) -> Message:
        """The first message of that type (and those field values) not yet taken."""

        def find() -> Message | None:
            for message in self.received:
                if (
                    message.get("type") == kind
                    and not message.get("_taken")
                    and all(message.get(k) == v for k, v in match.items())
                ):
                    message["_taken"] = True
                    return message
            return None

        async with asyncio.timeout(within), self._cond:
            while (found := find()) is None:
                await self._cond.wait()
            return found

    async def join(self, token: str, case_id: int) -> Message:
        await self.send({"type": "join", "v": 1, "case_id": case_id, "token": token})
        return await self.expect("welcome")

    async def connect_and_join(self, token: str, case_id: int) -> Message:
        await self.connect()
        return await self.join(token, case_id)

    async def reconnect(self, case_id: int, participant: str, resume_token: str) -> Message:
        """A new socket for a seat kept in its grace period; missed messages follow."""
        await self.connect()
        await self.send(
            {
                "type": "resume",
                "v": 1,
                "case_id": case_id,
                "participant": participant,
                "resume_token": resume_token,
                "last_seq": self.last_seq,
            }
        )
        return await self.expect("resumed")

    async def cut(self) -> None:
        """Lose the socket without a leave."""
        assert self.ws is not None
        await self.ws.close()
        if self._reader is not None:
            await self._reader

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


class PatternVideo(VideoStreamTrack):
    """Small synthetic video: cheap to encode, four peers fit on two cores."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(160, 120, "yuv420p")
        shade = (self.count * 4) % 256
        for index, plane in enumerate(frame.planes):
            plane.update(bytes([shade if index == 0 else 128]) * plane.buffer_size)
        self.count += 1
        frame.pts = pts
        frame.time_base = time_base
        return frame


class ToneAudio(AudioStreamTrack):
    pass


class MediaPeer:
    """An aiortc participant: answers every offer, offers to the room when admitted if told to."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_url: str,
        participant_id: str,
        *,
        offer_on_admit: bool = True,
    ) -> None:
        self.id = participant_id
        self.client = Client(session, ws_url)
        self.client.on_message = self._on_message
        self.offer_on_admit = offer_on_admit
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.frames: dict[str, dict[str, int]] = defaultdict(lambda: {"audio": 0, "video": 0})
        self.resume_token: str | None = None
        self.case_id: int | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self.time_base = fractions.Fraction(1, 90000)

    async def join(self, token: str, case_id: int) -> Message:
        welcome = await self.client.connect_and_join(token, case_id)
        self.resume_token = welcome["resume_token"]
        self.case_id = case_id
        return welcome

    async def resume(self) -> Message:
        return await self.client.reconnect(self.case_id, self.id, self.resume_token)

    async def admits(self, other: MediaPeer, token: str) -> None:
        """As the judge, already seated: other joins with token, waits and is admitted."""
        assert self.case_id is not None
        await other.join(token, self.case_id)
        await self.client.expect("presence", event="joined", within=5)
        await self.client.send({"type": "admit", "participant": other.id})
        await other.client.expect("admitted")

    def _pc(self, remote: str) -> RTCPeerConnection:
        pc = self.pcs.get(remote)
        if pc is None:
            pc = self.pcs[remote] = RTCPeerConnection(RTCConfiguration(iceServers=[]))

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                self._consumers.append(asyncio.create_task(self._consume(remote, track)))

        return pc

    async def _consume(self, remote: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                await track.recv()
                self.frames[remote][track.kind] += 1

    def _add_tracks(self, pc: RTCPeerConnection) -> None:
        if not any(s.track is not None for s in pc.getSenders()):
            pc.addTrack(ToneAudio())
            pc.addTrack(PatternVideo())

    async def offer(self, remote: str) -> None:
        pc = self._pc(remote)
        self._add_tracks(pc)
        await pc.setLocalDescription(await pc.createOffer())
        await self.client.send(
            {
                "type": "signal",
                "to": remote,
                "description": {"type": "offer", "sdp": pc.localDescription.sdp},
            }
        )

    async def _on_message(self, message: Message) -> None:
        kind = message["type"]
        if kind == "admitted" and self.offer_on_admit:
            for other in message["participants"]:
                if other["admitted"]:
                    await self.offer(other["id"])
        elif kind == "signal":
            await self._on_signal(message)

    async def _on_signal(self, message: Message) -> None:
        remote = message["from"]
        pc = self._pc(remote)
        description = message.get("description")
        if description is not None:
            await pc.setRemoteDescription(
                RTCSessionDescription(sdp=description["sdp"], type=description["type"])
            )
            if description["type"] == "offer":
                self._add_tracks(pc)
                await pc.setLocalDescription(await pc.createAnswer())
                await self.client.send(
                    {
                        "type": "signal",
                        "to": remote,
                        "description": {"type": "answer", "sdp": pc.localDescription.sdp},
                    }
                )
            return
        candidate = message["candidate"]
        text = candidate.get("candidate") or ""
        if not text:
            return
        parsed = candidate_from_sdp(text.split(":", 1)[1])
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await pc.addIceCandidate(parsed)

    async def wait_frames(
        self, remote: str, *, video: int = 10, audio: int = 10, within: float = 10.0
    ) -> dict[str, int]:
        counts = self.frames[remote]
        for _ in range(int(within / 0.05)):
            if counts["video"] >= video and counts["audio"] >= audio:
                return dict(counts)
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.id} got {counts} from {remote}, wanted {video}/{audio}")

    async def close(self) -> None:
        await self.client.close()
        for pc in self.pcs.values():
            await pc.close()
        for task in self._consumers:
            task.cancel()
        for task in self._consumers:
            with contextlib.suppress(BaseException):
                await task
