"""Two signaling nodes on one real Redis: sockets on either node meet in one room.

Each node is a real aiohttp server with its own ClusterNode; they share one authority, as
nodes share one database. Whole `sifa serve` processes behind a balancer are in tests/cluster.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer

from signaling.authority import MemoryAuthority
from signaling.cluster import CLOSE_MOVED, ClusterNode
from signaling.room_keys import mediation_room
from signaling.server import SignalingConfig, SignalingServer, setup_signaling

from realdeps import require
from signaling_helpers import CASE, JUDGE_ID, SECRET, Client, token

REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = [pytest.mark.redis]


async def _redis_available() -> bool:
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


class Node:
    def __init__(self, name: str, server: TestServer, signaling: SignalingServer) -> None:
        self.name = name
        self.server = server
        self.signaling = signaling

    @property
    def ws_url(self) -> str:
        return str(self.server.make_url("/ws"))

    @property
    def cluster(self) -> ClusterNode:
        assert self.signaling.cluster is not None
        return self.signaling.cluster


NodeFactory = Callable[[str], Awaitable[Node]]


@pytest.fixture
async def authority() -> MemoryAuthority:
    authority = MemoryAuthority()
    authority.open_room(CASE, "第三调解室", JUDGE_ID)
    return authority


@pytest.fixture
async def make_node(authority: MemoryAuthority) -> AsyncIterator[NodeFactory]:
    require(await _redis_available(), "Redis at 127.0.0.1:6379")
    prefix = f"sifa-test-{secrets.token_hex(4)}"
    servers: list[TestServer] = []

    async def build(name: str) -> Node:
        app = web.Application()
        signaling = setup_signaling(app, SignalingConfig(secret=SECRET), authority)
        cluster = signaling.cluster = ClusterNode(
            signaling, url=REDIS_URL, prefix=prefix, node=name, heartbeat_seconds=0.5
        )

        async def start(_app: web.Application) -> None:
            await cluster.start()

        app.on_startup.append(start)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return Node(name, server, signaling)

    yield build
    for server in servers:
        await server.close()
    client = aioredis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def seated(
    session: aiohttp.ClientSession, node: Node, participant: str, role: str
) -> tuple[Client, dict[str, object]]:
    client = Client(session, node.ws_url)
    welcome = await client.connect_and_join(token(participant, role), CASE)
    return client, welcome


async def test_judge_and_kiosk_on_different_nodes_meet_in_one_room(
    make_node: NodeFactory, session: aiohttp.ClientSession, authority: MemoryAuthority
) -> None:
    a, b = await make_node("node-a"), await make_node("node-b")
    judge, _ = await seated(session, a, JUDGE_ID, "judge")
    kiosk, welcome = await seated(session, b, "kiosk-3", "kiosk")
    assert welcome["you"]["admitted"] is False  # type: ignore[index]
    # One room, on the node the first join chose, bridged from the other.
    hosts = [n for n in (a, b) if CASE in n.signaling.rooms]
    assert len(hosts) == 1
    lobby = await judge.expect("presence", event="joined")
    assert lobby["participant"]["id"] == "kiosk-3"

    await judge.send({"type": "admit", "participant": "kiosk-3"})
    await kiosk.expect("admitted")
    await judge.send(
        {"type": "signal", "to": "kiosk-3", "description": {"type": "offer", "sdp": "v=0"}}
    )
    relayed = await kiosk.expect("signal")
    assert relayed["from"] == JUDGE_ID and relayed["description"]["sdp"] == "v=0"
    await kiosk.send(
        {"type": "signal", "to": JUDGE_ID, "description": {"type": "answer", "sdp": "v=0 a"}}
    )
    assert (await judge.expect("signal"))["from"] == "kiosk-3"

    # Quality warnings reach the judge across nodes.
    await kiosk.send({"type": "stats", "packet_loss": 0.2, "rtt_ms": 40, "bitrate_kbps": 300})
    warning = await judge.expect("quality")
    assert warning["participant"] == "kiosk-3" and warning["level"] == "bad"

    # An unknown target is refused to the sender, wherever the sender is.
    await kiosk.send(
        {"type": "signal", "to": "nobody", "candidate": {"candidate": "c", "sdpMid": "0"}}
    )
    assert (await kiosk.expect("error"))["code"] == "unknown_participant"

    await judge.send({"type": "remove", "participant": "kiosk-3", "reason": "测试"})
    assert (await kiosk.expect("removed"))["reason"] == "测试"
    await asyncio.wait_for(kiosk.closed.wait(), 5)
    assert kiosk.close_code == 4002
    await judge.close()
    await asyncio.sleep(0.2)
    actions = [action for action, _ in authority.actions(CASE)]
    assert actions[:3] == ["join", "join", "admit"] and "remove" in actions


async def test_one_judge_seat_across_nodes(
    make_node: NodeFactory, session: aiohttp.ClientSession
) -> None:
    a, b = await make_node("node-a"), await make_node("node-b")
    first, _ = await seated(session, a, JUDGE_ID, "judge")
    second, welcome = await seated(session, b, JUDGE_ID, "judge")
    assert welcome["you"]["id"] == JUDGE_ID  # type: ignore[index]
    # The newer socket takes the seat; the old one is told it was replaced, on its node.
    await asyncio.wait_for(first.closed.wait(), 5)
    assert first.close_code == 4003
    room = next(n.signaling.rooms[CASE] for n in (a, b) if CASE in n.signaling.rooms)
    assert [s.role for s in room.room.seats.values()] == ["judge"]
    # Role capacities hold across nodes too: one kiosk seat.
    kiosk, _ = await seated(session, a, "kiosk-3", "kiosk")
    other = Client(session, b.ws_url)
    await other.connect()
    await other.send({"type": "join", "v": 1, "case_id": CASE, "token": token("kiosk-9", "kiosk")})
    assert (await other.expect("error"))["code"] == "role_full"
    for client in (second, kiosk, other):
        await client.close()


async def test_resume_on_the_other_node(
    make_node: NodeFactory, session: aiohttp.ClientSession
) -> None:
    a, b = await make_node("node-a"), await make_node("node-b")
    judge, _ = await seated(session, a, JUDGE_ID, "judge")
    kiosk, welcome = await seated(session, a, "kiosk-3", "kiosk")
    await judge.send({"type": "admit", "participant": "kiosk-3"})
    await kiosk.expect("admitted")
    await kiosk.cut()
    await judge.expect("presence", event="dropped")
    # Messages for the dropped seat wait in its mailbox on the host.
    await judge.send(
        {"type": "signal", "to": "kiosk-3", "candidate": {"candidate": "c1", "sdpMid": "0"}}
    )
    kiosk.ws_url = b.ws_url
    resumed = await kiosk.reconnect(CASE, "kiosk-3", str(welcome["resume_token"]))
    assert resumed["replayed"] == 1 and resumed["complete"] is True
    assert (await kiosk.expect("signal"))["candidate"]["candidate"] == "c1"
    await judge.expect("presence", event="resumed")
    await judge.close()
    await kiosk.close()


async def test_a_stopped_host_hands_its_room_to_the_other_node(
    make_node: NodeFactory, session: aiohttp.ClientSession, authority: MemoryAuthority
) -> None:
    a, b = await make_node("node-a"), await make_node("node-b")
    judge, judge_welcome = await seated(session, a, JUDGE_ID, "judge")
    kiosk, kiosk_welcome = await seated(session, b, "kiosk-3", "kiosk")
    await judge.send({"type": "admit", "participant": "kiosk-3"})
    await kiosk.expect("admitted")
    host, other = (a, b) if CASE in a.signaling.rooms else (b, a)

    await host.server.close()  # SIGTERM's path: aiohttp's shutdown drains the node
    for client in (judge, kiosk):
        await asyncio.wait_for(client.closed.wait(), 5)
        assert client.close_code == CLOSE_MOVED
    judge.ws_url = kiosk.ws_url = other.ws_url
    resumed = await judge.reconnect(CASE, JUDGE_ID, str(judge_welcome["resume_token"]))
    assert resumed["complete"] is True
    await kiosk.reconnect(CASE, "kiosk-3", str(kiosk_welcome["resume_token"]))
    assert CASE in other.signaling.rooms
    # Admission survived the move: signals flow at once, no new admit.
    await judge.send(
        {"type": "signal", "to": "kiosk-3", "candidate": {"candidate": "after", "sdpMid": "0"}}
    )
    assert (await kiosk.expect("signal"))["candidate"]["candidate"] == "after"
    await judge.close()
    await kiosk.close()
    await asyncio.sleep(0.2)
    actions = [action for action, _ in authority.actions(CASE)]
    assert "handover" in actions and "adopt" in actions


async def test_two_nodes_racing_to_open_one_room_get_one_host(
    make_node: NodeFactory, session: aiohttp.ClientSession
) -> None:
    a, b = await make_node("node-a"), await make_node("node-b")
    judge = Client(session, a.ws_url)
    kiosk = Client(session, b.ws_url)
    await asyncio.gather(judge.connect(), kiosk.connect())
    welcome, _ = await asyncio.gather(
        judge.join(token(JUDGE_ID, "judge"), CASE), kiosk.join(token("kiosk-3", "kiosk"), CASE)
    )
    assert sum(CASE in n.signaling.rooms for n in (a, b)) == 1
    # One room: the judge sees the kiosk, in the welcome if it came first, else as it joins.
    if not any(p["id"] == "kiosk-3" for p in welcome["participants"]):
        await judge.expect("presence", event="joined")
    await judge.close()
    await kiosk.close()


async def test_only_a_valid_token_or_a_saved_seat_places_a_room(
    make_node: NodeFactory, session: aiohttp.ClientSession
) -> None:
    a = await make_node("node-a")
    forged = Client(session, a.ws_url)
    await forged.connect()
    bad = token(JUDGE_ID, "judge", secret=b"another-secret-0123456789abcdef")
    await forged.send({"type": "join", "v": 1, "case_id": CASE, "token": bad})
    assert (await forged.expect("error"))["code"] == "token_invalid"
    stranger = Client(session, a.ws_url)
    await stranger.connect()
    await stranger.send(
        {
            "type": "resume",
            "v": 1,
            "case_id": 999,
            "participant": "x",
            "resume_token": "y",
            "last_seq": 0,
        }
    )
    assert (await stranger.expect("error"))["code"] == "resume_failed"
    for case_id in (CASE, 999):
        assert await a.cluster.bus.owner(case_id) is None
    assert not a.cluster.bus.hosted


async def test_a_mediation_room_across_nodes_hears_the_servers_notices(
    make_node: NodeFactory, session: aiohttp.ClientSession, authority: MemoryAuthority
) -> None:
    """The mediator hosts a mediation's room on one node, a party's phone joins on the other;
    a notice either node's app sends (the draft changed) reaches every seat, lobby included."""
    key = mediation_room(7)
    authority.open_room(key, "光明街道人民调解委员会 视频调解", "mediator-2", "mediator")
    a, b = await make_node("node-a"), await make_node("node-b")
    host = Client(session, a.ws_url)
    welcome = await host.connect_and_join(token("mediator-2", "mediator", case_id=key), key)
    assert welcome["you"]["admitted"] is True  # type: ignore[index]
    phone = Client(session, b.ws_url)
    await phone.connect_and_join(token("party-m7-1", "party", case_id=key), key)
    (owner,) = [n for n in (a, b) if key in n.signaling.rooms]
    other = b if owner is a else a
    # From the node that does not hold the room: carried to the one that does.
    told = await other.signaling.tell_room_anywhere(
        key, {"type": "mediation", "changed": "agreement"}
    )
    assert told == 2
    for seat in (host, phone):
        assert (await seat.expect("mediation"))["changed"] == "agreement"
    # Only the mediator admits here; the party in the lobby cannot.
    await phone.send({"type": "admit", "participant": "party-m7-1"})
    assert (await phone.expect("error"))["code"] in ("forbidden", "not_admitted")
    await host.send({"type": "admit", "participant": "party-m7-1"})
    await phone.expect("admitted")
    await host.close()
    await phone.close()
