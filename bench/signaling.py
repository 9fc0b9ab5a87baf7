"""Signaling load benchmark: rooms of 3 relaying offer/answer/ICE-sized messages on loopback.

    .venv/bin/python bench/signaling.py                    # 100 and 1,000 rooms
    .venv/bin/python bench/signaling.py --rooms 1000 --rate 10000 --seconds 10
    .venv/bin/python bench/signaling.py --bare             # a bare aiohttp relay, for reference

The server runs in a subprocess pinned to core 0 (taskset -c 0), the load
generator in this process pinned to core 1. Everything stays on 127.0.0.1.
Each step starts a fresh server, so memory figures are its own. Printed per
step: connections, relayed messages per second, relay latency p50/p99 (send to
receive, both ends in this process), server CPU (also per message, which other
load on the machine disturbs less than latency does), and RSS per connection
idle (after joining) and under load. Message mix per pair: an offer and an
answer of about 2.5 KB and four ICE candidates of about 150 bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import new_event_loop  # noqa: E402
from signaling.authority import MemoryAuthority  # noqa: E402
from signaling.cluster import ClusterNode  # noqa: E402
from signaling.collector import settle_collector  # noqa: E402
from signaling.server import SignalingConfig, setup_signaling  # noqa: E402
from signaling.tokens import verify_room_token  # noqa: E402

sys.path.insert(0, str(SCRIPT.parent))
from signaling_load import LOADS  # noqa: E402


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


# -- server side ------------------------------------------------------------------


def bare_relay(app: web.Application, secret: bytes) -> None:
    """The floor to compare with: parse, look the recipient up, forward the text as is."""
    sockets: dict[str, web.WebSocketResponse] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=15)
        await ws.prepare(request)
        me = ""
        async for msg in ws:
            data = json.loads(msg.data)
            kind = data["type"]
            if kind == "signal":
                target = sockets.get(data["to"])
                if target is not None:
                    await target.send_str(msg.data)
            elif kind == "join":
                me = verify_room_token(secret, data["token"], now=time.time()).participant_id
                sockets[me] = ws
                await ws.send_str(json.dumps({"type": "welcome"}))
            elif kind == "admit":
                await sockets[data["participant"]].send_str('{"type":"admitted"}')
        sockets.pop(me, None)
        return ws

    app.router.add_get("/ws", handler)


def watch_collector(app: web.Application) -> None:
    """Time every garbage collection in the server: a full one stalls every room at once,
    so its pauses show up directly in the relay's p99. GET /bench/gc reads and resets."""
    started: list[float] = [0.0]
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def on_collect(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - started[0])

    gc.callbacks.append(on_collect)

    async def report_gc(request: web.Request) -> web.Response:
        out = {
            str(gen): {"count": len(p), "max_ms": max(p, default=0) * 1e3, "sum_ms": sum(p) * 1e3}
            for gen, p in pauses.items()
        }
        objects = gc.get_objects()
        out["tracked"] = len(objects)  # type: ignore[assignment]
        if os.environ.get("SIGNALING_BENCH_GC_TYPES"):
            counts = Counter(type(o).__qualname__ for o in objects)
            out["types"] = counts.most_common(25)  # type: ignore[assignment]
        del objects
        if "reset" in request.query:
            for p in pauses.values():
                p.clear()
        return web.json_response(out)

    app.router.add_get("/bench/gc", report_gc)


def serve(
    port: int,
    rooms: int,
    secret: bytes,
    bare: bool,
    loop_kind: str,
    cluster: tuple[str, str, str] | None = None,
) -> None:
    """`cluster`: (Redis URL, key prefix, node name) for one node of several, as `sifa serve`
    runs with SIFA_REDIS_URL."""
    raise_fd_limit()
    authority = MemoryAuthority()
    for case_id in range(1, rooms + 1):
        authority.open_room(case_id, f"room {case_id}", f"j{case_id}")
    app = web.Application()
    node = None
    if bare:
        bare_relay(app, secret)
    else:
        signaling = setup_signaling(app, SignalingConfig(secret=secret), authority)
        if cluster is not None:
            url, prefix, name = cluster
            beat = float(os.environ.get("SIGNALING_BENCH_HEARTBEAT", "2"))
            node = signaling.cluster = ClusterNode(
                signaling, url=url, prefix=prefix, node=name, heartbeat_seconds=beat
            )

    async def on_startup(_: web.Application) -> None:
        if node is not None:
            await node.start()
        if os.environ.get("SIGNALING_BENCH_DEFAULT_GC") is None:
            settle_collector()  # as `sifa serve` does
        print("ready", flush=True)

    app.on_startup.append(on_startup)
    watch_collector(app)
    profile_to = os.environ.get("SIGNALING_BENCH_PROFILE")
    if profile_to:
        import cProfile

        cProfile.runctx(
            'web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)',
            globals(),
            {"app": app, "port": port, "web": web},
            profile_to,
        )
        return
    loop = new_event_loop(loop_kind)  # as `sifa serve` chooses it (SIFA_EVENT_LOOP)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=loop)


# -- measurement -------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sample_own_cpu(samples: list[float]) -> None:
    """This process's CPU (the load generator) per wall-clock second, once a second."""
    last_cpu, last_t = time.process_time(), time.perf_counter()
    while True:
        await asyncio.sleep(1.0)
        cpu, t = time.process_time(), time.perf_counter()
        samples.append((cpu - last_cpu) / (t - last_t))
        last_cpu, last_t = cpu, t


async def read_gc(port: int, *, reset: bool) -> dict[str, object]:
    url = f"http://127.0.0.1:{port}/bench/gc" + ("?reset=1" if reset else "")
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        result: dict[str, object] = await response.json()
        return result


async def run_step(
    n_rooms: int,
    rate: int,
    seconds: float,
    *,
    bare: bool = False,
    loop_kind: str = "uvloop",
    client: str = "lean",
    verify: bool = False,
    py_spy: str | None = None,
) -> dict[str, float]:
    secret = secrets.token_bytes(32)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    taskset = shutil.which("taskset")
    command = [sys.executable, str(SCRIPT), "serve", "--port", str(port)]
    command += ["--rooms", str(n_rooms), "--secret", secret.hex()]
    if bare:
        command.append("--bare")
    command += ["--loop", loop_kind]
    if taskset:
        command = [taskset, "-c", "0", *command]
    proc = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, cwd=ROOT)
    spy: asyncio.subprocess.Process | None = None
    try:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if b"ready" not in line:
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.3)
        base_rss = rss_bytes(proc.pid)
        load = LOADS[client]("127.0.0.1", port, secret, verify=verify)
        t0 = time.perf_counter()
        connections = await load.open(n_rooms)
        setup_seconds = time.perf_counter() - t0
        await asyncio.sleep(1.0)
        idle_rss = rss_bytes(proc.pid)

        # Warm up briefly, then measure.
        await load.drive(rate, 1.0)
        await asyncio.sleep(0.3)
        if py_spy:
            spy = await asyncio.create_subprocess_exec(
                py_spy, "record", "--pid", str(proc.pid), "--rate", "250", "--nonblocking",
                "--duration", str(int(seconds)), "--format", "raw",
                "-o", f"{ROOT}/var/py-spy-signaling-{n_rooms}{'-bare' if bare else ''}.txt",
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        await read_gc(port, reset=True)
        load.start_measuring()
        stats = load.stats
        cpu0, t1 = cpu_seconds(proc.pid), time.perf_counter()
        t1_ns = load.now_ns()
        own0 = time.process_time()
        own_samples: list[float] = []
        sampler = asyncio.create_task(sample_own_cpu(own_samples))
        sent = await load.drive(rate, seconds)
        send_seconds = time.perf_counter() - t1
        own_send = time.process_time() - own0
        # Bounded: whatever has not arrived 15 s after the last send counts as lost.
        for _ in range(300):
            if stats.received >= sent:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - t1
        cpu = cpu_seconds(proc.pid) - cpu0
        sampler.cancel()
        gc_pauses = await read_gc(port, reset=False)
        load_rss = rss_bytes(proc.pid)
        await load.close()
        if spy is not None:
            await spy.wait()
        lat = sorted(stats.latencies_ns)
        last_at = (stats.last_at_ns - t1_ns) / 1e9
        return {
            "rooms": n_rooms,
            "connections": connections,
            "setup_s": setup_seconds,
            "target_rate": rate,
            "sent": sent,
            "relayed": stats.received,
            "relayed_per_s": stats.received / max(last_at, send_seconds),
            "lost": sent - stats.received,
            "errors": stats.errors,
            "closed": stats.closed_by_server,
            "checked": stats.checked,
            "mismatches": stats.mismatches,
            "p50_ms": statistics.median(lat) / 1e6 if lat else float("nan"),
            "p99_ms": lat[int(len(lat) * 0.99) - 1] / 1e6 if lat else float("nan"),
            "max_ms": lat[-1] / 1e6 if lat else float("nan"),
            "server_cpu": cpu / elapsed,
            "cpu_us_per_msg": cpu / max(stats.received, 1) * 1e6,
            "loadavg": os.getloadavg()[0],
            "load_cpu": own_send / send_seconds,
            "load_cpu_max": max(own_samples, default=float("nan")),
            "idle_kb_per_conn": (idle_rss - base_rss) / connections / 1024,
            "load_kb_per_conn": (load_rss - base_rss) / connections / 1024,
            "base_rss_mb": base_rss / 2**20,
            "gc": gc_pauses,  # type: ignore[dict-item]
            "samples": stats.error_samples,  # type: ignore[dict-item]
        }
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def report(r: dict[str, float], client: str) -> None:
    checked = (
        f", verified {r['checked']:.0f} exactly, {r['mismatches']:.0f} wrong"
        if r["checked"]
        else ""
    )
    print(
        f"rooms {r['rooms']:>5.0f} | connections {r['connections']:>5.0f} "
        f"(joined in {r['setup_s']:.1f} s) | target {r['target_rate']:>6.0f} msg/s | "
        f"load average {r['loadavg']:.2f}\n"
        f"  relayed {r['relayed_per_s']:>8.0f} msg/s ({r['relayed']:.0f} of {r['sent']:.0f}, "
        f"lost {r['lost']:.0f}, errors {r['errors']:.0f}, closed by server {r['closed']:.0f}"
        f"{checked})\n"
        f"  relay latency p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
        f"max {r['max_ms']:.1f} ms\n"
        f"  CPU: server {r['server_cpu']:.0%} of core 0 ({r['cpu_us_per_msg']:.0f} us per "
        f"relayed message: one core would do ~{1e6 / r['cpu_us_per_msg']:.0f}/s); "
        f"{client} load generator {r['load_cpu']:.0%} of core 1 while sending "
        f"(busiest second {r['load_cpu_max']:.0%})\n"
        f"  memory per connection: idle {r['idle_kb_per_conn']:.1f} KB, "
        f"under load {r['load_kb_per_conn']:.1f} KB (server base RSS {r['base_rss_mb']:.0f} MB)",
        flush=True,
    )
    gcs = r["gc"]
    print(
        "  garbage collector while measuring: "
        + ", ".join(
            f"gen{gen} {g['count']} runs (max {g['max_ms']:.1f} ms, total {g['sum_ms']:.0f} ms)"
            for gen, g in ((k, gcs[k]) for k in ("0", "1", "2"))  # type: ignore[index]
        )
        + f"; {gcs['tracked']} tracked objects",  # type: ignore[index]
        flush=True,
    )
    if "types" in gcs:  # type: ignore[operator]
        print("  tracked by type:", gcs["types"])  # type: ignore[index]
    for sample in r["samples"]:  # type: ignore[attr-defined]
        print(f"  sample: {sample}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve_args = sub.add_parser("serve")
    serve_args.add_argument("--port", type=int, required=True)
    serve_args.add_argument("--rooms", type=int, required=True)
    serve_args.add_argument("--secret", required=True)
    serve_args.add_argument("--bare", action="store_true")
    serve_args.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    serve_args.add_argument("--redis", help="one node of several: Redis URL")
    serve_args.add_argument("--prefix", default="sifa-bench")
    serve_args.add_argument("--node", default="node-a")
    parser.add_argument("--rooms", type=int, nargs="*", default=[100, 1000])
    parser.add_argument(
        "--rate",
        type=int,
        nargs="*",
        default=None,
        help="msg/s per step (default: 5,000 for 100 rooms, 10,000 for 1,000 rooms)",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--bare", action="store_true", help="measure a bare aiohttp relay instead, for reference"
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the server's event loop (default uvloop, as sifa serve runs)",
    )
    parser.add_argument(
        "--client",
        choices=sorted(LOADS),
        default="lean",
        help="load generator: lean raw sockets (default) or the older aiohttp client",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="lean client: check every relayed text exactly (costs client CPU: low rates only)",
    )
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample the server with py-spy while measuring, into var/py-spy-signaling-*.txt",
    )
    args = parser.parse_args()
    if args.command == "serve":
        cluster = (args.redis, args.prefix, args.node) if args.redis else None
        serve(args.port, args.rooms, bytes.fromhex(args.secret), args.bare, args.loop, cluster)
        return
    py_spy = None
    if args.py_spy:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        (ROOT / "var").mkdir(exist_ok=True)
    raise_fd_limit()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {1})
    steps = []
    for i, rooms in enumerate(args.rooms):
        if args.rate:
            rate = args.rate[min(i, len(args.rate) - 1)]
        else:
            # 100 rooms at 10,000 msg/s would be 33 msg/s per socket, over the
            # per-connection limit (20/s): it would measure the rate limiter.
            rate = 5000 if rooms <= 100 else 10000
        steps.append((rooms, rate))
    print(
        f"signaling bench: server on core 0 ({'bare relay' if args.bare else 'signaling'}), "
        f"{args.client} load generator on core 1, {args.seconds:.0f} s per step"
    )
    for rooms, rate in steps:
        result = asyncio.run(
            run_step(
                rooms,
                rate,
                args.seconds,
                bare=args.bare,
                loop_kind=args.loop,
                client=args.client,
                verify=args.verify,
                py_spy=py_spy,
            )
        )
        report(result, args.client)


if __name__ == "__main__":
    main()
