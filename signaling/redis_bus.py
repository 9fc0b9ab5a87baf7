"""The shell around Redis: the room directory (owner leases, room snapshots), node loads, and
the message bus between nodes (one pub/sub channel per node).

Nothing here waits on Redis in a relay's path: `send` queues frames and a publisher task sends
each tick's frames for a node as one publish. When Redis goes away the node keeps serving what
it can alone, reconnects with backoff, and on return re-asserts what it holds (node record,
leases, snapshots), since a restarted Redis keeps nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from signaling.frames import BadFrame, Frame, pack, unpack
from signaling.placement import NodeLoad

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0)
FLUSH_SECONDS = 2.0
BATCH_SECONDS = 0.002
MAX_CONNECTIONS = 32

# Renew (or re-take) leases only while they are ours or free, never another node's: every
# lease of this node in one call, whatever the number of rooms. Answers 1/0 per key.
_RENEW = """
local out = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2]) out[i] = 1
  elseif not owner then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
# Take a room whose owner is `expected` (or nobody) for `want`; answers the owner after.
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if (not owner) or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return ARGV[2]
end
return owner
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2]) return 1
end
return 0
"""
_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1]) return 1
end
return 0
"""
_SAVE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1
end
return 0
"""


class BusUnavailable(Exception):
    """Redis could not be reached (at start-up: the node does not start)."""


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        node: str,
        on_frames: Callable[[list[Frame]], None],
        load: Callable[[], NodeLoad],
        on_tick: Callable[[], Awaitable[None]],
        on_lost: Callable[[int], None],
        on_unreachable: Callable[[str], None],
        on_recovered: Callable[[], Awaitable[None]],
        lease_seconds: float = 6.0,
        heartbeat_seconds: float = 2.0,
        snapshot_ttl_seconds: int = 6 * 3600,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.node = node
        self.lease_ms = int(lease_seconds * 1000)
        self.heartbeat_seconds = heartbeat_seconds
        self.snapshot_ttl = snapshot_ttl_seconds
        self._on_frames = on_frames
        self._load = load
        self._on_tick = on_tick
        self._on_lost = on_lost
        self._on_unreachable = on_unreachable
        self._on_recovered = on_recovered
        # A bounded pool that makes a caller wait for a connection rather than fail: a
        # thousand rooms opening at once must not exhaust Redis's connections.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=5,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=10,
        )
        self.redis: aioredis.Redis = aioredis.Redis(connection_pool=pool)
        self.channel = self.node_channel(node)
        self.hosted: set[int] = set()
        self.healthy = False
        self.draining = False
        self.dropped_frames = 0
        # When this node last got Redis back: every node reconnects on its own backoff, and
        # a restarted Redis holds nothing, so for a lease's length after it a node that does
        # not listen yet or a room with no owner proves nothing.
        self._settled_at = -math.inf
        self._outbox: dict[str, list[Frame]] = {}
        self._wake = asyncio.Event()
        self._sent = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._closing = False
        self._renew = self.redis.register_script(_RENEW)
        self._claim = self.redis.register_script(_CLAIM)
        self._release = self.redis.register_script(_RELEASE)
        self._save = self.redis.register_script(_SAVE)
        self._give_up = self.redis.register_script(_GIVE_UP)

    # -- names ----------------------------------------------------------------------------

    def node_channel(self, node: str) -> str:
        return f"{self.prefix}:to:{node}"

    def _owner_key(self, case_id: int) -> str:
        return f"{self.prefix}:room:{case_id}:owner"

    def _state_key(self, case_id: int) -> str:
        return f"{self.prefix}:room:{case_id}:state"

    def _node_key(self, node: str) -> str:
        return f"{self.prefix}:node:{node}"

    @property
    def _nodes_key(self) -> str:
        return f"{self.prefix}:nodes"

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            await self.redis.aclose()
            raise BusUnavailable(f"Redis at {self.url} does not answer: {exc}") from None
        self.healthy = True
        await self.announce()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._subscriber()),
            loop.create_task(self._publisher()),
            loop.create_task(self._heartbeat()),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 5)

    async def close(self) -> None:
        await self.flush()
        # A flag as well as cancel(): a cancellation that lands inside redis-py's pool can be
        # swallowed there, and the loop must still end at its next turn.
        self._closing = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=FLUSH_SECONDS)
        with contextlib.suppress(RedisError, OSError):
            await self.redis.srem(self._nodes_key, self.node)
            await self.redis.delete(self._node_key(self.node))
        await self.redis.aclose()

    async def flush(self) -> None:
        """Wait (briefly) until what was queued has gone out, unless Redis is unreachable."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_SECONDS):
                while self._outbox and self.healthy:
                    self._sent.clear()
                    await self._sent.wait()

    # -- the bus --------------------------------------------------------------------------

    def send(self, node: str, frame: Frame) -> None:
        queue = self._outbox.get(node)
        if queue is None:
            queue = self._outbox[node] = []
        queue.append(frame)
        self._wake.set()

    async def _publisher(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            # Everything queued for a node within one short window goes out as one publish:
            # a publish costs both ends far more than the frames it carries.
            await asyncio.sleep(BATCH_SECONDS)
            batch, self._outbox = self._outbox, {}
            if not batch:
                continue
            nodes = list(batch)
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for node in nodes:
                        pipe.publish(self.node_channel(node), pack(batch[node]))
                    receivers = await pipe.execute()
            except (RedisError, OSError) as exc:
                self.dropped_frames += sum(len(f) for f in batch.values())
                self._degraded(exc)
                self._sent.set()
                continue
            self._sent.set()
            for node, count in zip(nodes, receivers, strict=True):
                if count == 0 and node != self.node:
                    self._on_unreachable(node)

    async def _subscriber(self) -> None:
        attempt = 0
        while not self._closing:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if attempt:
                    await self._recovered()
                attempt = 0
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        frames = unpack(message["data"])
                    except BadFrame as exc:
                        log.warning("ignored a bad bus message: %s", exc)
                        continue
                    self._on_frames(frames)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._degraded(exc)
            except Exception:
                log.exception("bus subscriber")
            finally:
                with contextlib.suppress(BaseException):
                    await pubsub.aclose()
            await asyncio.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
            attempt += 1

    def _degraded(self, exc: BaseException) -> None:
        if self.healthy:
            log.error("Redis lost (%s): serving local rooms alone, reconnecting", exc)
        self.healthy = False

    @property
    def settling(self) -> bool:
        return time.monotonic() - self._settled_at < self.lease_ms / 1000

    @property
    def trusted(self) -> bool:
        """Can what Redis shows of other nodes be believed (nobody just lost it)?"""
        return self.healthy and not self.settling

    async def _recovered(self) -> None:
        await self.redis.ping()
        self._settled_at = time.monotonic()
        self.healthy = True
        log.warning("Redis is back: re-announcing this node and its rooms")
        await self.announce()
        await self._renew_leases()
        await self._on_recovered()
        self._wake.set()

    async def _heartbeat(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.announce()
                await self._renew_leases()
            except (RedisError, OSError) as exc:
                self._degraded(exc)
            except Exception:
                log.exception("bus heartbeat")
            if not self.trusted:
                continue
            try:
                await self._on_tick()
            except Exception:
                log.exception("bus tick")

    async def announce(self) -> None:
        load = self._load()
        record = json.dumps(
            {
                "rooms": load.rooms,
                "connections": load.connections,
                "draining": self.draining,
                "at": time.time(),
            }
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._node_key(self.node), record, px=self.lease_ms)
            pipe.sadd(self._nodes_key, self.node)
            await pipe.execute()

    async def _renew_leases(self) -> None:
        """Every lease this node holds, in one call."""
        cases = list(self.hosted)
        if not cases:
            return
        keys = [self._owner_key(case_id) for case_id in cases]
        renewed = await self._renew(keys=keys, args=[self.node, self.lease_ms])
        for case_id, ok in zip(cases, renewed, strict=True):
            if not ok and case_id in self.hosted:
                self.hosted.discard(case_id)
                self._on_lost(case_id)

    # -- the directory --------------------------------------------------------------------

    async def nodes(self) -> list[NodeLoad]:
        names = sorted(_text(n) for n in await self.redis.smembers(self._nodes_key))
        if not names:
            return []
        records = await self.redis.mget([self._node_key(n) for n in names])
        out: list[NodeLoad] = []
        gone: list[str] = []
        for name, raw in zip(names, records, strict=True):
            if raw is None:
                gone.append(name)
                continue
            item = json.loads(raw)
            out.append(
                NodeLoad(name, int(item["rooms"]), int(item["connections"]), bool(item["draining"]))
            )
        if gone:
            await self.redis.srem(self._nodes_key, *gone)
        return out

    async def alive(self, node: str) -> bool:
        """Is the node listening on the bus right now (its subscription, not its record)?"""
        if node == self.node:
            return True
        counts = await self.redis.pubsub_numsub(self.node_channel(node))
        return bool(counts and int(counts[0][1]) > 0)

    async def owner(self, case_id: int) -> str | None:
        raw = await self.redis.get(self._owner_key(case_id))
        return None if raw is None else _text(raw)

    async def claim(self, case_id: int, want: str, *, replacing: str | None = None) -> str:
        """Make `want` the owner if the room has none (or `replacing` holds it): the owner."""
        owner = await self._claim(
            keys=[self._owner_key(case_id)], args=[replacing or "", want, self.lease_ms]
        )
        name = _text(owner)
        if name == self.node:
            self.hosted.add(case_id)
        return name

    async def release(self, case_id: int) -> None:
        self.hosted.discard(case_id)
        await self._release(
            keys=[self._owner_key(case_id), self._state_key(case_id)], args=[self.node]
        )

    async def save_states(self, states: dict[int, dict[str, Any]]) -> dict[int, bool]:
        """Save rooms while this node holds their leases, in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for case_id, state in states.items():
                await self._save(
                    keys=[self._owner_key(case_id), self._state_key(case_id)],
                    args=[self.node, json.dumps(state, ensure_ascii=False), self.snapshot_ttl],
                    client=pipe,
                )
            saved = await pipe.execute()
        return {case_id: bool(ok) for case_id, ok in zip(states, saved, strict=True)}

    async def has_state(self, case_id: int) -> bool:
        return bool(await self.redis.exists(self._state_key(case_id)))

    async def load_state(self, case_id: int) -> dict[str, Any] | None:
        raw = await self.redis.get(self._state_key(case_id))
        if raw is None:
            return None
        value = json.loads(raw)
        return value if isinstance(value, dict) else None

    async def hand_back(self, cases: Iterable[int]) -> None:
        """Draining: give up the leases (the snapshots stay for the next owner)."""
        for case_id in list(cases):
            self.hosted.discard(case_id)
            await self._give_up(keys=[self._owner_key(case_id)], args=[self.node])


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
