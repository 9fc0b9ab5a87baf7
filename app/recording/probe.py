"""Reading back a segment file a killed process left behind (blocking: run it in a thread).

Every packet is demuxed (cheap: no decoding) to count video frames and audio packets and to
find where the readable media ends; only the first few packets of each track are decoded, to
know the codec data in the file is usable and not just well-formed boxes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import av

from app.recording.recovery import Found, Media

# A decoder may hold a few packets before its first frame; a healthy stream gives one sooner.
DECODE_TRIES = 30


def _why(exc: Exception) -> str:
    # FFmpeg's message without the file name: the reason is shown to judges and clerks, the
    # server's paths are not theirs to see.
    text = getattr(exc, "strerror", None) or str(exc)
    return f"{type(exc).__name__}: {text}"[:200]


def _decodes(packet: Any) -> bool:
    try:
        return bool(packet.decode())
    except av.FFmpegError:
        return False


def _flushed(stream: Any) -> bool:
    try:
        return bool(stream.codec_context.decode(None))
    except av.FFmpegError:
        return False


def probe_media(path: Path) -> Media:
    """What the file holds; raises av.FFmpegError when it does not open as a container."""
    with av.open(str(path), mode="r") as container:
        streams = [s for s in container.streams if s.type in ("audio", "video")]
        counts = {"audio": 0, "video": 0}
        decoded: dict[str, bool] = {}
        tried: dict[str, int] = {}
        end = 0.0
        cut_short: str | None = None
        try:
            for packet in container.demux(*streams):
                if packet.size == 0 or packet.pts is None or packet.time_base is None:
                    continue  # the demuxer's end-of-stream marker
                kind = packet.stream.type
                counts[kind] += 1
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                if not decoded.get(kind) and tried.get(kind, 0) < DECODE_TRIES:
                    tried[kind] = tried.get(kind, 0) + 1
                    decoded[kind] = _decodes(packet)
        except av.FFmpegError as exc:
            # A process killed mid-fragment leaves a torn last box: what came before stands.
            cut_short = _why(exc)
        for stream in streams:
            if counts[stream.type] and not decoded.get(stream.type):
                decoded[stream.type] = _flushed(stream)
    return Media(
        duration_seconds=round(end, 3),
        audio_packets=counts["audio"],
        video_frames=counts["video"],
        decodes=all(decoded.get(kind, False) for kind, n in counts.items() if n),
        cut_short=cut_short,
    )


def examine(path: Path) -> Found:
    try:
        info = path.stat()
    except FileNotFoundError:
        return Found(exists=False)
    modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC)
    if info.st_size == 0:
        return Found(exists=True, size_bytes=0, modified_at=modified)
    try:
        media = probe_media(path)
    except (av.FFmpegError, OSError) as exc:
        return Found(True, info.st_size, modified, unreadable=_why(exc))
    return Found(True, info.st_size, modified, media=media)
