"""TURN benchmark: the round-trip time a coturn relay adds, against a direct path.

Two aiortc peers in this process on loopback exchange data-channel pings (one in flight at a
time: the echo comes back before the next ping leaves) over three paths:
  direct     host candidates on 127.0.0.1 both sides (SIFA_ICE_TRANSPORT_POLICY=all, no TURN);
  relay-one  one side relay-only through coturn, the other on its host candidate;
  relay      both sides relay-only (what SIFA_ICE_TRANSPORT_POLICY=relay gives a hall's
             browser and the server's recorder): relay to relay, two trips through coturn.
coturn runs from deploy/turnserver.conf exactly as the tests run it (tests/turn_support.py),
and the relay configuration is the one the recorder uses (app/recording/service.py).
The figures are loopback: they show what the relay's processing costs, not a network's.

    .venv/bin/python bench/turn_latency.py [--pings 500] [--interval-ms 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests"):
    sys.path.insert(0, str(extra))

import aioice.ice  # noqa: E402
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection  # noqa: E402
from turn_support import Coturn  # noqa: E402

from app.recording.ice import rtc_configuration  # noqa: E402
from signaling.ice import IceSettings  # noqa: E402


def loopback_hosts(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    # aioice leaves out 127.0.0.1 (shared/stack-notes.md): the direct path needs it.
    return ["127.0.0.1"] if use_ipv4 else []


async def connected_pair(
    offerer: RTCConfiguration, answerer: RTCConfiguration
) -> tuple[RTCPeerConnection, RTCPeerConnection, RTCDataChannel, RTCDataChannel, float]:
    a, b = RTCPeerConnection(offerer), RTCPeerConnection(answerer)
    opened: asyncio.Future[RTCDataChannel] = asyncio.get_running_loop().create_future()
    b.on("datachannel", lambda channel: opened.set_result(channel))
    channel = a.createDataChannel("ping", ordered=True)
    ready = asyncio.Event()
    channel.on("open", ready.set)
    started = time.perf_counter()
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    echo = await asyncio.wait_for(opened, 20)
    # The answerer hears of the channel before the offerer's side has seen its ack.
    await asyncio.wait_for(ready.wait(), 20)
    setup_ms = (time.perf_counter() - started) * 1000
    return a, b, channel, echo, setup_ms


def route(pc: RTCPeerConnection) -> str:
    transport = pc.sctp.transport.transport if pc.sctp is not None else None
    pair = None if transport is None else transport.iceGatherer._connection._nominated.get(1)
    return "?" if pair is None else f"{pair.local_candidate.type}->{pair.remote_candidate.type}"


async def measure(
    name: str, offerer: RTCConfiguration, answerer: RTCConfiguration, pings: int, gap: float
) -> dict[str, object]:
    a, b, channel, echo, setup_ms = await connected_pair(offerer, answerer)
    echo.on("message", lambda message: echo.send(message))
    replies: asyncio.Queue[str] = asyncio.Queue()
    channel.on("message", lambda message: replies.put_nowait(message))
    rtts: list[float] = []
    try:
        for n in range(pings + 20):
            sent = time.perf_counter()
            channel.send(str(n))
            if await asyncio.wait_for(replies.get(), 5) != str(n):
                raise RuntimeError("echo out of order")
            if n >= 20:  # the first pings warm SCTP's congestion window up
                rtts.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(gap)
        path = f"{route(a)} / {route(b)}"
    finally:
        await a.close()
        await b.close()
    rtts.sort()
    return {
        "path": name,
        "pairs": path,
        "setup_ms": round(setup_ms, 1),
        "pings": len(rtts),
        "median_ms": round(statistics.median(rtts), 3),
        "p95_ms": round(rtts[int(len(rtts) * 0.95) - 1], 3),
        "max_ms": round(rtts[-1], 3),
    }


async def main(pings: int, gap: float) -> list[dict[str, object]]:
    aioice.ice.get_host_addresses = loopback_hosts
    with tempfile.TemporaryDirectory(prefix="sifa-turn-bench-") as folder:
        coturn = Coturn(Path(folder)).start()
        try:
            turn = (coturn.url,), coturn.secret.encode()
            relay = IceSettings(turn_urls=turn[0], turn_secret=turn[1], transport_policy="relay")
            direct = RTCConfiguration(iceServers=[])
            results = []
            for name, offerer, answerer in (
                ("direct", direct, direct),
                ("relay-one", rtc_configuration(relay, time.time()), direct),
                (
                    "relay",
                    rtc_configuration(relay, time.time()),
                    rtc_configuration(relay, time.time()),
                ),
            ):
                results.append(await measure(name, offerer, answerer, pings, gap))
        finally:
            coturn.stop()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=500)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    args = parser.parse_args()
    figures = asyncio.run(main(args.pings, args.interval_ms / 1000))
    base = next(f for f in figures if f["path"] == "direct")
    head = ("path", "pairs", "setup ms", "median ms", "p95 ms", "+median")
    print(f"{head[0]:10} {head[1]:34} {head[2]:>9} {head[3]:>10} {head[4]:>8} {head[5]:>8}")
    for f in figures:
        added = float(str(f["median_ms"])) - float(str(base["median_ms"]))
        print(
            f"{f['path']:10} {f['pairs']!s:34} {f['setup_ms']!s:>9} {f['median_ms']!s:>10}"
            f" {f['p95_ms']!s:>8} {added:>+8.3f}"
        )
    print(json.dumps(figures))
