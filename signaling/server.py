"""Setup: configuration, the registry of live rooms, joins and resumes, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web
from redis.exceptions import RedisError

from signaling.authority import RoomAuthority, RoomInfo
from signaling.cluster import RemoteError
from signaling.hub import Hub, LocalHub
from signaling.ice import IceSettings
from signaling.live import CLOSE_TRY_AGAIN, NO_ROOM, NO_SEAT, LiveRoom, Peer, Refused
from signaling.mailbox import ReplayBudget, ReplayLimits
from signaling.messages import DEFAULT_MAX_MESSAGE_BYTES, Join, Resume, dump
from signaling.notices import ServerNotices
from signaling.room import AuditEvent, RoomError, Thresholds
from signaling.tokens import RoomClaims, TokenError, verify_room_token
from signaling.ws import Connection, make_handler

if TYPE_CHECKING:
    from signaling.cluster import ClusterNode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignalingConfig:
    secret: bytes
    grace_seconds: float = 60.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # Per connection (docs/protocol.md, Limits): a browser setting up calls to every peer of
    # a full room, with trickled candidates and an ICE restart, stays under the burst; a
    # steady call sends a stats report every few seconds.
    rate_burst: int = 120
    rate_per_second: float = 20.0
    # Dropped messages a connection may accumulate (refilled at rate_per_second) before it
    # is treated as abusive and closed.
    flood_strikes: int = 100
    heartbeat_seconds: float = 15.0
    join_timeout_seconds: float = 10.0
    quality_poor: float = 0.10
    quality_bad: float = 0.15
    replay: ReplayLimits = field(default_factory=ReplayLimits)
    # Origins accepted besides the request's own host (e.g. behind a proxy).
    allowed_origins: frozenset[str] = frozenset()
    ice: IceSettings = field(default_factory=IceSettings)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("SignalingConfig.secret must be at least 16 bytes")
        if self.grace_seconds < 0 or self.heartbeat_seconds <= 0:
            raise ValueError("grace_seconds and heartbeat_seconds must be positive")
        if self.max_message_bytes < 1024:
            raise ValueError("max_message_bytes below 1 KiB cannot carry an SDP")
        if not 0 < self.quality_poor < self.quality_bad <= 1:
            raise ValueError("need 0 < quality_poor < quality_bad <= 1")


class SignalingServer(ServerNotices):
    def __init__(
        self,
        config: SignalingConfig,
        authority: RoomAuthority,
        *,
        hub: Hub | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.authority = authority
        self.hub: Hub = hub or LocalHub()
        self.rooms: dict[int, LiveRoom] = {}
        self.peers: set[Peer] = set()
        self._wall_clock = wall_clock
        self.thresholds = Thresholds(config.quality_poor, config.quality_bad)
        # What every seat on this node holds for resumes, together (docs/protocol.md, Memory).
        self.replay_budget = ReplayBudget(config.replay.node_chars)
        # Set for several nodes (signaling.cluster): rooms then live on one node each.
        self.cluster: ClusterNode | None = None
        # One node after SIGTERM: rooms already open go on to their end; no new one opens.
        # (Several nodes drain through the cluster instead, which places rooms elsewhere.)
        self.stopping = False
        # Told the case id when this node takes over a room another node hosted.
        self.on_adopt: list[Callable[[int], None]] = []
        # Told the case id when a room opens here afresh, with no saved state: its first join,
        # or the first after this server restarted.
        self.on_open: list[Callable[[int], None]] = []
        self._opening: dict[int, asyncio.Future[LiveRoom]] = {}
        self._audit: deque[tuple[int, AuditEvent]] = deque()
        self._audit_task: asyncio.Task[None] | None = None
        self._audit_idle = asyncio.Event()
        self._audit_idle.set()

    # -- joining ---------------------------------------------------------

    def claims(self, message: Join) -> RoomClaims:
        """The join's room token, checked (signature, expiry, case): Refused otherwise."""
        try:
            claims = verify_room_token(self.config.secret, message.token, now=self._wall_clock())
        except TokenError as exc:
            raise Refused(exc.code, exc.message) from None
        if claims.case_id != message.case_id:
            raise Refused("token_wrong_case", "this room token is for another case")
        return claims

    async def join(self, peer: Peer, message: Join, now: float) -> None:
        claims = self.claims(message)
        # Asked on every join, so closing a hearing in the app stops new joins at once.
        info = await self.authority.room_for(claims.case_id)
        if info is None:
            raise Refused("no_room", "there is no live confirmation room for this case")
        live = self.rooms.get(claims.case_id)
        if live is None and self.stopping:
            raise Refused(
                "server_stopping",
                "this server is restarting: try again shortly",
                close_code=CLOSE_TRY_AGAIN,
            )
        live = live or await self._open_room(info)
        live.room.removed |= info.removed
        try:
            outcome = live.room.join(
                claims.participant_id,
                claims.role,
                claims.display_name,
                resume_token=secrets.token_urlsafe(18),
                now=now,
                readmit=claims.participant_id in info.readmit,
            )
        except RoomError as exc:
            if live.room.empty:
                self._room_empty(live)
            raise Refused(exc.code, exc.message) from None
        live.seat(peer, claims.participant_id)
        welcome = live.room.welcome(claims.participant_id)
        # The room model knows nothing of ICE; the server's policy rides on the welcome so that
        # call.js applies it before it opens any peer connection.
        welcome["ice_transport_policy"] = self.config.ice.transport_policy
        peer.write(dump(welcome))
        live.apply(outcome, now)
        live.resumed()

    async def resume(self, peer: Peer, message: Resume, now: float) -> None:
        live = self.rooms.get(message.case_id)
        if live is None and self.cluster is not None:
            # The room's last host stopped or died: its state is in the directory.
            info = await self.authority.room_for(message.case_id)
            if info is not None:
                live = await self._open_room(info)
        if live is None:
            raise Refused("resume_failed", NO_ROOM)
        seat = live.room.seats.get(message.participant)
        if seat is None or not hmac.compare_digest(seat.resume_token, message.resume_token):
            raise Refused("resume_failed", NO_SEAT)
        outcome = live.room.resume(message.participant, seat.resume_token, now)
        mailbox = live.seat(peer, message.participant)
        missed, complete = mailbox.missed_since(message.last_seq)
        if message.last_seq > mailbox.seq:
            # Taken over from a host that died: it sent more than its last snapshot knew.
            mailbox.seq, complete = message.last_seq, False
        for text in missed:
            peer.write(text)
        resumed = live.room.welcome(message.participant)
        resumed.update(
            type="resumed", replayed=len(missed), complete=complete, last_seq=mailbox.seq
        )
        peer.write(dump(resumed))
        live.apply(outcome, now)
        live.resumed()

    async def _open_room(self, info: RoomInfo) -> LiveRoom:
        """The room's LiveRoom on this node: taken over from the directory with several
        nodes. Concurrent joins to a new room wait for one opening."""
        case_id = info.case_id
        opening = self._opening.get(case_id)
        if opening is not None:
            return await asyncio.shield(opening)
        future: asyncio.Future[LiveRoom] = asyncio.get_running_loop().create_future()
        self._opening[case_id] = future
        try:
            restored = None if self.cluster is None else await self.cluster.adopt(case_id)
            live = self.rooms.get(case_id)
            if live is None:
                live = self.rooms[case_id] = LiveRoom(
                    info,
                    hub=self.hub,
                    grace_seconds=self.config.grace_seconds,
                    thresholds=self.thresholds,
                    replay=self.config.replay,
                    budget=self.replay_budget,
                    record=self.record,
                    on_empty=self._room_empty,
                    on_change=None if self.cluster is None else self.cluster.changed,
                )
                if restored is not None:
                    live.restore(restored.room, restored.seqs)
                    self.record(case_id, AuditEvent("adopt", "~server", "server", self._node()))
                    for hook in self.on_adopt:
                        hook(case_id)
                else:
                    for hook in self.on_open:
                        hook(case_id)
            future.set_result(live)
            return live
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters re-raise it themselves
            raise
        finally:
            del self._opening[case_id]

    def opening(self, case_id: int) -> bool:
        return case_id in self._opening

    def _node(self) -> dict[str, object]:
        return {} if self.cluster is None else {"node": self.cluster.name}

    def _room_empty(self, live: LiveRoom) -> None:
        if self.rooms.get(live.case_id) is live and live.room.empty:
            del self.rooms[live.case_id]
            live.close()
            if self.cluster is not None and not live.moving:
                self.cluster.closed(live.case_id)

    def evict(self, live: LiveRoom, code: int, reason: str) -> None:
        """Send the room's sockets away, seats kept (another node hosts the room now)."""
        if self.rooms.get(live.case_id) is live:
            del self.rooms[live.case_id]
        live.evict(code, reason)

    def end_room(self, case_id: int, reason: str) -> bool:
        """The hearing is over: close the room here, if it lives here, and say so in its audit
        trail. False: no such room on this node."""
        live = self.rooms.pop(case_id, None)
        if live is None:
            return False
        seated = live.end(reason, asyncio.get_running_loop().time())
        self.record(
            case_id, AuditEvent("closed", "server", "server", {"reason": reason, "seats": seated})
        )
        if self.cluster is not None:
            self.cluster.closed(case_id)
        return True

    async def end_room_anywhere(self, case_id: int, reason: str) -> bool:
        """Close the room on whichever node hosts it (this one with a single node). A node that
        cannot be asked is logged, not raised: every page also hangs up by itself once its poll
        says the hearing is over."""
        if self.cluster is None or case_id in self.rooms:
            return self.end_room(case_id, reason)
        try:
            owner = await self.cluster.bus.owner(case_id)
            if owner is None:
                return False
            args = {"case_id": case_id, "reason": reason}
            return bool(await self.cluster.call(owner, "room.end", args))
        except (RemoteError, RedisError, OSError) as exc:
            log.warning("room %s: not closed on its node (%s)", case_id, exc)
            return False

    # -- audit -----------------------------------------------------------

    def record(self, case_id: int, event: AuditEvent) -> None:
        # Queued, in order, so a relay never waits on the audit store.
        self._audit.append((case_id, event))
        if self._audit_task is None:
            self._audit_idle.clear()
            self._audit_task = asyncio.get_running_loop().create_task(self._write_audit())

    async def _write_audit(self) -> None:
        try:
            while self._audit:
                case_id, event = self._audit.popleft()
                try:
                    await self.authority.record(
                        case_id, event.action, event.participant_id, event.role, dict(event.details)
                    )
                except Exception:
                    log.exception("could not record %s for case %s", event.action, case_id)
        finally:
            self._audit_task = None
            self._audit_idle.set()

    async def audit_flushed(self) -> None:
        await self._audit_idle.wait()

    async def shutdown(self) -> None:
        if self.cluster is not None:
            await self.cluster.drain()
        for peer in list(self.peers):
            peer.close_soon(1001, "server shutting down")
        for _ in range(50):
            if not self.peers:
                break
            await asyncio.sleep(0.02)
        for peer in list(self.peers):
            # A socket that did not answer our close frame in time: the server is going.
            if isinstance(peer, Connection):
                peer.abort()
        for live in list(self.rooms.values()):
            live.close()
        self.rooms.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.audit_flushed(), timeout=5)
        await self.hub.close()
        if self.cluster is not None:
            await self.cluster.close()


SERVER_KEY = web.AppKey("signaling_server", SignalingServer)


def setup_signaling(
    app: web.Application,
    config: SignalingConfig,
    authority: RoomAuthority,
    *,
    path: str = "/ws",
    hub: Hub | None = None,
) -> SignalingServer:
    server = SignalingServer(config, authority, hub=hub)
    app[SERVER_KEY] = server
    app.router.add_get(path, make_handler(server))

    async def close_sockets(_: web.Application) -> None:
        await server.shutdown()

    app.on_shutdown.append(close_sockets)
    return server
