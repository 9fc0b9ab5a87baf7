"""This node among several: which node hosts a room, bridging a socket to it, taking a room
over, handing rooms on when stopped, and requests between nodes.

A room lives on one node, its host (the owner of its lease in Redis). A socket may land on any
node, its edge. When the edge is not the host it forwards the client's text to the host as it
came, and writes what the host sends back; the host seats a RemotePeer in the room, so the pure
room model and its dispatch see one kind of participant wherever the socket is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from redis.exceptions import RedisError

from signaling.frames import (
    ANSWER,
    CLOSE,
    DISCONNECT,
    JOIN,
    MESSAGE,
    REQUEST,
    RESUME,
    WRITE,
    Frame,
    connection_id,
    edge_of,
)
from signaling.live import CLOSE_MOVED, CLOSE_REFUSED, CLOSE_TRY_AGAIN, NO_ROOM, LiveRoom, Refused
from signaling.messages import ProtocolError, error, parse
from signaling.placement import NodeLoad, choose_host
from signaling.redis_bus import RedisBus
from signaling.room import AuditEvent
from signaling.snapshot import BadSnapshot, Restored, restore_room, room_state

if TYPE_CHECKING:
    from signaling.server import SignalingServer

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 8.0

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class Bridged(Protocol):
    """A socket on this node whose room is hosted elsewhere (signaling.ws.Connection)."""

    bridge: str | None
    case_id: int
    connection: str

    def write(self, text: str) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...


def _unreachable_directory() -> Refused:
    return Refused(
        "cluster_unavailable",
        "the room directory cannot be reached: try again shortly",
        close_code=CLOSE_TRY_AGAIN,
    )


class RemotePeer:
    """On the host: a seat whose socket is on another node. Satisfies live.Peer and ws.Seated."""

    __slots__ = (
        "closed",
        "connection",
        "edge",
        "from_prefix",
        "gone",
        "live",
        "node",
        "participant_id",
        "pending",
    )

    def __init__(self, node: ClusterNode, connection: str) -> None:
        self.node = node
        self.connection = connection
        self.edge = edge_of(connection)
        self.live: LiveRoom | None = None
        self.participant_id: str | None = None
        self.from_prefix = ""
        # Messages that arrive while the join is still being checked wait here, in order.
        self.pending: list[str] | None = []
        self.closed = False
        self.gone = False

    def write(self, text: str) -> None:
        if not self.closed:
            self.node.bus.send(self.edge, (WRITE, "", self.connection, text))

    def close_soon(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.node.remote.pop(self.connection, None)
        self.node.bus.send(self.edge, (CLOSE, str(code), self.connection, reason))

    def refuse(self, code: str, message: str, close_code: int = CLOSE_REFUSED) -> None:
        self.write(error(code, message))
        self.close_soon(close_code, code)


class ClusterNode:
    def __init__(
        self,
        server: SignalingServer,
        *,
        url: str,
        prefix: str,
        node: str,
        lease_seconds: float = 6.0,
        heartbeat_seconds: float = 2.0,
    ) -> None:
        self.server = server
        self.name = node
        self.bus = RedisBus(
            url,
            prefix=prefix,
            node=node,
            on_frames=self._on_frames,
            load=self.load,
            on_tick=self._tick,
            on_lost=self._lost,
            on_unreachable=self._unreachable,
            on_recovered=self._recovered,
            lease_seconds=lease_seconds,
            heartbeat_seconds=heartbeat_seconds,
        )
        self.edges: dict[str, Bridged] = {}
        self.remote: dict[str, RemotePeer] = {}
        self.handlers: dict[str, Handler] = {
            "room.snapshot": self._room_snapshot,
            "room.end": self._room_end,
            "room.tell": self._room_tell,
        }
        self._numbers = itertools.count(1)
        self._calls: dict[str, asyncio.Future[str]] = {}
        self._dirty: set[int] = set()
        self._saver: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.bus.start()

    @property
    def healthy(self) -> bool:
        return self.bus.healthy

    @property
    def draining(self) -> bool:
        return self.bus.draining

    def load(self) -> NodeLoad:
        return NodeLoad(
            self.name,
            len(self.server.rooms),
            len(self.server.peers) + len(self.remote),
            self.bus.draining,
        )

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- where a room lives ---------------------------------------------------------------

    async def route(self, case_id: int, *, resume: bool = False) -> str:
        """The node hosting the room, chosen by load (and claimed) when it has none or its
        host no longer listens. A resume places no room that has nothing saved to resume."""
        if case_id in self.server.rooms:
            return self.name
        try:
            owner = await self.bus.owner(case_id)
            if owner is not None and await self.bus.alive(owner):
                return owner
            if resume and not await self.bus.has_state(case_id):
                raise Refused("resume_failed", NO_ROOM)
            if not self.bus.trusted:
                # Redis is away or just came back: the room's host may not have re-claimed
                # it yet, and a room placed now could split it in two.
                raise RedisError("the room directory is being rebuilt")
            want = choose_host(await self.bus.nodes(), self.name)
            return await self.bus.claim(case_id, want, replacing=owner)
        except (RedisError, OSError):
            raise _unreachable_directory() from None

    async def adopt(self, case_id: int) -> Restored | None:
        """Become the room's host before seating anyone: what the last host left, if any."""
        try:
            owner = await self.bus.claim(case_id, self.name)
            if owner != self.name and not await self.bus.alive(owner):
                owner = await self.bus.claim(case_id, self.name, replacing=owner)
            if owner != self.name:
                raise Refused(
                    "room_moved",
                    "another server hosts this room: reconnecting",
                    close_code=CLOSE_MOVED,
                )
            state = await self.bus.load_state(case_id)
        except (RedisError, OSError):
            raise _unreachable_directory() from None
        if state is None:
            return None
        config = self.server.config
        try:
            return restore_room(
                state,
                grace_seconds=config.grace_seconds,
                thresholds=self.server.thresholds,
                loop_now=asyncio.get_running_loop().time(),
                wall_now=time.time(),
            )
        except BadSnapshot as exc:
            log.error("room %s: the last host's snapshot is unusable (%s)", case_id, exc)
            return None

    def changed(self, live: LiveRoom) -> None:
        """Membership changed: save the room for whoever may take it over. One saver writes
        every changed room of a tick in one round trip."""
        self._dirty.add(live.case_id)
        if self._saver is None or self._saver.done():
            self._saver = asyncio.ensure_future(self._save_dirty())

    async def _save_dirty(self) -> None:
        while self._dirty:
            await asyncio.sleep(0)
            cases, self._dirty = self._dirty, set()
            states = {
                case_id: self.state_of(live)
                for case_id in cases
                if (live := self.server.rooms.get(case_id)) is not None and not live.moving
            }
            if not states:
                continue
            try:
                await self.bus.save_states(states)
            except (RedisError, OSError) as exc:
                # _recovered saves every room again when Redis is back.
                log.warning("%d rooms not saved (%s); saved when Redis returns", len(states), exc)
                return

    def state_of(self, live: LiveRoom) -> dict[str, Any]:
        seqs = {pid: box.seq for pid, box in live.mailboxes.items()}
        return room_state(
            live.room, seqs, loop_now=asyncio.get_running_loop().time(), wall_now=time.time()
        )

    def closed(self, case_id: int) -> None:
        """The room emptied here: nothing is left to take over."""
        self._spawn(self._release(case_id))

    async def _release(self, case_id: int) -> None:
        try:
            await self.bus.release(case_id)
        except (RedisError, OSError) as exc:
            log.warning("room %s: lease not released (%s); it lapses by itself", case_id, exc)

    # -- the edge: sockets here, rooms elsewhere ------------------------------------------

    def bridge(self, conn: Bridged, host: str, case_id: int, kind: str, text: str) -> None:
        conn.bridge = host
        conn.case_id = case_id
        conn.connection = connection_id(self.name, next(self._numbers))
        self.edges[conn.connection] = conn
        self.bus.send(host, (kind, str(case_id), conn.connection, text))

    def forward(self, conn: Bridged, text: str) -> None:
        if conn.bridge is not None:
            self.bus.send(conn.bridge, (MESSAGE, str(conn.case_id), conn.connection, text))

    def unbridge(self, conn: Bridged) -> None:
        if self.edges.pop(conn.connection, None) is not None and conn.bridge is not None:
            self.bus.send(conn.bridge, (DISCONNECT, str(conn.case_id), conn.connection, ""))

    # -- frames ---------------------------------------------------------------------------

    def _on_frames(self, frames: list[Frame]) -> None:
        now = asyncio.get_running_loop().time()
        for kind, a, b, payload in frames:
            try:
                if kind == WRITE:
                    conn = self.edges.get(b)
                    if conn is not None:
                        conn.write(payload)
                elif kind == MESSAGE:
                    self._message(b, payload, now)
                elif kind == CLOSE:
                    conn = self.edges.get(b)
                    if conn is not None:
                        conn.close_soon(int(a), payload)
                elif kind in (JOIN, RESUME):
                    peer = self.remote[b] = RemotePeer(self, b)
                    self._spawn(self._open(peer, payload))
                elif kind == DISCONNECT:
                    self._disconnected(b, now)
                elif kind == REQUEST:
                    self._spawn(self._serve(a, b, payload))
                elif kind == ANSWER:
                    future = self._calls.pop(a, None)
                    if future is not None and not future.done():
                        future.set_result(payload)
            except Exception:
                log.exception("bus frame %s for %s", kind, b)

    async def _open(self, peer: RemotePeer, text: str) -> None:
        from signaling.dispatch import take_seat

        loop = asyncio.get_running_loop()
        try:
            message = parse(text, max_bytes=self.server.config.max_message_bytes)
            await take_seat(self.server, peer, message, loop.time())
        except ProtocolError as exc:
            peer.refuse(exc.code, exc.message)
        except Refused as exc:
            peer.refuse(exc.code, exc.message, exc.close_code)
        queued, peer.pending = peer.pending or [], None
        if peer.gone:
            # The socket closed while the join was being checked.
            if peer.live is not None:
                peer.live.disconnected(peer, loop.time())
            return
        for queued_text in queued:
            self._deliver(peer, queued_text, loop.time())

    def _message(self, connection: str, text: str, now: float) -> None:
        peer = self.remote.get(connection)
        if peer is None:
            # This node no longer holds that seat (it took the room over, or restarted).
            self.bus.send(edge_of(connection), (CLOSE, str(CLOSE_MOVED), connection, "room moved"))
        elif peer.pending is not None:
            peer.pending.append(text)
        else:
            self._deliver(peer, text, now)

    def _deliver(self, peer: RemotePeer, text: str, now: float) -> None:
        from signaling.dispatch import dispatch

        try:
            message = parse(text, max_bytes=self.server.config.max_message_bytes)
        except ProtocolError as exc:
            peer.write(error(exc.code, exc.message, exc.ref))
            return
        dispatch(self.server, peer, message, now)

    def _disconnected(self, connection: str, now: float) -> None:
        peer = self.remote.pop(connection, None)
        if peer is None:
            return
        peer.gone = True
        if peer.pending is None and peer.live is not None:
            peer.live.disconnected(peer, now)

    # -- losing and finding nodes ---------------------------------------------------------

    def _unreachable(self, node: str) -> None:
        """Nothing listens on the node's channel: it stopped or died. Its sockets' seats
        drop (their clients resume elsewhere); our sockets bridged to it reconnect."""
        if not self.bus.trusted:
            return  # it may be reconnecting to a Redis that just came back, as we are
        now = asyncio.get_running_loop().time()
        for connection in [c for c, p in self.remote.items() if p.edge == node]:
            self._disconnected(connection, now)
        for conn in [c for c in self.edges.values() if c.bridge == node]:
            conn.close_soon(CLOSE_MOVED, "the room's server is gone: reconnecting")

    async def _tick(self) -> None:
        for case_id in list(self.bus.hosted):
            # Claimed for a join that never took a seat here (refused, or its socket gone).
            # Only the lease goes: a saved room stays for whoever takes it over.
            if case_id not in self.server.rooms and not self.server.opening(case_id):
                await self.bus.hand_back([case_id])
        nodes = {p.edge for p in self.remote.values()} | {
            c.bridge for c in self.edges.values() if c.bridge is not None
        }
        for node in nodes:
            if not await self.bus.alive(node):
                self._unreachable(node)

    def _lost(self, case_id: int) -> None:
        """Another node holds our room's lease now (we lost Redis for longer than it)."""
        live = self.server.rooms.get(case_id)
        if live is not None:
            log.warning("room %s: another server took it over; sending its seats there", case_id)
            self.server.evict(live, CLOSE_MOVED, "room moved to another server")

    async def _recovered(self) -> None:
        kept = {}
        for case_id, live in list(self.server.rooms.items()):
            if await self.bus.claim(case_id, self.name) != self.name:
                self._lost(case_id)
            else:
                kept[case_id] = self.state_of(live)
        if kept:
            await self.bus.save_states(kept)

    # -- draining -------------------------------------------------------------------------

    def begin_drain(self) -> None:
        """Stop taking new rooms (the node's record says so at once); rooms stay until drain."""
        self.bus.draining = True
        self._spawn(self._announce_quietly())

    async def _announce_quietly(self) -> None:
        try:
            await self.bus.announce()
        except (RedisError, OSError) as exc:
            log.warning("could not announce draining: %s", exc)

    async def drain(self) -> None:
        """Stopping: take no rooms, hand each room on (its state stays for the next host),
        and send every client to reconnect through the balancer."""
        self.bus.draining = True
        rooms = list(self.server.rooms.values())
        try:
            await self.bus.announce()
            await self.bus.save_states({live.case_id: self.state_of(live) for live in rooms})
            await self.bus.hand_back(live.case_id for live in rooms)
        except (RedisError, OSError) as exc:
            log.error("drain: Redis unreachable (%s); leases lapse by themselves", exc)
        for live in rooms:
            self.server.record(
                live.case_id, AuditEvent("handover", "~server", "server", {"node": self.name})
            )
            self.server.evict(live, CLOSE_MOVED, "room moving to another server")
        for conn in list(self.edges.values()):
            conn.close_soon(CLOSE_MOVED, "server stopping: reconnecting")
        await self.bus.flush()

    async def close(self) -> None:
        if self._saver is not None:
            self._saver.cancel()
        for task in list(self._tasks):
            task.cancel()
        for future in self._calls.values():
            future.cancel()
        await self.bus.close()

    # -- requests between nodes -----------------------------------------------------------

    async def call(self, node: str, op: str, args: dict[str, Any]) -> Any:
        """Run a registered handler on a node (here without the bus): its result, or raise
        RemoteError with the handler's message."""
        if node == self.name:
            return await self.handlers[op](args)
        ident = f"{self.name}:{next(self._numbers)}"
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._calls[ident] = future
        self.bus.send(node, (REQUEST, ident, self.name, json.dumps({"op": op, "args": args})))
        try:
            answer = json.loads(await asyncio.wait_for(future, REQUEST_TIMEOUT))
        except TimeoutError:
            raise RemoteError("no_answer", f"{node} did not answer {op}") from None
        finally:
            self._calls.pop(ident, None)
        if not answer.get("ok"):
            raise RemoteError(str(answer.get("code", "failed")), str(answer.get("error", "")))
        return answer.get("result")

    async def _room_snapshot(self, args: dict[str, Any]) -> dict[str, object] | None:
        return self.server.snapshot(int(args["case_id"]))

    async def _room_end(self, args: dict[str, Any]) -> bool:
        return self.server.end_room(int(args["case_id"]), str(args["reason"]))

    async def _room_tell(self, args: dict[str, Any]) -> int:
        return self.server.tell_room(int(args["case_id"]), dict(args["message"]))

    async def _serve(self, ident: str, reply_to: str, text: str) -> None:
        try:
            request = json.loads(text)
            handler = self.handlers.get(str(request.get("op")))
            if handler is None:
                raise RemoteError("unknown_op", f"no handler for {request.get('op')!r}")
            answer: dict[str, Any] = {"ok": True, "result": await handler(request["args"])}
        except Exception as exc:
            # A refusal with a code (a domain rule, RemoteError) travels as that code.
            code = getattr(exc, "code", None)
            if not isinstance(code, str):
                log.exception("request %s from %s", ident, reply_to)
                code = "failed"
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            answer = {"ok": False, "code": code, "error": str(message)}
        self.bus.send(reply_to, (ANSWER, ident, "", json.dumps(answer, ensure_ascii=False)))


class RemoteError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
