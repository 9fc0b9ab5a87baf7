"""The aiohttp WebSocket handler: origin check, handshake, per-message fast path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from aiohttp import WSMsgType, hdrs, web
from aiohttp._websocket.writer import WebSocketWriter

from signaling.frames import JOIN, RESUME
from signaling.live import CLOSE_REFUSED, LiveRoom, Peer, Refused
from signaling.messages import (
    PONG,
    Admit,
    ClientMessage,
    Join,
    Leave,
    Ping,
    ProtocolError,
    Remove,
    Resume,
    Signal,
    Stats,
    error,
    parse,
    sender_prefix,
    signal_body,
)
from signaling.ratelimit import TokenBucket
from signaling.room import RoomError

if TYPE_CHECKING:
    from signaling.server import SignalingServer

log = logging.getLogger(__name__)

CLOSE_SLOW = 4005
CLOSE_FLOOD = 4008
# Messages queued for a socket that does not read before it is given up on;
# what it missed stays in its mailbox for a resume.
MAX_QUEUED = 512
# Seconds to wait for the client's answer to our close frame.
CLOSE_TIMEOUT = 2.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp only offers `await send_str()`. A relay that awaits per recipient, or
# starts a task per message, spends more on scheduling than on the message. When
# nothing is queued and the transport is not paused, send_frame does exactly
# this synchronous write; otherwise we queue and let a task await the drain.
# Checked once here, so an aiohttp without it silently takes the queued path.
_WRITE_FRAME = getattr(WebSocketWriter, "_write_websocket_frame", None)


def _write_now(ws: web.WebSocketResponse, data: bytes) -> bool:
    writer = ws._writer
    if _WRITE_FRAME is None or writer is None or writer._closing or writer.protocol._paused:
        return False
    _WRITE_FRAME(writer, data, WSMsgType.TEXT, 0)
    return True


_TYPE_NAMES: dict[type, str] = {
    Join: "join",
    Resume: "resume",
    Admit: "admit",
    Remove: "remove",
    Signal: "signal",
    Stats: "stats",
    Leave: "leave",
    Ping: "ping",
}


def origin_allowed(request: web.Request, allowed: frozenset[str]) -> bool:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        # Browsers always send Origin on a WebSocket upgrade; its absence means
        # a non-browser client, which could forge any Origin anyway.
        return True
    if origin in allowed:
        return True
    scheme, sep, authority = origin.partition("://")
    if not sep or scheme not in ("http", "https"):
        return False
    return authority.lower() == request.host.lower()


class Connection:
    """One socket. Writes are queued and flushed by a task that exists only while there is work."""

    __slots__ = (
        "_bucket",
        "_close",
        "_limited",
        "_loop",
        "_pending",
        "_strikes",
        "_task",
        "bridge",
        "case_id",
        "connection",
        "from_prefix",
        "live",
        "participant_id",
        "ws",
    )

    def __init__(self, ws: web.WebSocketResponse, server: SignalingServer, now: float) -> None:
        config = server.config
        self.ws = ws
        self.live: LiveRoom | None = None
        self.participant_id: str | None = None
        self.from_prefix = ""
        # Set when the room is hosted by another node: the socket is bridged there.
        self.bridge: str | None = None
        self.case_id = 0
        self.connection = ""
        self._loop = asyncio.get_running_loop()
        self._pending: list[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._close: tuple[int, str] | None = None
        self._bucket = TokenBucket(config.rate_burst, config.rate_per_second, now)
        self._strikes = TokenBucket(config.flood_strikes, config.rate_per_second, now)
        self._limited = False

    def write(self, text: str) -> None:
        if self._close is not None:
            return
        if self._task is None:
            try:
                if _write_now(self.ws, text.encode("utf-8")):
                    return
            except (ConnectionError, RuntimeError):
                self._close = (1006, "")
                return
        pending = self._pending
        if pending is None:
            pending = self._pending = []
        pending.append(text)
        if len(pending) > MAX_QUEUED:
            self._pending = None
            self._close = (CLOSE_SLOW, "too slow to read")
        if self._task is None:
            self._task = self._loop.create_task(self._flush())

    def close_soon(self, code: int, reason: str) -> None:
        if self._close is not None:
            return
        self._close = (code, reason)
        if self._task is None:
            self._task = self._loop.create_task(self._flush())

    async def _flush(self) -> None:
        ws = self.ws
        try:
            while self._pending:
                batch, self._pending = self._pending, None
                for text in batch:
                    await ws.send_str(text)
            if self._close is not None and not ws.closed:
                code, reason = self._close
                await ws.close(code=code, message=reason.encode("utf-8")[:120])
        except (ConnectionError, RuntimeError):
            self._pending = None
        finally:
            self._task = None

    async def finish(self) -> None:
        task = self._task
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), CLOSE_TIMEOUT)
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()

    def refuse(
        self, code: str, message: str, ref: str | None = None, close_code: int = CLOSE_REFUSED
    ) -> None:
        self.write(error(code, message, ref))
        self.close_soon(close_code, code)

    def rate_limited(self, now: float) -> None:
        if not self._strikes.take(now):
            self.write(error("flood", "too many messages: closing this connection"))
            self.close_soon(CLOSE_FLOOD, "flood")
        elif not self._limited:
            # One error per episode: answering every dropped message would
            # double the flood in the other direction.
            self._limited = True
            self.write(error("rate_limited", "too many messages: some were dropped"))

    def take(self, now: float) -> bool:
        if self._bucket.take(now):
            self._limited = False
            return True
        return False


class Seated(Protocol):
    """What dispatch needs of a connection: a WebSocket one, or the server's own recorder."""

    live: LiveRoom | None
    participant_id: str | None
    from_prefix: str

    def write(self, text: str) -> None: ...


def dispatch(server: SignalingServer, conn: Seated, message: ClientMessage, now: float) -> None:
    """Act on one parsed message from a seated connection."""
    live, sender = conn.live, conn.participant_id
    if live is None or sender is None:
        return
    room = live.room
    try:
        if type(message) is Signal:
            room.check_signal(sender, message.to)
            prefix = conn.from_prefix
            if not prefix:
                prefix = conn.from_prefix = sender_prefix(sender)
            server.hub.publish(live.case_id, message.to, signal_body(prefix, message), now)
        elif type(message) is Stats:
            live.apply(
                room.report(sender, message.packet_loss, message.rtt_ms, message.bitrate_kbps, now),
                now,
            )
        elif type(message) is Ping:
            conn.write(PONG)
        elif isinstance(message, Admit):
            live.apply(room.admit(sender, message.participant, now), now)
        elif isinstance(message, Remove):
            live.removed(sender, message.participant, message.reason, now)
        elif isinstance(message, Leave):
            live.left(sender, now)
        else:
            conn.write(error("already_joined", "this connection already has a seat"))
    except RoomError as exc:
        conn.write(error(exc.code, exc.message, _TYPE_NAMES.get(type(message))))


async def take_seat(
    server: SignalingServer, conn: Peer, message: ClientMessage, now: float
) -> None:
    """A connection's first message, on the node hosting the room: Refused if no seat."""
    if isinstance(message, Join):
        await server.join(conn, message, now)
    elif isinstance(message, Resume):
        await server.resume(conn, message, now)
    else:
        raise Refused("not_joined", "the first message must be join or resume")


def make_handler(server: SignalingServer) -> Handler:
    config = server.config
    max_bytes = config.max_message_bytes

    async def handshake(conn: Connection) -> bool:
        loop = asyncio.get_running_loop()
        try:
            msg = await conn.ws.receive(timeout=config.join_timeout_seconds)
        except TimeoutError:
            conn.refuse("join_timeout", "no join message in time")
            return False
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return False
        try:
            message = parse(msg.data if msg.type is WSMsgType.TEXT else b"", max_bytes=max_bytes)
            cluster = server.cluster
            if cluster is not None and isinstance(message, Join | Resume):
                # Only a valid token, or a seat someone saved, may place a room on a node.
                if isinstance(message, Join):
                    server.claims(message)
                host = await cluster.route(message.case_id, resume=isinstance(message, Resume))
                if host != cluster.name:
                    kind = JOIN if isinstance(message, Join) else RESUME
                    cluster.bridge(conn, host, message.case_id, kind, msg.data)
                    return True
            await take_seat(server, conn, message, loop.time())
        except ProtocolError as exc:
            conn.refuse(exc.code, exc.message, exc.ref)
            return False
        except Refused as exc:
            conn.refuse(exc.code, exc.message, close_code=exc.close_code)
            return False
        return True

    def on_text(conn: Connection, data: str, now: float) -> None:
        if conn.bridge is not None:
            assert server.cluster is not None
            server.cluster.forward(conn, data)
            return
        try:
            message = parse(data, max_bytes=max_bytes)
        except ProtocolError as exc:
            conn.write(error(exc.code, exc.message, exc.ref))
            return
        dispatch(server, conn, message, now)

    async def handler(request: web.Request) -> web.StreamResponse:
        if not origin_allowed(request, config.allowed_origins):
            raise web.HTTPForbidden(text="cross-origin WebSocket refused")
        ws = web.WebSocketResponse(
            heartbeat=config.heartbeat_seconds,
            # Up to 4x the limit we answer with a too_large error; beyond that
            # aiohttp closes with 1009 before buffering it.
            max_msg_size=max_bytes * 4,
            timeout=CLOSE_TIMEOUT,
            # Compressing every SDP and candidate costs more CPU than the bytes are worth.
            compress=False,
        )
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(text="expected a WebSocket upgrade")
        await ws.prepare(request)
        loop = asyncio.get_running_loop()
        conn = Connection(ws, server, loop.time())
        server.peers.add(conn)
        try:
            if await handshake(conn):
                async for msg in ws:
                    now = loop.time()
                    # Every frame a client sends costs it a token, binary ones too: answering
                    # those for free would let a flood of them run without ever being closed.
                    if not conn.take(now):
                        conn.rate_limited(now)
                    elif msg.type is WSMsgType.TEXT:
                        on_text(conn, msg.data, now)
                    else:
                        conn.write(error("bad_message", "messages are JSON text frames"))
        finally:
            server.peers.discard(conn)
            if conn.bridge is not None and server.cluster is not None:
                server.cluster.unbridge(conn)
            live = conn.live
            if live is not None:
                live.disconnected(conn, loop.time())
            await conn.finish()
        return ws

    return handler
