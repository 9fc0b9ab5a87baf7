"""Signaling on two nodes over Redis: relay latency and CPU with both ends on one node and
across nodes, and how long a room takes to come back after its node is killed.

    .venv/bin/python bench/signaling_nodes.py                 # 100 and 1,000 rooms, 5,000 msg/s
    .venv/bin/python bench/signaling_nodes.py --rooms 1000 --rate 5000 --seconds 10

Two `bench/signaling.py serve` processes run as cluster nodes (the same ClusterNode that
`sifa serve` uses with SIFA_REDIS_URL) on the machine's Redis, both pinned to core 0; the
lean load generator runs on core 1. Rooms of three (judge, kiosk, party) are placed half on
each node (their owner keys are written before anyone joins, as an earlier join would have).

- local: all three sockets of a room on the node hosting it;
- cross: the judge on the room's host, kiosk and party on the other node, the way a court's
  judge and a hall's kiosk meet: judge-party messages cross once, kiosk-party ones twice
  (edge, host, edge).

Server CPU is both nodes' and Redis's together, per relayed message. Then node A is killed
(SIGKILL) and a client of one of its rooms resumes through node B: the takeover time is from
the kill to the "resumed" answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(SCRIPT.parent))
sys.path.insert(0, str(ROOT))

from signaling_load import LeanLoad  # noqa: E402


def _single_node_bench():  # type: ignore[no-untyped-def]
    """bench/signaling.py, whose name the signaling package shadows on the path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "signaling_bench", SCRIPT.with_name("signaling.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bench = _single_node_bench()
cpu_seconds, raise_fd_limit, read_gc = _bench.cpu_seconds, _bench.raise_fd_limit, _bench.read_gc

REDIS_URL = os.environ.get("SIFA_BENCH_REDIS", "redis://127.0.0.1:6379/0")
NODES = ("node-a", "node-b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_node(
    name: str, port: int, rooms: int, secret: bytes, prefix: str, core: int
) -> Node:
    command = [sys.executable, str(SCRIPT.with_name("signaling.py")), "serve"]
    command += ["--port", str(port), "--rooms", str(rooms), "--secret", secret.hex()]
    command += ["--redis", REDIS_URL, "--prefix", prefix, "--node", name]
    taskset = shutil.which("taskset")
    if taskset:
        command = [taskset, "-c", str(core), *command]
    proc = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    if b"ready" not in await proc.stdout.readline():
        raise RuntimeError(f"{name} did not start")
    return Node(name, port, proc)


class Node:
    def __init__(self, name: str, port: int, proc: asyncio.subprocess.Process) -> None:
        self.name, self.port, self.proc = name, port, proc

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    async def stop(self, how: int = signal.SIGINT) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(how)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def redis_cpu(client: aioredis.Redis) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def run_step(
    rooms: int, rate: int, seconds: float, mode: str, takeover: bool, split: bool
) -> dict:
    secret = secrets.token_bytes(32)
    prefix = f"sifa-bench-{secrets.token_hex(4)}"
    redis = aioredis.from_url(REDIS_URL)
    cores = (0, 1) if split else (0, 0)
    nodes = [
        await start_node(n, free_port(), rooms, secret, prefix, core)
        for n, core in zip(NODES, cores, strict=True)
    ]
    try:
        # Even rooms on node A, odd on node B, placed before anyone joins.
        host_of = {case_id: case_id % 2 for case_id in range(1, rooms + 1)}
        async with redis.pipeline(transaction=False) as pipe:
            for case_id, host in host_of.items():
                pipe.set(f"{prefix}:room:{case_id}:owner", NODES[host], px=60_000)
            await pipe.execute()

        def port_of(case_id: int, member: int) -> int:
            host = host_of[case_id]
            on = host if mode == "local" or member == 0 else 1 - host
            return nodes[on].port

        load = LeanLoad("127.0.0.1", nodes[0].port, secret, port_of=port_of)
        t0 = time.perf_counter()
        connections = await load.open(rooms)
        setup_seconds = time.perf_counter() - t0
        await load.drive(rate, 1.0)  # warm-up
        await asyncio.sleep(0.3)
        for node in nodes:
            await read_gc(node.port, reset=True)
        load.start_measuring()
        stats = load.stats
        cpu0 = sum(n.cpu() for n in nodes)
        redis0 = await redis_cpu(redis)
        t1 = time.perf_counter()
        t1_ns = load.now_ns()
        sent = await load.drive(rate, seconds)
        send_seconds = time.perf_counter() - t1
        for _ in range(300):
            if stats.received >= sent:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - t1
        nodes_cpu = sum(n.cpu() for n in nodes) - cpu0
        redis_used = await redis_cpu(redis) - redis0
        pauses = [await read_gc(node.port, reset=False) for node in nodes]
        lat = sorted(stats.latencies_ns)
        last_at = (stats.last_at_ns - t1_ns) / 1e9
        result = {
            "mode": mode,
            "rooms": rooms,
            "connections": connections,
            "setup_s": setup_seconds,
            "rate": rate,
            "sent": sent,
            "relayed": stats.received,
            "relayed_per_s": stats.received / max(last_at, send_seconds),
            "lost": sent - stats.received,
            "errors": stats.errors,
            "p50_ms": statistics.median(lat) / 1e6 if lat else float("nan"),
            "p99_ms": lat[int(len(lat) * 0.99) - 1] / 1e6 if lat else float("nan"),
            "max_ms": lat[-1] / 1e6 if lat else float("nan"),
            "nodes_cpu": nodes_cpu / elapsed,
            "redis_cpu": redis_used / elapsed,
            "us_per_msg": (nodes_cpu + redis_used) / max(stats.received, 1) * 1e6,
            "gc_max_ms": max(p[g]["max_ms"] for p in pauses for g in ("0", "1", "2")),
            "gc_full": sum(p["2"]["count"] for p in pauses),
        }
        if takeover:
            result["takeover_ms"] = await kill_and_resume(nodes, load, host_of)
        await load.close()
        return result
    finally:
        for node in nodes:
            await node.stop()
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def kill_and_resume(
    nodes: list[Node], load: LeanLoad, host_of: dict[int, int]
) -> tuple[float, float]:
    """SIGKILL node A. The kiosk of one of A's rooms holds its socket on node B: when B finds
    A gone it closes that socket, and the kiosk resumes through B, retrying as call.js does.
    Returns (ms until B closed the socket, ms until the kiosk had its seat back)."""
    case_id = next(c for c, host in host_of.items() if host == 0)
    pid = f"k{case_id}"
    kiosk = next(c for members in load.rooms for c in members if c.pid == pid)
    await asyncio.sleep(0.5)  # the rooms' snapshots are saved after their last change
    killed_at = time.perf_counter()
    nodes[0].proc.kill()
    await asyncio.wait_for(asyncio.shield(kiosk.closed), 30)
    noticed = (time.perf_counter() - killed_at) * 1e3
    url = f"http://127.0.0.1:{nodes[1].port}/ws"
    resume = {
        "type": "resume",
        "v": 1,
        "case_id": case_id,
        "participant": pid,
        "resume_token": load.resume_tokens[pid],
        "last_seq": 10**6,
    }
    async with aiohttp.ClientSession() as http:
        for delay in (0.25, 0.5, 1.0, *[2.0] * 10):
            await asyncio.sleep(delay)
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.ws_connect(url) as ws, asyncio.timeout(5):
                    await ws.send_str(json.dumps(resume))
                    async for msg in ws:
                        if json.loads(msg.data).get("type") == "resumed":
                            return noticed, (time.perf_counter() - killed_at) * 1e3
    raise RuntimeError("the room was never taken over")


def report(r: dict) -> None:
    print(
        f"{r['mode']:>5} | rooms {r['rooms']:>5} ({r['connections']} sockets, joined in "
        f"{r['setup_s']:.1f} s) | target {r['rate']} msg/s\n"
        f"  relayed {r['relayed_per_s']:.0f} msg/s ({r['relayed']} of {r['sent']}, lost "
        f"{r['lost']}, errors {r['errors']})\n"
        f"  relay latency p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
        f"max {r['max_ms']:.1f} ms\n"
        f"  CPU: nodes {r['nodes_cpu']:.0%} of a core together, Redis {r['redis_cpu']:.0%}; "
        f"{r['us_per_msg']:.0f} us per relayed message, all three together; longest garbage "
        f"collection {r['gc_max_ms']:.1f} ms ({r['gc_full']} full)",
        flush=True,
    )
    if "takeover_ms" in r:
        noticed, back = r["takeover_ms"]
        print(
            f"  SIGKILL of node A: node B closed the bridged kiosk socket after {noticed:.0f} ms; "
            f"the kiosk had its seat back through node B after {back:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--modes", nargs="*", default=["local", "cross"], choices=["local", "cross"]
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="node B on core 1 beside the load generator, instead of both nodes on core 0",
    )
    args = parser.parse_args()
    raise_fd_limit()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {1})
    print(
        f"signaling on two nodes over Redis ({REDIS_URL}): "
        f"{'node A on core 0, node B on core 1' if args.split else 'both nodes on core 0'}, "
        f"lean load generator on core 1, {args.seconds:.0f} s per step"
    )
    for rooms in args.rooms:
        for mode in args.modes:
            takeover = mode == "cross" and rooms == args.rooms[-1]
            result = run_step(rooms, args.rate, args.seconds, mode, takeover, args.split)
            report(asyncio.run(result))


if __name__ == "__main__":
    main()
