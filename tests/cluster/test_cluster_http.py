"""Several `sifa serve` nodes on one PostgreSQL and one Redis behind HAProxy, over real HTTP.

Nothing here joins a video room: sessions, throttling, the audit chain, case numbers, the
room token's address, health and a node leaving the balancer.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import time
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis
from cluster.cluster_api import Clients, new_case, ok, serial_of, submitted_case, upload_agreement
from cluster.cluster_support import Cluster, free_port, get_json

from app.domain.throttle import FREE_FAILURES, FREE_FAILURES_PER_ADDRESS
from app.services.demo import COMMITTEE

from integration.ruling_flow import scheduled_case

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

A, B = "node-a", "node-b"


async def node_of(session: aiohttp.ClientSession) -> str:
    """Which node answered: /healthz names it."""
    body = await ok(await session.get("/healthz"))
    return str(body["node"])


def test_health_names_the_node_and_readiness_asks_redis(cluster: Cluster) -> None:
    for name in cluster.nodes:
        status, body = get_json(f"{cluster.url(name)}/healthz")
        assert status == 200, body
        assert body["status"] == "ok", body
        assert body["node"] == name, body
        assert body["redis"] == "ok", body
        status, body = get_json(f"{cluster.url(name)}/readyz")
        assert (status, body["status"], body["node"]) == (200, "ready", name), body
        assert body["checks"]["redis"]["ok"] and body["checks"]["database"]["dialect"] == (
            "postgresql"
        ), body


def test_nodes_keep_their_redis_state_under_the_cluster_prefix(cluster: Cluster) -> None:
    client = redis.Redis.from_url(cluster.redis_url)
    try:
        keys = list(client.scan_iter(match=f"{cluster.prefix}*"))
        channels = client.pubsub_channels(f"{cluster.prefix}*")
    finally:
        client.close()
    assert keys or channels, f"nothing in Redis under SIFA_REDIS_PREFIX={cluster.prefix}"


async def test_balancer_spreads_requests_and_a_login_works_on_every_node(
    cluster: Cluster, clients: Clients
) -> None:
    token = await clients.login(cluster.lb_url, "mediator")
    through = clients.session(cluster.lb_url, token)
    seen = [await node_of(through) for _ in range(8)]
    assert set(seen) == {A, B}, f"round robin without stickiness reaches both nodes: {seen}"
    for _ in range(6):
        assert (await ok(await through.get("/api/me")))["username"] == "mediator"
    for name in (A, B):
        direct = clients.session(cluster.url(name), token)
        assert (await ok(await direct.get("/api/me")))["username"] == "mediator", name


async def test_failed_logins_on_two_nodes_add_up_to_one_lock(
    cluster: Cluster, clients: Clients
) -> None:
    username, password = f"throttled_{secrets.token_hex(3)}", "right-password-1"
    cluster.installation.check(
        "user",
        "add",
        username,
        "--role",
        "mediator",
        "--committee",
        COMMITTEE,
        stdin=f"{password}\n",
    )
    # A alone and B alone each see no more failures than are free; together they lock.
    nodes = [cluster.url(A), cluster.url(B)]
    for attempt in range(FREE_FAILURES + 1):
        response = await clients.try_login(nodes[attempt % 2], username, "wrong-password")
        assert response.status == 401, await response.text()
    locked_at = time.monotonic()
    for base in nodes:
        response = await clients.try_login(base, username, password)
        assert response.status == 429, (
            f"{base}: {response.status} {await response.text()} "
            f"({time.monotonic() - locked_at:.1f} s after the lock of 2 s began)"
        )
        assert int(response.headers["Retry-After"]) >= 1
        assert (await response.json())["error"]["code"] == "too_many_attempts"


async def test_audit_chain_stays_one_line_when_two_nodes_append_at_once(
    cluster: Cluster, clients: Clients
) -> None:
    on_a = await clients.as_user(cluster.url(A), "mediator")
    on_b = await clients.as_user(cluster.url(B), "mediator")
    case_id = await new_case(on_a)
    reveal = f"/api/cases/{case_id}/reveal-id"

    async def audited(session: aiohttp.ClientSession, n: int) -> None:
        if n % 5 == 0:
            await new_case(session)  # an audited change next to the audited reads
        else:
            await ok(await session.post(reveal, json={"party": n % 2}))

    per_node = 20
    await asyncio.gather(*(audited(s, n) for n in range(per_node) for s in (on_a, on_b)))

    verified = cluster.installation.run("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit log intact" in verified.stdout
    db = await asyncpg.connect(cluster.installation.postgres_dsn)
    try:
        seqs = [r["seq"] for r in await db.fetch("SELECT seq FROM audit_events ORDER BY seq")]
        head = await db.fetchval("SELECT seq FROM audit_head WHERE id = 1")
        reveals = await db.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'party.id_revealed' AND case_id = $1",
            case_id,
        )
    finally:
        await db.close()
    assert seqs == list(range(1, len(seqs) + 1)), "audit sequence numbers have a gap"
    assert head == seqs[-1]
    assert reveals == 2 * per_node * 4 // 5


async def test_a_case_filed_on_one_node_is_served_whole_by_the_other(
    cluster: Cluster, clients: Clients
) -> None:
    token = await clients.login(cluster.url(A), "mediator")
    on_a, on_b = clients.session(cluster.url(A), token), clients.session(cluster.url(B), token)
    case_id = await new_case(on_a)
    material = await upload_agreement(on_a, case_id)
    shown = await ok(await on_b.get(f"/api/cases/{case_id}"))
    assert shown == await ok(await on_a.get(f"/api/cases/{case_id}"))
    assert case_id in [c["id"] for c in (await ok(await on_b.get("/api/cases")))["cases"]]
    # The sealed file was written by node A into the shared materials folder.
    response = await on_b.get(f"/api/cases/{case_id}/materials/{material['id']}")
    assert response.status == 200, await response.text()
    assert (await response.read()).startswith(b"%PDF")


async def test_clerks_accepting_on_both_nodes_get_gapless_case_numbers(
    cluster: Cluster, clients: Clients
) -> None:
    mediator = await clients.as_user(cluster.lb_url, "mediator")
    waiting = [await submitted_case(mediator) for _ in range(10)]
    clerks = [await clients.as_user(cluster.url(name), "clerk") for name in (A, B)]
    judge_id = (await ok(await clerks[0].get("/api/court/people")))["judges"][0]["id"]

    async def accept(n: int, case_id: int) -> str:
        clerk = clerks[n % 2]
        body = await ok(
            await clerk.post(f"/api/cases/{case_id}/accept", json={"judge_id": judge_id})
        )
        return str(body["case_number"])

    given = await asyncio.gather(*(accept(n, c) for n, c in enumerate(waiting)))
    listed = (await ok(await clerks[1].get("/api/cases")))["cases"]
    every = sorted(serial_of(c["case_number"]) for c in listed if c["case_number"])
    assert every == list(range(1, len(every) + 1)), f"case numbers with a gap: {every}"
    serials = {serial_of(n) for n in given}
    assert len(serials) == len(waiting), f"a number given twice: {given}"
    assert serials <= set(every)


async def test_room_token_names_the_balancer_whichever_node_issues_it(
    cluster: Cluster, clients: Clients
) -> None:
    mediator = await clients.as_user(cluster.lb_url, "mediator")
    clerk = await clients.as_user(cluster.lb_url, "clerk")
    token = await clients.login(cluster.lb_url, "judge")
    case_id = await scheduled_case(mediator, clerk)
    judge = clients.session(cluster.lb_url, token)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    expected = f"ws://127.0.0.1:{cluster.lb_port}/ws"
    for base in (cluster.lb_url, cluster.url(A), cluster.url(B)):
        issuer = clients.session(base, token)
        body = await ok(await issuer.post(f"/api/cases/{case_id}/room-token", json={}))
        assert body["ws_url"] == expected, f"asked {base}"


def test_serve_with_an_unreachable_redis_exits_naming_the_setting(cluster: Cluster) -> None:
    started = time.monotonic()
    try:
        done = cluster.installation.run(
            "serve",
            env={
                **cluster.node_env(),
                "SIFA_REDIS_URL": "redis://127.0.0.1:1/0",
                "SIFA_NODE_NAME": "node-lost",
                "SIFA_PORT": str(free_port()),
            },
            timeout=10,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("sifa serve was still running 10 s after start with an unreachable Redis")
    assert done.returncode != 0, done.stdout + done.stderr
    assert "SIFA_REDIS_URL" in done.stderr, done.stderr
    assert time.monotonic() - started < 10


async def test_balancer_keeps_serving_while_and_after_a_node_stops(
    own_cluster: Cluster, clients: Clients
) -> None:
    cluster = own_cluster
    token = await clients.login(cluster.lb_url, "mediator")
    through = clients.session(cluster.lb_url, token)
    statuses: list[int] = []
    stopped = asyncio.Event()

    async def keep_asking() -> None:
        while not stopped.is_set():
            response = await through.get("/api/me")
            await response.read()
            statuses.append(response.status)
            await asyncio.sleep(0.02)

    async def watch_b() -> list[Any]:
        """node-b's own /readyz while it stops, until it no longer answers."""
        seen: list[Any] = []
        while True:
            try:
                seen.append(await asyncio.to_thread(get_json, f"{cluster.url(B)}/readyz", 1.0))
            except OSError:
                return seen
            await asyncio.sleep(0.05)

    asking = asyncio.create_task(keep_asking())
    await asyncio.sleep(1)
    watching = asyncio.create_task(watch_b())
    await asyncio.sleep(0.2)
    code = await asyncio.to_thread(cluster.stop, B, signal.SIGTERM)
    b_seen = await watching
    await asyncio.sleep(3)  # past the balancer's checks, which take node-b out
    stopped.set()
    await asyncio.wait_for(asyncio.shield(asking), timeout=10)

    assert code == 0, f"node-b exited {code} after SIGTERM\n{cluster.logs(B)[-3000:]}"
    assert statuses and set(statuses) == {200}, f"failed through the balancer: {statuses}"
    assert {await node_of(through) for _ in range(6)} == {A}

    await asyncio.to_thread(cluster.start, B)
    await asyncio.to_thread(cluster.wait_in_rotation, B)
    assert (await ok(await clients.session(cluster.url(B), token).get("/api/me")))["username"]
    # Last, so that the rest is checked on its own.
    assert (503, "draining") in [(s, b.get("status")) for s, b in b_seen if isinstance(b, dict)], (
        f"node-b's /readyz never said draining while it stopped: {b_seen}"
    )


async def login_from(
    cluster: Cluster, address: str, username: str, password: str, forged: str | None = None
) -> aiohttp.ClientResponse:
    """A login through the balancer from one local address (the client's, to the balancer)."""
    headers = {"X-Forwarded-For": forged} if forged else {}
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        response = await session.post(
            f"{cluster.lb_url}/api/login",
            json={"username": username, "password": password},
            headers=headers,
        )
        await response.read()
        return response


async def test_behind_the_balancer_failed_logins_count_per_client_not_per_balancer(
    cluster: Cluster,
) -> None:
    # Every request reaches the nodes from HAProxy's address; they believe its
    # X-Forwarded-For (SIFA_TRUSTED_PROXIES), so one client's guessing locks that client only.
    guesser, neighbour = "127.0.0.3", "127.0.0.4"
    for _ in range(FREE_FAILURES_PER_ADDRESS + 1):
        # A header the client writes itself is no way out: only the hop HAProxy adds counts.
        response = await login_from(
            cluster, guesser, f"nobody_{secrets.token_hex(4)}", "wrong", forged="127.0.0.9"
        )
        assert response.status == 401, response.status
    locked = await login_from(cluster, guesser, "judge", "demo")
    assert locked.status == 429
    assert (await login_from(cluster, neighbour, "judge", "demo")).status == 200
