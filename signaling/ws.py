"""/ws: the upgrade, then each socket's bytes handled where they arrive.

aiohttp answers the HTTP upgrade and then hands the socket over: Connection becomes the
transport's protocol, so its bytes come straight to Connection.data_received, are cut into
messages (signaling.websocket) and handled there, and replies are written to the transport
at once. No task wakes per message and no queue holds one, and an idle socket keeps no
request, handler task or HTTP parser alive. A Task exists only for the join, which may ask
the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler

from signaling.dispatch import dispatch, take_seat
from signaling.frames import JOIN, RESUME
from signaling.live import CLOSE_REFUSED, CLOSE_TRY_AGAIN, LiveRoom, Refused
from signaling.messages import Join, ProtocolError, Resume, error, parse
from signaling.ratelimit import TokenBucket
from signaling.websocket import (
    CLOSE_BAD_DATA,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameError,
    FrameReader,
    accept_key,
    close_frame,
    frame,
    read_close,
)

if TYPE_CHECKING:
    from signaling.server import SignalingServer

log = logging.getLogger(__name__)

CLOSE_SLOW = 4005
CLOSE_FLOOD = 4008
# Bytes written to a socket and not yet taken by it, before it is given up on as too slow
# to read; what it missed stays in its mailbox for a resume. A hearing's busiest moment,
# call setup, is a few dozen messages of at most 64 KiB.
MAX_UNSENT_BYTES = 1 << 20
# Messages that arrive while the join is being decided wait for it, up to this many.
MAX_WAITING = 64
# Seconds to wait for the client's answer to our close frame.
CLOSE_TIMEOUT = 2.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# States of a socket, in the order they come.
AWAITING_JOIN, JOINING, OPEN, CLOSING, CLOSED = range(5)


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


class Connection(asyncio.Protocol):
    """One client socket, as the transport's protocol: bytes come in (data_received), the
    socket goes (connection_lost); the room writes to it (write, close_soon)."""

    __slots__ = (
        "_bucket",
        "_limited",
        "_loop",
        "_reader",
        "_server",
        "_state",
        "_strikes",
        "_timer",
        "_waiting",
        "bridge",
        "case_id",
        "connection",
        "from_prefix",
        "live",
        "participant_id",
        "pinged",
        "seen",
        "transport",
    )

    def __init__(self, server: SignalingServer, transport: asyncio.Transport) -> None:
        config = server.config
        self._server = server
        self._loop = loop = asyncio.get_running_loop()
        now = loop.time()
        self.transport = transport
        self.live: LiveRoom | None = None
        self.participant_id: str | None = None
        self.from_prefix = ""
        # Set when the room is hosted by another node: the socket is bridged there.
        self.bridge: str | None = None
        self.case_id = 0
        self.connection = ""
        # Up to 4x the limit we answer with a too_large error; beyond that the socket is
        # closed (1009) before the message is even buffered whole.
        self._reader = FrameReader(config.max_message_bytes * 4)
        self._state = AWAITING_JOIN
        self._waiting: list[tuple[int, bytes | bytearray]] | None = None
        self._bucket = TokenBucket(config.rate_burst, config.rate_per_second, now)
        self._strikes = TokenBucket(config.flood_strikes, config.rate_per_second, now)
        self._limited = False
        # When anything last arrived, and when we pinged a silent socket (heartbeat).
        self.seen = now
        self.pinged: float | None = None
        self._timer: asyncio.TimerHandle | None = loop.call_later(
            config.join_timeout_seconds, self._join_timeout
        )

    # -- the transport's side: the socket's bytes, then its end ---------------------------

    def data_received(self, data: bytes) -> None:
        now = self._loop.time()
        self.seen = now
        self.pinged = None
        try:
            frames = self._reader.feed(data)
        except FrameError as exc:
            self.close_soon(exc.code, exc.reason)
            return
        for opcode, payload in frames:
            if self._state >= CLOSING:
                if opcode == OP_CLOSE:
                    self._closed_by_client(payload)
                continue
            if opcode == OP_PING:
                if self._take(now):
                    self._send(frame(OP_PONG, bytes(payload)))
            elif opcode == OP_CLOSE:
                self._closed_by_client(payload)
            elif opcode != OP_PONG:
                self._message(opcode, payload, now)

    def eof_received(self) -> bool:
        return False  # a half-closed socket is a closed one: let the transport close it

    def connection_lost(self, exc: Exception | None) -> None:
        self._state = CLOSED
        self._cancel_timer()
        self._release()

    # -- the room's side ------------------------------------------------------------------

    def write(self, text: str) -> None:
        if self._state >= CLOSING:
            return
        self._send(frame(OP_TEXT, text.encode("utf-8")))
        if self.transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            self.close_soon(CLOSE_SLOW, "too slow to read")

    def close_soon(self, code: int, reason: str) -> None:
        if self._state >= CLOSING:
            return
        self._state = CLOSING
        self._cancel_timer()
        self._send(close_frame(code, reason))
        # The client answers with its own close frame; one that does not is cut off.
        self._timer = self._loop.call_later(CLOSE_TIMEOUT, self.transport.abort)

    def refuse(
        self, code: str, message: str, ref: str | None = None, close_code: int = CLOSE_REFUSED
    ) -> None:
        self.write(error(code, message, ref))
        self.close_soon(close_code, code)

    @property
    def closed(self) -> bool:
        return self._state == CLOSED

    def abort(self) -> None:
        self.transport.abort()

    def ping(self, now: float) -> None:
        self.pinged = now
        self._send(frame(OP_PING, b""))

    # -- messages -------------------------------------------------------------------------

    def _message(self, opcode: int, payload: bytes | bytearray, now: float) -> None:
        state = self._state
        if state == OPEN:
            # Every frame a client sends costs it a token, binary ones too: answering those
            # for free would let a flood of them run without ever being closed.
            if not self._take(now):
                self._rate_limited(now)
            elif opcode == OP_TEXT:
                self._text(payload, now)
            else:
                self.write(error("bad_message", "messages are JSON text frames"))
        elif state == AWAITING_JOIN:
            self._state = JOINING
            self._cancel_timer()
            self._loop.create_task(self._handshake(opcode, payload))
        else:
            waiting = self._waiting
            if waiting is None:
                waiting = self._waiting = []
            if len(waiting) >= MAX_WAITING:
                self.refuse("flood", "too many messages before the join was answered")
            else:
                waiting.append((opcode, payload))

    def _text(self, payload: bytes | bytearray, now: float) -> None:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self.close_soon(CLOSE_BAD_DATA, "text frames are UTF-8")
            return
        server = self._server
        if self.bridge is not None:
            assert server.cluster is not None
            server.cluster.forward(self, text)
            return
        try:
            message = parse(text, max_bytes=server.config.max_message_bytes)
        except ProtocolError as exc:
            self.write(error(exc.code, exc.message, exc.ref))
            return
        dispatch(server, self, message, now)

    async def _handshake(self, opcode: int, payload: bytes | bytearray) -> None:
        server = self._server
        try:
            text = payload.decode("utf-8") if opcode == OP_TEXT else b""
            message = parse(text, max_bytes=server.config.max_message_bytes)
            cluster = server.cluster
            if cluster is not None and isinstance(message, Join | Resume):
                # Only a valid token, or a seat someone saved, may place a room on a node.
                if isinstance(message, Join):
                    server.claims(message)
                host = await cluster.route(message.case_id, resume=isinstance(message, Resume))
                if host != cluster.name:
                    kind = JOIN if isinstance(message, Join) else RESUME
                    assert isinstance(text, str)
                    cluster.bridge(self, host, message.case_id, kind, text)
                    return self._opened()
            await take_seat(server, self, message, self._loop.time())
        except UnicodeDecodeError:
            self.close_soon(CLOSE_BAD_DATA, "text frames are UTF-8")
        except ProtocolError as exc:
            self.refuse(exc.code, exc.message, exc.ref)
        except Refused as exc:
            self.refuse(exc.code, exc.message, close_code=exc.close_code)
        except Exception:
            log.exception("join failed")
            self.refuse(
                "unavailable",
                "the server could not seat you: try again",
                close_code=CLOSE_TRY_AGAIN,
            )
        else:
            self._opened()

    def _opened(self) -> None:
        if self._state == CLOSED:
            # The socket went while the join was being decided: give the seat up again.
            self._release()
            return
        if self._state != JOINING:
            return
        self._state = OPEN
        waiting, self._waiting = self._waiting, None
        now = self._loop.time()
        for opcode, payload in waiting or ():
            self._message(opcode, payload, now)

    def _closed_by_client(self, payload: bytes | bytearray) -> None:
        if self._state < CLOSING:
            try:
                code = read_close(payload)
            except FrameError as exc:
                code = exc.code
            # Answer with the client's own code, as RFC 6455 asks, then hang up.
            self._state = CLOSING
            self._send(close_frame(CLOSE_NORMAL if code == CLOSE_NO_STATUS else code))
        self._cancel_timer()
        self.transport.close()

    # -- limits ---------------------------------------------------------------------------

    def _take(self, now: float) -> bool:
        if self._bucket.take(now):
            self._limited = False
            return True
        return False

    def _rate_limited(self, now: float) -> None:
        if not self._strikes.take(now):
            self.write(error("flood", "too many messages: closing this connection"))
            self.close_soon(CLOSE_FLOOD, "flood")
        elif not self._limited:
            # One error per episode: answering every dropped message would
            # double the flood in the other direction.
            self._limited = True
            self.write(error("rate_limited", "too many messages: some were dropped"))

    def _join_timeout(self) -> None:
        self._timer = None
        if self._state == AWAITING_JOIN:
            self.refuse("join_timeout", "no join message in time")

    # -- plumbing -------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _release(self) -> None:
        """Give up the seat or the bridge this socket held; safe to call more than once."""
        server = self._server
        server.peers.discard(self)
        if self.bridge is not None and server.cluster is not None:
            server.cluster.unbridge(self)
        live = self.live
        if live is not None:
            live.disconnected(self, self._loop.time())


class Heartbeat:
    """One timer for every socket instead of one each: a socket silent for `seconds` is
    pinged, and one that then stays silent for half of that is cut off (a drop)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sockets: set[Connection] = set()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, conn: Connection) -> None:
        self.sockets.add(conn)
        if self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.seconds / 4, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now, seconds = loop.time(), self.seconds
        for conn in list(self.sockets):
            if conn.closed:
                self.sockets.discard(conn)
            elif conn.pinged is not None:
                if now - conn.pinged >= seconds / 2:
                    conn.transport.abort()
            elif now - conn.seen >= seconds:
                conn.ping(now)
        if self.sockets:
            self._schedule()


def take_over(http: RequestHandler, transport: asyncio.Transport, conn: Connection) -> None:
    """Take the upgraded socket from aiohttp's HTTP protocol, which then lets go of it."""
    # Bytes a client sent before it saw our 101, should there be any.
    early: bytes = getattr(http, "_message_tail", b"")
    transport.set_protocol(conn)
    if not transport.is_reading():
        transport.resume_reading()
    # aiohttp must neither close nor write to the socket when the handler returns; told the
    # connection is lost to it, it stops tracking it and its request is freed.
    http.transport = None
    http.connection_lost(None)
    if early:
        conn.data_received(early)


def make_handler(server: SignalingServer) -> Handler:
    config = server.config
    heartbeat = Heartbeat(config.heartbeat_seconds)

    async def handler(request: web.Request) -> web.StreamResponse:
        if not origin_allowed(request, config.allowed_origins):
            raise web.HTTPForbidden(text="cross-origin WebSocket refused")
        accept = accept_key(request.headers)
        if accept is None:
            raise web.HTTPBadRequest(text="expected a WebSocket upgrade")
        response = web.StreamResponse(
            status=101,
            headers={
                hdrs.UPGRADE: "websocket",
                hdrs.CONNECTION: "upgrade",
                hdrs.SEC_WEBSOCKET_ACCEPT: accept,
            },
        )
        response.force_close()
        await response.prepare(request)
        transport = request.transport
        if transport is None or transport.is_closing():
            return response
        conn = Connection(server, transport)
        server.peers.add(conn)
        heartbeat.watch(conn)
        take_over(request.protocol, transport, conn)
        return response

    return handler
