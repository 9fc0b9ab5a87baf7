"""Test participants that send 640x480 video and a tone, count what they send, and answer the
recorder the way call.js does (a fresh connection for each offer from the hidden recorder)."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp

from signaling_helpers import Client, Message

WIDTH, HEIGHT = 640, 480
_PATTERNS: list[bytes] = []


def _patterns() -> list[bytes]:
    """30 luma planes with a moving bar: cheap to copy, not trivially compressible."""
    if not _PATTERNS:
        for step in range(30):
            row = bytearray(WIDTH)
            for x in range(WIDTH):
                row[x] = (x * 255 // WIDTH + step * 8) % 256
            plane = bytearray(bytes(row) * HEIGHT)
            top = (step * (HEIGHT - 40) // 30) * WIDTH
            plane[top : top + 40 * WIDTH] = b"\xeb" * (40 * WIDTH)
            _PATTERNS.append(bytes(plane))
    return _PATTERNS


class MovingVideo(VideoStreamTrack):
    def __init__(self, fps: int, delay: float = 0.0) -> None:
        super().__init__()
        self.fps = fps
        self.delay = delay
        self.sent = 0
        self.first_at: float | None = None
        self.last_at = 0.0
        self._start: float | None = None
        self._slot = 0
        self.paused = False
        self._chroma = bytes([128]) * (WIDTH * HEIGHT // 4)

    async def recv(self) -> av.VideoFrame:
        # Like a camera: frames on a fixed grid of capture times; a late reader skips slots
        # instead of getting a burst, so timestamps always follow the wall clock.
        if self.paused:
            await asyncio.Event().wait()  # a camera that stopped: nothing more is sent
        if self._start is None:
            if self.delay:
                await asyncio.sleep(self.delay)
            self._start = time.time()
        else:
            self._slot += 1
            behind = time.time() - (self._start + self._slot / self.fps)
            if behind > 1 / self.fps:
                self._slot += int(behind * self.fps)
            when = self._start + self._slot / self.fps
            await asyncio.sleep(max(0.0, when - time.time()))
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        patterns = _patterns()
        frame.planes[0].update(patterns[self.sent % len(patterns)])
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts = round(self._slot * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.sent += 1
        now = time.time()
        self.first_at = self.first_at or now
        self.last_at = now
        return frame


def _tone_second() -> bytes:
    data = bytearray()
    for i in range(48000):
        value = int(6000 * math.sin(2 * math.pi * 440 * i / 48000))
        data += value.to_bytes(2, "little", signed=True) * 2
    return bytes(data)


_TONE = _tone_second()


class Tone(MediaStreamTrack):
    """A 440 Hz tone, 48 kHz stereo, in 20 ms frames paced by the clock."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.time()
        when = self._start + self.sent * 0.02
        await asyncio.sleep(max(0.0, when - time.time()))
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        offset = (self.sent % 50) * 3840
        frame.planes[0].update(_TONE[offset : offset + 3840])
        frame.sample_rate = 48000
        frame.pts = self.sent * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self.sent += 1
        return frame


class Sender:
    """A participant that sends media to whoever offers and offers to nobody."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_url: str,
        participant_id: str,
        *,
        fps: int = 15,
        video_delay: float = 0.0,
    ) -> None:
        self.id = participant_id
        self.client = Client(session, ws_url)
        self.client.on_message = self._on_message
        self.fps = fps
        self.video_delay = video_delay
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.videos: list[MovingVideo] = []
        self.tones: list[Tone] = []
        self.resume_token = ""
        self.case_id = 0
        self.auto_admit = False
        self._drains: list[asyncio.Task[None]] = []

    @property
    def video_sent(self) -> int:
        return sum(v.sent for v in self.videos)

    async def join(self, token: str, case_id: int) -> Message:
        welcome = await self.client.connect_and_join(token, case_id)
        self.resume_token = welcome["resume_token"]
        self.case_id = case_id
        return welcome

    async def resume(self) -> Message:
        return await self.client.reconnect(self.case_id, self.id, self.resume_token)

    async def _on_message(self, message: Message) -> None:
        kind = message["type"]
        if kind == "presence" and self.auto_admit and message["event"] == "joined":
            participant = message["participant"]
            if not participant["admitted"]:
                await self.client.send({"type": "admit", "participant": participant["id"]})
        elif kind == "signal":
            await self._on_signal(message)

    async def _on_signal(self, message: Message) -> None:
        remote = message["from"]
        description = message.get("description")
        if description is not None and description["type"] == "offer":
            old = self.pcs.pop(remote, None)
            if old is not None:
                await old.close()
            pc = self.pcs[remote] = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pc.on("track", self._drain)
            await pc.setRemoteDescription(RTCSessionDescription(**description))
            tone, video = Tone(), MovingVideo(self.fps, self.video_delay)
            self.tones.append(tone)
            self.videos.append(video)
            pc.addTrack(tone)
            pc.addTrack(video)
            await pc.setLocalDescription(await pc.createAnswer())
            await self.client.send(
                {
                    "type": "signal",
                    "to": remote,
                    "description": {"type": "answer", "sdp": pc.localDescription.sdp},
                }
            )
            return
        pc = self.pcs.get(remote)
        candidate = message.get("candidate")
        if pc is None or not candidate or not candidate.get("candidate"):
            return
        parsed = candidate_from_sdp(candidate["candidate"].split(":", 1)[1])
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await pc.addIceCandidate(parsed)

    def _drain(self, track: MediaStreamTrack) -> None:
        async def drain() -> None:
            with contextlib.suppress(Exception):
                while True:
                    await track.recv()

        self._drains.append(asyncio.create_task(drain()))

    async def stop_media(self) -> None:
        for pc in list(self.pcs.values()):
            await pc.close()
        self.pcs.clear()

    async def close(self) -> None:
        await self.client.close()
        await self.stop_media()
        for task in self._drains:
            task.cancel()


def probe(path: Path) -> dict[str, Any]:
    """ffprobe: streams with their frame counts and the container duration."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=codec_type,codec_name,width,height,nb_read_frames,duration:format=duration",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


async def wait_for(check: Any, within: float, what: str, step: float = 0.1) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(step)
    raise TimeoutError(f"waited {within} s for {what}")
