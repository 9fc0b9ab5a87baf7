"""Real clusters: a fresh PostgreSQL database, Redis, `sifa serve` nodes and HAProxy.

- `cluster` (module scope): node-a and node-b behind HAProxy, shared by a module's tests that
  leave every node running;
- `make_cluster(names)` / `own_cluster` (test scope): a cluster of the test's own, with its own
  database, storage and Redis prefix, for tests that stop or kill nodes;
- `clients`: aiohttp sessions logged in at any node's or the balancer's URL, closed after the test.

A failing test's report carries the tail of each node's and HAProxy's log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path

import aioice.ice
import pytest
from cluster.cluster_api import Clients
from cluster.cluster_support import REDIS_URL, Cluster, Installation, redis_available

from integration.conftest import fresh_postgres
from realdeps import require, require_tool

NAMES = ("node-a", "node-b")


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """integration.conftest.fresh_postgres (asynchronous) driven from a synchronous fixture.

    One private event loop for both halves, never asyncio.run: its shutdown would close the
    generator at its yield and skip the DROP DATABASE."""
    loop = asyncio.new_event_loop()
    steps = fresh_postgres()
    try:
        url = loop.run_until_complete(anext(steps))
        try:
            yield url
        finally:
            loop.run_until_complete(anext(steps, None))
    finally:
        loop.close()


@contextlib.contextmanager
def running_cluster(
    root: Path, names: tuple[str, ...] = NAMES, redis_url: str = REDIS_URL
) -> Iterator[Cluster]:
    require(redis_available(redis_url), f"Redis at {redis_url}")
    haproxy = require_tool("haproxy")
    with fresh_database() as database_url:
        installation = Installation.create(root, database_url)
        cluster = Cluster(installation, names, redis_url=redis_url, haproxy=haproxy)
        try:
            yield cluster.up()
        finally:
            cluster.down()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


MADE = pytest.StashKey[list[Cluster]]()


@pytest.fixture
def make_cluster(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Cluster]]:
    made = request.node.stash.setdefault(MADE, [])
    with contextlib.ExitStack() as stack:

        def make(names: tuple[str, ...] = NAMES, redis_url: str = REDIS_URL) -> Cluster:
            root = tmp_path / f"cluster-{len(made)}"
            made.append(stack.enter_context(running_cluster(root, names, redis_url)))
            return made[-1]

        yield make


@pytest.fixture
def own_cluster(make_cluster: Callable[..., Cluster]) -> Cluster:
    return make_cluster()


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test's own aiortc participants offer loopback candidates only, like the nodes'
    # recorders (SIFA_RECORDER_ADDRESSES): no media leaves 127.0.0.1.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    """HTTP sessions for the test (log in at a node's or the balancer's URL)."""
    opened = Clients()
    yield opened
    await opened.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        held = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, Cluster)]
        for each in {id(c): c for c in [*held, *item.stash.get(MADE, [])]}.values():
            report.sections.append((f"cluster logs ({each.prefix})", each.log_tails()))
    return report
