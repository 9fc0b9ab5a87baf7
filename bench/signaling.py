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
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))

from signaling.authority import MemoryAuthority  # noqa: E402
from signaling.server import SignalingConfig, setup_signaling  # noqa: E402
from signaling.tokens import issue_room_token, verify_room_token  # noqa: E402

ROLES = (("judge", "j"), ("kiosk", "k"), ("party", "p"))
SDP_BODY = "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\\r\\n" * 38  # ~2.5 KB
CANDIDATE = "candidate:842163049 1 udp 1677729535 127.0.0.1 50123 typ srflx raddr 0.0.0.0 rport 0"


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


def serve(port: int, rooms: int, secret: bytes, bare: bool, use_uvloop: bool) -> None:
    raise_fd_limit()
    authority = MemoryAuthority()
    for case_id in range(1, rooms + 1):
        authority.open_room(case_id, f"room {case_id}", f"j{case_id}")
    app = web.Application()
    if bare:
        bare_relay(app, secret)
    else:
        setup_signaling(app, SignalingConfig(secret=secret), authority)

    async def on_startup(_: web.Application) -> None:
        print("ready", flush=True)

    app.on_startup.append(on_startup)
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
    loop = None
    if use_uvloop:
        import uvloop  # not a project dependency: only for this comparison

        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=loop)


# -- load generator ---------------------------------------------------------------


@dataclass
class Load:
    sent_at: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    last_at: float = 0.0
    errors: int = 0
    measuring: bool = False
    first_id: int = 0
    next_id: int = 0


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def reader(ws: aiohttp.ClientWebSocketResponse, load: Load) -> None:
    async for msg in ws:
        data = msg.data
        if not isinstance(data, str):
            continue
        start = data.find("~")
        if start < 0:
            if '"type":"error"' in data:
                load.errors += 1
            continue
        now = time.perf_counter()
        mid = int(data[start + 1 : data.index("~", start + 1)])
        sent = load.sent_at.pop(mid, None)
        if sent is not None and load.measuring and mid >= load.first_id:
            load.received += 1
            load.last_at = now
            load.latencies.append(now - sent)


async def expect(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, object]:
    while True:
        msg = await ws.receive(timeout=30)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"socket ended while waiting for {kind}: {msg}")
        data = msg.json()
        if data.get("type") == kind:
            return data  # type: ignore[no-any-return]
        if data.get("type") == "error":
            raise RuntimeError(f"error while waiting for {kind}: {data}")


async def open_room(
    session: aiohttp.ClientSession, url: str, secret: bytes, case_id: int
) -> list[tuple[str, aiohttp.ClientWebSocketResponse]]:
    members = []
    for role, prefix in ROLES:
        pid = f"{prefix}{case_id}"
        token = issue_room_token(
            secret,
            case_id=case_id,
            participant_id=pid,
            role=role,
            display_name=pid,
            ttl_seconds=600,
            now=time.time(),
        )
        ws = await session.ws_connect(url, autoping=True, max_msg_size=0)
        await ws.send_json({"type": "join", "v": 1, "case_id": case_id, "token": token})
        await expect(ws, "welcome")
        members.append((pid, ws))
    judge = members[0][1]
    for pid, ws in members[1:]:
        await judge.send_json({"type": "admit", "participant": pid})
        await expect(ws, "admitted")
    return members


def templates(case_id: int) -> list[tuple[int, int, str]]:
    """One negotiation's worth of messages: (from index, to index, text with a {} for the id)."""
    j, k, p = (f"{prefix}{case_id}" for _, prefix in ROLES)
    names = (j, k, p)
    out = []
    for a, b in ((1, 0), (2, 0), (2, 1)):
        offer = '{"type":"signal","to":"%s","description":{"type":"offer","sdp":"v=0~{}~%s"}}'
        answer = '{"type":"signal","to":"%s","description":{"type":"answer","sdp":"v=0~{}~%s"}}'
        cand = (
            '{"type":"signal","to":"%s","candidate":{"candidate":"%s ~{}~",'
            '"sdpMid":"0","sdpMLineIndex":0}}'
        )
        out.append((a, b, offer % (names[b], SDP_BODY)))
        out.append((b, a, answer % (names[a], SDP_BODY)))
        for src, dst in ((a, b), (b, a), (a, b), (b, a)):
            out.append((src, dst, cand % (names[dst], CANDIDATE)))
    return [(s, d, t.replace("{}", "%d")) for s, d, t in out]


async def drive(
    rooms: list[list[tuple[str, aiohttp.ClientWebSocketResponse]]],
    load: Load,
    rate: int,
    seconds: float,
) -> int:
    plans = [templates(int(members[0][0][1:])) for members in rooms]
    cursor = [0] * len(rooms)
    total = int(rate * seconds)
    sent = 0
    room_index = 0
    start = time.perf_counter()
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate)) - sent
        for _ in range(due):
            r = room_index
            room_index = (room_index + 1) % len(rooms)
            src, _dst, text = plans[r][cursor[r]]
            cursor[r] = (cursor[r] + 1) % len(plans[r])
            load.next_id += 1
            load.sent_at[load.next_id] = time.perf_counter()
            await rooms[r][src][1].send_str(text % load.next_id)
        sent += max(due, 0)
        await asyncio.sleep(0.002)
    return sent


async def run_step(
    n_rooms: int, rate: int, seconds: float, python: str, bare: bool, use_uvloop: bool
) -> dict[str, float]:
    secret = secrets.token_bytes(32)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    taskset = shutil.which("taskset")
    command = [python, str(SCRIPT), "serve", "--port", str(port)]
    command += ["--rooms", str(n_rooms), "--secret", secret.hex()]
    if bare:
        command.append("--bare")
    if use_uvloop:
        command.append("--uvloop")
    if taskset:
        command = [taskset, "-c", "0", *command]
    proc = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if b"ready" not in line:
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.3)
        base_rss = rss_bytes(proc.pid)
        url = f"http://127.0.0.1:{port}/ws"
        load = Load()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            t0 = time.perf_counter()
            rooms: list[list[tuple[str, aiohttp.ClientWebSocketResponse]]] = []
            sem = asyncio.Semaphore(50)

            async def one(case_id: int) -> None:
                async with sem:
                    rooms.append(await open_room(session, url, secret, case_id))

            await asyncio.gather(*(one(c) for c in range(1, n_rooms + 1)))
            setup_seconds = time.perf_counter() - t0
            connections = sum(len(r) for r in rooms)
            readers = [asyncio.create_task(reader(ws, load)) for r in rooms for _, ws in r]
            await asyncio.sleep(1.0)
            idle_rss = rss_bytes(proc.pid)

            # Warm up briefly, then measure.
            await drive(rooms, load, rate, 1.0)
            await asyncio.sleep(0.3)
            load.first_id = load.next_id + 1
            load.measuring = True
            cpu0, t1 = cpu_seconds(proc.pid), time.perf_counter()
            own0 = time.process_time()
            sent = await drive(rooms, load, rate, seconds)
            send_seconds = time.perf_counter() - t1
            # Bounded: whatever has not arrived 15 s after the last send counts as lost.
            for _ in range(300):
                if load.received >= sent:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t1
            cpu = cpu_seconds(proc.pid) - cpu0
            own = time.process_time() - own0
            load_rss = rss_bytes(proc.pid)
            for r in rooms:
                for _, ws in r:
                    await ws.close()
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        lat = sorted(load.latencies)
        return {
            "rooms": n_rooms,
            "connections": connections,
            "setup_s": setup_seconds,
            "target_rate": rate,
            "sent": sent,
            "relayed": load.received,
            "relayed_per_s": load.received / max(load.last_at - t1, send_seconds),
            "lost": sent - load.received,
            "errors": load.errors,
            "p50_ms": statistics.median(lat) * 1000 if lat else float("nan"),
            "p99_ms": lat[int(len(lat) * 0.99) - 1] * 1000 if lat else float("nan"),
            "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "server_cpu": cpu / elapsed,
            "cpu_us_per_msg": cpu / max(load.received, 1) * 1e6,
            "loadavg": os.getloadavg()[0],
            "load_cpu": own / elapsed,
            "idle_kb_per_conn": (idle_rss - base_rss) / connections / 1024,
            "load_kb_per_conn": (load_rss - base_rss) / connections / 1024,
            "base_rss_mb": base_rss / 2**20,
        }
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def report(r: dict[str, float]) -> None:
    print(
        f"rooms {r['rooms']:>5.0f} | connections {r['connections']:>5.0f} "
        f"(joined in {r['setup_s']:.1f} s) | target {r['target_rate']:>6.0f} msg/s\n"
        f"  relayed {r['relayed_per_s']:>8.0f} msg/s ({r['relayed']:.0f} of {r['sent']:.0f}, "
        f"lost {r['lost']:.0f}, errors {r['errors']:.0f})\n"
        f"  CPU: server {r['server_cpu']:.0%} of core 0 ({r['cpu_us_per_msg']:.0f} us per "
        f"relayed message: one core would do ~{1e6 / r['cpu_us_per_msg']:.0f}/s), "
        f"load generator {r['load_cpu']:.0%} of core 1; machine load average "
        f"{r['loadavg']:.1f}\n"
        f"  relay latency p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
        f"max {r['max_ms']:.1f} ms\n"
        f"  memory per connection: idle {r['idle_kb_per_conn']:.1f} KB, "
        f"under load {r['load_kb_per_conn']:.1f} KB (server base RSS {r['base_rss_mb']:.0f} MB)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve_args = sub.add_parser("serve")
    serve_args.add_argument("--port", type=int, required=True)
    serve_args.add_argument("--rooms", type=int, required=True)
    serve_args.add_argument("--secret", required=True)
    serve_args.add_argument("--bare", action="store_true")
    serve_args.add_argument("--uvloop", action="store_true")
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
        "--uvloop", action="store_true", help="run the server on uvloop (must be importable)"
    )
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.port, args.rooms, bytes.fromhex(args.secret), args.bare, args.uvloop)
        return
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
    print(f"signaling bench: server on core 0, load on core 1, {args.seconds:.0f} s per step")
    for rooms, rate in steps:
        report(
            asyncio.run(run_step(rooms, rate, args.seconds, sys.executable, args.bare, args.uvloop))
        )


if __name__ == "__main__":
    main()
