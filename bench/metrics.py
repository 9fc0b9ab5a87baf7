"""What /metrics costs: scrape time, the request middleware's share, the relay counter's share.

    .venv/bin/python bench/metrics.py                 # 300 scrapes, 3 x 2,000 requests
    .venv/bin/python bench/metrics.py --requests 5000

Printed: the scrape's median and p95 (a real app on a loopback port, after some traffic so
the registry holds a realistic number of series); requests per second of a cheap page with
and without the metrics middleware (interleaved rounds, the best of each); the middleware's
own bookkeeping per request, and the relay counter per delivered message, timed in process.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from app.main import create_app  # noqa: E402
from app.metrics.instruments import AppMetrics  # noqa: E402
from app.metrics.relay import CountingHub  # noqa: E402
from app.metrics.web import http_metrics  # noqa: E402
from signaling.hub import LocalHub  # noqa: E402

from integration.conftest import make_settings, prepare  # noqa: E402

PAGE = "/static/sifa.css"


async def start(folder: Path, *, metrics: bool) -> TestServer:
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'sifa.db'}")
    app = create_app(settings)
    if not metrics:
        app.middlewares.remove(http_metrics)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def rate(server: TestServer, count: int) -> float:
    async with aiohttp.ClientSession(str(server.make_url(""))) as session:
        for _ in range(50):
            await (await session.get(PAGE)).read()
        began = time.perf_counter()
        for _ in range(count):
            async with session.get(PAGE) as response:
                await response.read()
        return count / (time.perf_counter() - began)


async def scrapes(server: TestServer, count: int) -> list[float]:
    times = []
    async with aiohttp.ClientSession(str(server.make_url(""))) as session:
        for path in ("/login", "/api/cases", "/nowhere", PAGE):
            await (await session.get(path)).read()
        for _ in range(count):
            began = time.perf_counter()
            async with session.get("/metrics") as response:
                assert response.status == 200
                body = await response.read()
            times.append(time.perf_counter() - began)
    lines = body.count(b"\n")
    print(f"exposition: {len(body):,} bytes, {lines:,} lines")
    return times


def bookkeeping() -> tuple[float, float]:
    metrics = AppMetrics()
    per_request = timeit.timeit(
        lambda: metrics.request_done("GET", "/api/cases/{case_id}", 200, 0.003), number=200_000
    )
    inner = LocalHub()

    class Sink:
        def deliver(self, body: str, now: float) -> None:
            pass

    inner.attach(1, "kiosk-1", Sink())
    counting = CountingHub(inner)
    body = '{"from":"judge-1","type":"signal","to":"kiosk-1","candidate":{"candidate":"x"}}'
    bare = timeit.timeit(lambda: inner.publish(1, "kiosk-1", body, 0.0), number=500_000)
    counted = timeit.timeit(lambda: counting.publish(1, "kiosk-1", body, 0.0), number=500_000)
    return per_request / 200_000 * 1e6, (counted - bare) / 500_000 * 1e9


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scrapes", type=int, default=300)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    template = Path(tempfile.mkdtemp(prefix="sifa-bench-metrics-"))
    try:
        settings = make_settings(template, f"sqlite+aiosqlite:///{template / 'sifa.db'}")
        await prepare(settings, dt.datetime.now(dt.UTC))
        server = await start(template, metrics=True)
        times = sorted(await scrapes(server, args.scrapes))
        await server.close()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"scrape: median {statistics.median(times) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms")
        best = {True: 0.0, False: 0.0}
        for _ in range(args.rounds):
            for with_metrics in (True, False):
                server = await start(template, metrics=with_metrics)
                best[with_metrics] = max(best[with_metrics], await rate(server, args.requests))
                await server.close()
        cost = (1 / best[True] - 1 / best[False]) * 1e6
        print(
            f"GET {PAGE}: {best[False]:,.0f} req/s without the metrics middleware, "
            f"{best[True]:,.0f} with ({cost:+.0f} µs per request, best of {args.rounds})"
        )
        per_request, per_message = bookkeeping()
        print(f"middleware bookkeeping (counter + histogram): {per_request:.2f} µs per request")
        print(f"relay counter: {per_message:+.0f} ns per delivered message")
    finally:
        shutil.rmtree(template, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
