"""The recorder: a hidden participant inside the server that receives everyone's media.

It holds the room's recorder seat through an in-process connection and offers a receive-only
RTCPeerConnection to each admitted participant (aiortc can offer; it cannot roll back, so its
id sorts after every account id and browsers are always the polite side). One connection to
one participant is one capture, and one capture is one segment file. A participant who
resumes, or whose connection fails, continues in a new capture: a new segment.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from app.recording.clock import StreamClock
from app.recording.writer import SegmentWriter, WriterFailed, WrittenFile
from signaling.live import Refused
from signaling.local import LocalConnection, Message

log = logging.getLogger(__name__)

# "~" sorts after letters and digits: every participant id is lower, so every browser
# (call.js: the lower id is polite) yields to the recorder's offers.
RECORDER_ID = "~recorder"
RECORDER_NAME = "庭审录像 / recorder"
CONNECT_TIMEOUT = 20.0
RETRY_SECONDS = 1.0

# A callable is asked again for every capture: TURN credentials in the configuration expire
# (IceSettings.turn_ttl_seconds), and a hearing can outlast them.
ConfigSource = RTCConfiguration | Callable[[], RTCConfiguration]


@dataclass(frozen=True, slots=True)
class Who:
    participant_id: str
    role: str
    name: str


@dataclass(frozen=True, slots=True)
class SegmentStart:
    who: Who
    number: int  # per participant within the run, from 1
    path: Path
    started_at: dt.datetime  # UTC instant of the segment's first frame


class RunSink(Protocol):
    """What the recorder reports to the service that owns the run."""

    def new_writer(self, start: SegmentStart) -> SegmentWriter: ...

    async def segment_opened(self, start: SegmentStart) -> int: ...

    async def segment_closed(
        self, segment_id: int, start: SegmentStart, result: WrittenFile | None, error: str | None
    ) -> None: ...

    def failed(self, reason: str) -> None: ...

    def room_empty(self) -> None: ...


def safe_name(participant_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", participant_id)[:60] or "participant"


def selected_route(pc: RTCPeerConnection) -> tuple[str, str] | None:
    """The candidate types (local, remote) of the pair ICE selected, ("relay", "relay") through
    TURN both ways; None before one is selected. aiortc's getStats has no candidate-pair entry,
    so this reads aioice's nominated pair (aioice 0.13: Connection._nominated)."""
    for transceiver in pc.getTransceivers():
        transport = transceiver.receiver.transport
        if transport is None:
            continue
        pair = transport.transport.iceGatherer._connection._nominated.get(1)
        if pair is not None:
            return pair.local_candidate.type, pair.remote_candidate.type
    return None


class Capture:
    """One receive-only connection to one participant, written to one segment file."""

    def __init__(
        self,
        who: Who,
        number: int,
        folder: Path,
        config: RTCConfiguration,
        sink: RunSink,
        wall_clock: Callable[[], float],
        on_end: Callable[[Capture], None],
    ) -> None:
        self.who = who
        self.number = number
        self.folder = folder
        self.sink = sink
        self.pc = RTCPeerConnection(config)
        self._wall = wall_clock
        self._on_end = on_end
        self._tasks: list[asyncio.Task[None]] = []
        self._writer: SegmentWriter | None = None
        self._start: SegmentStart | None = None
        self._origin = 0.0
        self._opened: asyncio.Task[int] | None = None
        self._finished: asyncio.Task[None] | None = None
        self.frames = {"audio": 0, "video": 0}
        self.route: tuple[str, str] | None = None
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @property
    def negotiating(self) -> bool:
        return bool(self.pc.signalingState == "have-local-offer")

    async def offer(self) -> dict[str, str]:
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return {"type": "offer", "sdp": self.pc.localDescription.sdp}

    async def on_signal(self, message: Message) -> None:
        description = message.get("description")
        if description is not None:
            if description.get("type") == "answer" and self.negotiating:
                await self.pc.setRemoteDescription(
                    RTCSessionDescription(sdp=description["sdp"], type="answer")
                )
            return
        candidate = message.get("candidate") or {}
        text = str(candidate.get("candidate") or "")
        if not text or self.pc.remoteDescription is None:
            return
        parsed = candidate_from_sdp(
            text.split(":", 1)[1] if text.startswith("candidate:") else text
        )
        parsed.sdpMid = candidate.get("sdpMid")
        parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await self.pc.addIceCandidate(parsed)

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            # Which way the media came (host, srflx, relay) is what a failed hall's report needs.
            self.route = selected_route(self.pc)
            log.info("recorder capture of %s connected via %s", self.who.participant_id, self.route)
        if self.pc.connectionState in ("failed", "closed"):
            self._on_end(self)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.create_task(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        # Every received track is read, or aiortc piles decoded frames up in memory.
        clock: StreamClock | None = None
        with contextlib.suppress(MediaStreamError):
            while True:
                frame: Any = await track.recv()
                arrived = self._wall()
                if clock is None:
                    clock = StreamClock(int(1 / frame.time_base))
                at = clock.place(int(frame.pts), arrived)
                writer = self._writer or self._open(at)
                t = max(0.0, at - self._origin)
                if track.kind == "video":
                    writer.push_video(frame, t)
                else:
                    writer.push_audio(frame, t)
                self.frames[track.kind] += 1

    def _open(self, first_at: float) -> SegmentWriter:
        self._origin = first_at
        name = f"{self.number:03d}-{safe_name(self.who.participant_id)}.mp4"
        start = SegmentStart(
            self.who,
            self.number,
            self.folder / name,
            dt.datetime.fromtimestamp(first_at, dt.UTC),
        )
        self._start = start
        self._writer = self.sink.new_writer(start)
        self._opened = asyncio.create_task(self.sink.segment_opened(start))
        return self._writer

    def finish(self) -> asyncio.Task[None]:
        """Close the connection and the file (once); the task ends when both are recorded."""
        if self._finished is None:
            self._finished = asyncio.create_task(self._finish())
        return self._finished

    async def _finish(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        writer, start = self._writer, self._start
        if writer is None or start is None or self._opened is None:
            return  # no frame ever arrived: no segment
        result: WrittenFile | None = None
        error: str | None = None
        try:
            result = await asyncio.wrap_future(writer.close())
        except WriterFailed as exc:
            error = exc.cause
        segment_id = await self._opened
        await self.sink.segment_closed(segment_id, start, result, error)


class RecorderPeer:
    def __init__(
        self,
        connection: LocalConnection,
        *,
        case_id: int,
        token: Callable[[], str],
        folder: Path,
        config: ConfigSource,
        sink: RunSink,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self.case_id = case_id
        self._token = token
        self.folder = folder
        self.config = config
        self.sink = sink
        self._wall = wall_clock
        self.captures: dict[str, Capture] = {}
        self.present: dict[str, Who] = {}
        self._numbers: dict[str, int] = {}
        self._closing: list[asyncio.Task[None]] = []
        self._stopping = False
        self._retries: dict[str, asyncio.TimerHandle] = {}

    # -- life ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Hold the seat until stopped or the room ends; report failures to the sink."""
        try:
            welcome = await self.connection.join(self.case_id, self._token())
        except Refused as exc:
            self.sink.failed(f"the room refused the recorder: {exc.code}")
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for presence in welcome.get("participants", []):
            self._seen(presence)
            if presence.get("admitted"):
                await self._capture(self._who(presence))
        while (message := await self.connection.inbox.get()) is not None:
            try:
                await self._on_message(message)
            except Exception as exc:
                log.exception("recorder of case %s: %s", self.case_id, message.get("type"))
                self.sink.failed(f"{type(exc).__name__}: {exc}")
        if not self._stopping:
            code = self.connection.close_code
            self.sink.failed(f"the recorder's seat was closed ({code})")

    async def stop(self) -> None:
        """Close every capture and file, then give the seat up."""
        self._stopping = True
        for handle in self._retries.values():
            handle.cancel()
        tasks = [capture.finish() for capture in self.captures.values()]
        self.captures.clear()
        await asyncio.gather(*tasks, *self._closing, return_exceptions=True)
        self.connection.leave()

    # -- the room -------------------------------------------------------------------------

    @staticmethod
    def _who(presence: Message) -> Who:
        return Who(str(presence["id"]), str(presence["role"]), str(presence["name"]))

    def _seen(self, presence: Message) -> None:
        self.present[str(presence["id"])] = self._who(presence)

    async def _on_message(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "presence":
            await self._on_presence(message["event"], message["participant"])
        elif kind == "signal":
            await self._on_signal(message)

    async def _on_presence(self, event: str, presence: Message) -> None:
        pid = str(presence["id"])
        if event in ("left", "removed"):
            self.present.pop(pid, None)
            self._end(pid)
            if not self.present:
                self.sink.room_empty()
            return
        self._seen(presence)
        # The judge is admitted as it joins; others when the judge lets them in.
        if event == "admitted" or (event in ("joined", "resumed") and presence.get("admitted")):
            # A resumed participant's browser dropped its link to us: a new segment.
            await self._capture(self._who(presence))

    async def _on_signal(self, message: Message) -> None:
        pid = str(message["from"])
        capture = self.captures.get(pid)
        description = message.get("description") or {}
        if description.get("type") == "offer":
            # The participant renegotiates (an ICE restart). aiortc cannot restart ICE: if we
            # are offering, we are the impolite side and ignore it; else start a new capture.
            if capture is None or not capture.negotiating:
                who = self.present.get(pid)
                if who is not None:
                    await self._capture(who)
            return
        if capture is not None:
            await capture.on_signal(message)

    # -- captures -------------------------------------------------------------------------

    async def _capture(self, who: Who) -> None:
        if self._stopping:
            return
        self._end(who.participant_id)
        number = self._numbers.get(who.participant_id, 0) + 1
        self._numbers[who.participant_id] = number
        config = self.config if isinstance(self.config, RTCConfiguration) else self.config()
        capture = Capture(who, number, self.folder, config, self.sink, self._wall, self._ended)
        self.captures[who.participant_id] = capture
        description = await capture.offer()
        if self.captures.get(who.participant_id) is not capture:
            return
        self.connection.send(
            {"type": "signal", "to": who.participant_id, "description": description}
        )
        loop = asyncio.get_running_loop()
        self._retries[who.participant_id] = loop.call_later(
            CONNECT_TIMEOUT, self._check_connected, capture
        )

    def _check_connected(self, capture: Capture) -> None:
        pid = capture.who.participant_id
        self._retries.pop(pid, None)
        if self.captures.get(pid) is capture and capture.pc.connectionState != "connected":
            log.warning("recorder of case %s: no media from %s, offering again", self.case_id, pid)
            self._spawn(self._capture(capture.who))

    def _ended(self, capture: Capture) -> None:
        pid = capture.who.participant_id
        if self.captures.get(pid) is capture:
            self._end(pid)
            if pid in self.present and not self._stopping:
                # Media failed while the participant is still seated (a reload, a new
                # network): try again; if their socket is down the offer waits in their
                # mailbox, and their resume starts a capture anyway.
                loop = asyncio.get_running_loop()
                self._retries[pid] = loop.call_later(
                    RETRY_SECONDS, lambda: self._spawn(self._capture(capture.who))
                )

    def _end(self, participant_id: str) -> None:
        handle = self._retries.pop(participant_id, None)
        if handle is not None:
            handle.cancel()
        capture = self.captures.pop(participant_id, None)
        if capture is not None:
            task = capture.finish()
            self._closing.append(task)
            task.add_done_callback(self._closing.remove)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._closing.append(task)
        task.add_done_callback(self._closing.remove)
