"""Recorder benchmark: CPU per recorded 640x480@15 stream, and how many streams one core records
without losing frames.

The recorder (signaling server + the server's recorder peer, decoding and re-encoding) runs in
a process pinned to one core; the senders (aiortc, VP8 + Opus, a moving 640x480 picture at
15 fps and a tone) run in another process pinned to the other core. For each stream count the
recorder's CPU time is measured over the run, and every file's frames are counted against what
its sender sent.

    .venv/bin/python bench/recording.py [--streams 4,8,10,12] [--seconds 15] [--core 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests", ROOT / "tests" / "signaling", ROOT / "tests" / "recording"):
    sys.path.insert(0, str(extra))

SECRET = b"bench-secret-0123456789abcdef"
# Seats per room (docs/protocol.md): judge, kiosk, 2 mediators, 4 parties, 2 clerks.
ROLES = ["judge", "kiosk", "mediator", "mediator", "party", "party", "party", "party"]
ROLES += ["clerk", "clerk"]
ROOMS = 3


def judge_of(case_id: int) -> str:
    return f"judge-{case_id}"


def _loopback() -> None:
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


# -- the recorder process ----------------------------------------------------------------------


async def recorder_main(folder: Path) -> None:
    from aiohttp import web
    from aiortc import RTCConfiguration

    from app.recording.peer import RECORDER_ID, RecorderPeer, SegmentStart
    from app.recording.writer import EncoderSettings, SegmentWriter, WrittenFile
    from signaling.authority import MemoryAuthority
    from signaling.local import LocalConnection
    from signaling.server import SignalingConfig, setup_signaling
    from signaling.tokens import issue_room_token

    _loopback()
    authority = MemoryAuthority()
    for case_id in range(1, ROOMS + 1):
        authority.open_room(case_id, "bench", judge_of(case_id))
    app = web.Application()
    server = setup_signaling(app, SignalingConfig(secret=SECRET), authority)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    results: list[dict[str, Any]] = []
    writers: list[SegmentWriter] = []

    class Sink:
        def new_writer(self, start: SegmentStart) -> SegmentWriter:
            writer = SegmentWriter(start.path, EncoderSettings())
            writers.append(writer)
            return writer

        async def segment_opened(self, start: SegmentStart) -> int:
            return len(writers)

        async def segment_closed(
            self, sid: int, start: SegmentStart, result: WrittenFile | None, error: str | None
        ) -> None:
            results.append(
                {
                    "participant": start.who.participant_id,
                    "frames": result.video_frames if result else 0,
                    "duration": result.duration_seconds if result else 0,
                    "error": error,
                }
            )

        def failed(self, reason: str) -> None:
            print(json.dumps({"failed": reason}), flush=True)

        def room_empty(self) -> None:
            pass

    def token_for(case_id: int) -> Any:
        return lambda: issue_room_token(
            SECRET,
            case_id=case_id,
            participant_id=RECORDER_ID,
            role="recorder",
            display_name="recorder",
            ttl_seconds=60,
            now=time.time(),
        )

    peers = [
        RecorderPeer(
            LocalConnection(server),
            case_id=case_id,
            token=token_for(case_id),
            folder=folder / f"case-{case_id}",
            config=RTCConfiguration(iceServers=[]),
            sink=Sink(),
        )
        for case_id in range(1, ROOMS + 1)
    ]
    tasks = [asyncio.ensure_future(peer.run()) for peer in peers]
    print(json.dumps({"port": port}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "start": senders are flowing
    cpu0, wall0 = time.process_time(), time.monotonic()
    await loop.run_in_executor(None, sys.stdin.readline)  # "mark": the senders stopped
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    lag = max((w.queued for w in writers), default=0)
    await loop.run_in_executor(None, sys.stdin.readline)  # "stop": in-flight frames are in
    dropped = sum(w.dropped for w in writers)
    for peer, task in zip(peers, tasks, strict=True):
        await peer.stop()
        task.cancel()
    print(
        json.dumps(
            {"cpu": cpu, "wall": wall, "results": results, "max_queue": lag, "dropped": dropped}
        ),
        flush=True,
    )
    await runner.cleanup()


# -- the senders process -----------------------------------------------------------------------


async def senders_main(port: int, streams: int, seconds: float) -> None:
    import aiohttp
    from recording_support import Sender, wait_for

    from signaling.tokens import issue_room_token

    _loopback()
    url = f"ws://127.0.0.1:{port}/ws"
    async with aiohttp.ClientSession() as session:
        senders = []
        for n in range(streams):
            case_id, seat = divmod(n, len(ROLES))
            case_id += 1
            role = ROLES[seat]
            pid = judge_of(case_id) if role == "judge" else f"{role}-{case_id}-{seat}"
            sender = Sender(session, url, pid, fps=15)
            sender.auto_admit = role == "judge"
            token = issue_room_token(
                SECRET,
                case_id=case_id,
                participant_id=pid,
                role=role,
                display_name=pid,
                ttl_seconds=60,
                now=time.time(),
            )
            await sender.join(token, case_id)
            senders.append(sender)
        await wait_for(lambda: all(s.video_sent for s in senders), 60, "media from all")
        print(json.dumps({"flowing": True}), flush=True)
        await asyncio.sleep(seconds)
        for sender in senders:
            for video in sender.videos:
                video.paused = True
        await asyncio.sleep(0.2)
        print(json.dumps({"sent": {s.id: s.video_sent for s in senders}}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)  # recorder finished
        for sender in senders:
            await sender.close()


# -- orchestration -----------------------------------------------------------------------------


def _line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        text = proc.stdout.readline()
        if not text:
            raise RuntimeError("child process ended early")
        if text.startswith("{"):
            parsed: dict[str, Any] = json.loads(text)
            return parsed


def run_once(streams: int, seconds: float, core: int, other: int) -> dict[str, Any]:
    me = [sys.executable, __file__]
    with tempfile.TemporaryDirectory(prefix="sifa-bench-rec-") as folder:
        recorder = subprocess.Popen(
            ["taskset", "-c", str(core), *me, "--role", "recorder", "--folder", folder],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        port = _line(recorder)["port"]
        senders = subprocess.Popen(
            [
                "taskset",
                "-c",
                str(other),
                *me,
                "--role",
                "senders",
                "--port",
                str(port),
                "--streams",
                str(streams),
                "--seconds",
                str(seconds),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert recorder.stdin is not None and senders.stdin is not None
        _line(senders)  # flowing
        recorder.stdin.write("start\n")
        recorder.stdin.flush()
        sent = _line(senders)["sent"]
        recorder.stdin.write("mark\n")
        recorder.stdin.flush()
        time.sleep(1.5)
        recorder.stdin.write("stop\n")
        recorder.stdin.flush()
        outcome = _line(recorder)
        senders.stdin.write("done\n")
        senders.stdin.flush()
        recorder.wait(30)
        senders.wait(30)
    frames = {r["participant"]: r["frames"] for r in outcome["results"]}
    lost = {pid: sent[pid] - frames.get(pid, 0) for pid in sent}
    worst = max(lost[pid] / max(1, sent[pid]) for pid in sent)
    return {
        "streams": streams,
        "cpu_core_fraction": outcome["cpu"] / outcome["wall"],
        "cpu_per_stream": outcome["cpu"] / outcome["wall"] / streams,
        "worst_loss": worst,
        "frames_sent": sum(sent.values()),
        "fps_sent": sum(sent.values()) / streams / outcome["wall"],
        "max_queue": outcome["max_queue"],
        "dropped_by_writer": outcome["dropped"],
        "errors": [r["error"] for r in outcome["results"] if r["error"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", default="bench")
    parser.add_argument("--folder", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--streams", default="4,8,10,12")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    if args.role == "recorder":
        Path(args.folder).mkdir(parents=True, exist_ok=True)
        asyncio.run(recorder_main(Path(args.folder)))
        return
    if args.role == "senders":
        asyncio.run(senders_main(args.port, int(args.streams), args.seconds))
        return
    cores = sorted(os.sched_getaffinity(0))
    other = next((c for c in cores if c != args.core), args.core)
    print(f"recorder on core {args.core}, senders on core {other}, {args.seconds:.0f} s per run")
    print(
        "streams  fps sent  recorder CPU (cores)  CPU per stream  worst frame loss  queue  dropped"
    )
    best = 0
    for count in (int(n) for n in args.streams.split(",")):
        row = run_once(count, args.seconds, args.core, other)
        print(
            f"{count:7d}  {row['fps_sent']:8.1f}  {row['cpu_core_fraction']:20.2f}  "
            f"{row['cpu_per_stream']:13.1%}  "
            f"{row['worst_loss']:16.1%}  {row['max_queue']:5d}  {row['dropped_by_writer']:7d}"
            + (f"  errors: {row['errors']}" if row["errors"] else ""),
            flush=True,
        )
        full_rate = row["fps_sent"] >= 14.0  # else the senders' core was the limit
        if (
            full_rate
            and row["worst_loss"] <= 0.01
            and row["cpu_core_fraction"] < 0.95
            and not row["errors"]
        ):
            best = max(best, count)
    print(f"most 640x480@15 streams recorded on one core without losing frames: {best}")


if __name__ == "__main__":
    main()
