"""One segment file: a thread that encodes one participant's audio and video into one MP4.

The container is opened only when the first video frame has arrived (its size is then known);
audio that comes first waits in a bounded buffer. This is what MediaRecorder gets wrong: audio
reaching the container first leaves the video stream dead ("Cannot change width after codec is
open"). Encoding runs on this thread, never on the event loop. The file is fragmented MP4 and
each finished fragment is handed to the operating system at once, so a killed process leaves
everything up to the last fragment (about two seconds) readable; the start-up sweep
(recovery.py) hashes and seals what it finds.
"""

from __future__ import annotations

import fractions
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from app.files import file_sha256

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
VIDEO_TIME_BASE = fractions.Fraction(1, 1000)
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# A participant whose camera never delivers still gets an (audio-only) file after this wait.
AUDIO_ONLY_AFTER_SECONDS = 10.0
# Items waiting for the encoder thread: about 30 s of audio and video at 15-30 fps.
MAX_QUEUED = 3000

OpenOutput = Callable[[Path], Any]


class WriterFailed(Exception):
    """The segment could not be written; carries the file and the cause's text."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(f"recording {path.name} failed: {cause}")
        self.path = path
        self.cause = cause


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    # Measured (docs in bench/recording.py): ultrafast + zerolatency keeps a 640x480@15
    # stream near a tenth of a core; the default preset overran the event loop.
    preset: str = "ultrafast"
    tune: str = "zerolatency"
    crf: int = 26
    keyframe_seconds: float = 2.0
    nominal_fps: int = 15
    threads: int = 1
    audio_bitrate: int = 64000

    def __post_init__(self) -> None:
        if self.preset not in ("ultrafast", "superfast", "veryfast"):
            raise ValueError(f"preset {self.preset!r} is too slow for live recording")
        if not 0 <= self.crf <= 51 or self.nominal_fps <= 0 or self.threads <= 0:
            raise ValueError("crf must be 0-51, nominal_fps and threads positive")


@dataclass(frozen=True, slots=True)
class WrittenFile:
    path: Path
    sha256: str
    size_bytes: int
    duration_seconds: float
    has_audio: bool
    has_video: bool
    video_frames: int
    audio_seconds: float
    width: int
    height: int


# Without flush_packets the muxer holds up to 32 KB in its own buffer. Measured: a 7 s
# low-motion segment copied mid-write, as kill -9 would leave it, held 28 bytes (no moov).
# Fragments are cut at video keyframes; frag_duration (microseconds) also cuts audio-only
# files, which have no keyframes to cut at.
MP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "flush_packets": "1",
    "frag_duration": "5000000",
}


def open_mp4(path: Path) -> Any:
    return av.open(str(path), mode="w", format="mp4", options=dict(MP4_OPTIONS))


def _silence(samples: int, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = AUDIO_TIME_BASE
    return frame


class SegmentWriter:
    """Feed frames with their time (seconds since the segment's start) from any thread."""

    def __init__(
        self,
        path: Path,
        settings: EncoderSettings | None = None,
        *,
        open_output: OpenOutput = open_mp4,
        on_failure: Callable[[WriterFailed], None] | None = None,
    ) -> None:
        self.path = path
        self.settings = settings or EncoderSettings()
        self._open_output = open_output
        self._on_failure = on_failure
        self._queue: queue.Queue[tuple[str, Any, float] | None] = queue.Queue()
        self._result: Future[WrittenFile] = Future()
        self._closing = False
        self.dropped = 0
        self.failure: WriterFailed | None = None
        # Encoder state, touched by the thread only.
        self._container: Any = None
        self._video: Any = None
        self._audio: Any = None
        self._resampler: Any = None
        self._early_audio: list[tuple[av.AudioFrame, float]] = []
        self._audio_next = 0  # samples written (after resampling)
        self._audio_in = 0  # samples received, silence included (before resampling)
        self._video_last_pts = -1
        self._video_last_t = 0.0
        self._video_frames = 0
        self._size = (0, 0)
        self._thread = threading.Thread(target=self._run, name=f"rec-{path.stem}", daemon=True)
        self._thread.start()

    # -- feeding (any thread) -------------------------------------------------------------

    def push_video(self, frame: av.VideoFrame, t: float) -> None:
        self._push("video", frame, t)

    def push_audio(self, frame: av.AudioFrame, t: float) -> None:
        self._push("audio", frame, t)

    def _push(self, kind: str, frame: Any, t: float) -> None:
        if self._closing or self.failure is not None:
            return
        if self._queue.qsize() >= MAX_QUEUED:
            # The encoder cannot keep up: drop and count, never block the event loop.
            self.dropped += 1
            return
        self._queue.put((kind, frame, t))

    def close(self) -> Future[WrittenFile]:
        """Finish the file; the future resolves once it is flushed, closed and hashed."""
        if not self._closing:
            self._closing = True
            self._queue.put(None)
        return self._result

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                kind, frame, t = item
                if kind == "video":
                    self._on_video(frame, t)
                else:
                    self._on_audio(frame, t)
            self._result.set_result(self._finish())
        except Exception as exc:
            failure = WriterFailed(self.path, f"{type(exc).__name__}: {exc}")
            self.failure = failure
            log.error("%s", failure)
            self._abandon()
            self._result.set_exception(failure)
            if self._on_failure is not None:
                self._on_failure(failure)

    def _open(self, width: int, height: int, with_video: bool) -> None:
        s = self.settings
        container = self._open_output(self.path)
        self._container = container
        if with_video:
            video = container.add_stream("libx264", rate=s.nominal_fps)
            video.width, video.height = width, height
            video.pix_fmt = "yuv420p"
            video.time_base = VIDEO_TIME_BASE
            video.codec_context.time_base = VIDEO_TIME_BASE
            video.codec_context.gop_size = max(1, int(s.keyframe_seconds * s.nominal_fps))
            video.codec_context.thread_count = s.threads
            video.options = {"preset": s.preset, "tune": s.tune, "crf": str(s.crf)}
            self._video = video
            self._size = (width, height)
        audio = container.add_stream("aac", rate=SAMPLE_RATE)
        audio.layout = "stereo"
        audio.bit_rate = s.audio_bitrate
        audio.time_base = AUDIO_TIME_BASE
        self._audio = audio
        self._resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=SAMPLE_RATE, frame_size=1024
        )
        early, self._early_audio = self._early_audio, []
        for frame, t in early:
            self._write_audio(frame, t)

    def _on_video(self, frame: av.VideoFrame, t: float) -> None:
        if self._container is None:
            self._open(frame.width, frame.height, with_video=True)
        if self._video is None:
            self.dropped += 1  # an audio-only file: the camera came too late
            return
        width, height = self._size
        if frame.width != width or frame.height != height or frame.format.name != "yuv420p":
            # Browsers scale their video with the bandwidth; the file keeps its first size.
            frame = frame.reformat(width=width, height=height, format="yuv420p")
        pts = round(t * 1000)
        if pts <= self._video_last_pts:
            pts = self._video_last_pts + 1
        self._video_last_pts = pts
        self._video_last_t = pts / 1000
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self._video_frames += 1

    def _on_audio(self, frame: av.AudioFrame, t: float) -> None:
        if self._container is None:
            self._early_audio.append((frame, t))
            first_t = self._early_audio[0][1]
            if t - first_t >= AUDIO_ONLY_AFTER_SECONDS:
                log.warning("%s: no video after %.0f s, audio only", self.path.name, t - first_t)
                self._open(0, 0, with_video=False)
            return
        self._write_audio(frame, t)

    def _write_audio(self, frame: av.AudioFrame, t: float) -> None:
        # Audio is written gapless: silence stands in for lost packets and for the time
        # before the first packet, so the track stays in step with the video and the clock.
        wanted = round(t * SAMPLE_RATE)
        missing = wanted - self._audio_in
        if missing >= frame.samples // 2:
            self._encode_audio(_silence(missing, self._audio_in))
            self._audio_in += missing
        elif missing < -4 * frame.samples:
            return  # far behind the clock already written: a duplicate
        frame.pts = self._audio_in
        frame.time_base = AUDIO_TIME_BASE
        self._audio_in += frame.samples
        self._encode_audio(frame)

    def _encode_audio(self, frame: av.AudioFrame | None) -> None:
        for out in self._resampler.resample(frame):
            out.pts = self._audio_next
            out.time_base = AUDIO_TIME_BASE
            self._audio_next += out.samples
            for packet in self._audio.encode(out):
                self._container.mux(packet)

    def _finish(self) -> WrittenFile:
        if self._container is None and self._early_audio:
            self._open(0, 0, with_video=False)
        if self._container is None:
            # Nothing arrived at all: no file.
            return WrittenFile(self.path, "", 0, 0.0, False, False, 0, 0.0, 0, 0)
        if self._video is not None:
            for packet in self._video.encode(None):
                self._container.mux(packet)
        self._encode_audio(None)
        for packet in self._audio.encode(None):
            self._container.mux(packet)
        self._container.close()
        audio_seconds = self._audio_in / SAMPLE_RATE
        fps = self.settings.nominal_fps
        video_end = self._video_last_t + 1 / fps if self._video_frames else 0.0
        return WrittenFile(
            path=self.path,
            sha256=file_sha256(self.path),
            size_bytes=self.path.stat().st_size,
            duration_seconds=round(max(video_end, audio_seconds), 3),
            has_audio=self._audio_in > 0,
            has_video=self._video_frames > 0,
            video_frames=self._video_frames,
            audio_seconds=round(audio_seconds, 3),
            width=self._size[0],
            height=self._size[1],
        )

    def _abandon(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:
                log.exception("closing the failed recording %s", self.path)
