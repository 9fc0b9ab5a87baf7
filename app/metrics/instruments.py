"""The app's metrics: the registry, its instruments, and what is read at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.domain.session import TARGET, SessionView
from app.metrics.relay import CountingHub
from app.recording.service import Recordings
from signaling.server import SignalingServer

TARGET_SECONDS = int(TARGET.total_seconds())
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
RULING_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
# Steps and sessions are measured against the 20-minute target: 1200 s is a bucket edge, so
# "sessions within target" is sifa_session_duration_seconds_bucket{le="1200.0"}.
STEP_BUCKETS = (30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1200.0, 1800.0)
SESSION_BUCKETS = (300.0, 600.0, 900.0, 1200.0, 1500.0, 1800.0, 2700.0, 3600.0, 7200.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class AppMetrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "sifa_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "sifa_http_request_duration_seconds",
            "Time to answer an HTTP request (WebSocket sessions excluded), by route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.db_seconds = Histogram(
            "sifa_db_statement_duration_seconds",
            "Database statement latency, by operation.",
            ["operation"],
            buckets=DB_BUCKETS,
            registry=registry,
        )
        self.ruling_seconds = Histogram(
            "sifa_ruling_issue_duration_seconds",
            "Time to render and sign a ruling when the judge issues it.",
            buckets=RULING_BUCKETS,
            registry=registry,
        )
        self.step_seconds = Histogram(
            "sifa_session_step_duration_seconds",
            "Time spent in each step of confirmation sessions that were served.",
            ["step"],
            buckets=STEP_BUCKETS,
            registry=registry,
        )
        self.session_seconds = Histogram(
            "sifa_session_duration_seconds",
            "Whole confirmation sessions, from admission to the last receipt.",
            buckets=SESSION_BUCKETS,
            registry=registry,
        )
        self.over_target = Counter(
            "sifa_sessions_over_target",
            "Confirmation sessions that took longer than the target.",
            registry=registry,
        )
        Gauge(
            "sifa_session_target_seconds",
            "The target duration of a confirmation session.",
            registry=registry,
        ).set(TARGET_SECONDS)
        ProcessCollector(registry=registry)
        # labels() takes a lock and builds a key each time: children are kept once made.
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        key = (method, route, status)
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(method, route, str(status))
        counter.inc()
        if status == 101:
            return  # a WebSocket: its "duration" is the whole call
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[(method, route)] = self.request_seconds.labels(method, route)
        timed.observe(seconds)

    def session_served(self, view: SessionView) -> None:
        for timing in view.timings:
            if timing.ended_at is not None:
                self.step_seconds.labels(timing.phase.value).observe(timing.seconds)
        if view.started_at is not None and view.served_at is not None:
            self.session_seconds.observe(view.elapsed_seconds)
            if view.over_target:
                self.over_target.inc()


class LiveCollector(Collector):
    """Sockets, rooms, relayed messages and recordings, read from the running objects."""

    def __init__(self, server: SignalingServer, hub: CountingHub, recordings: Recordings) -> None:
        self.server = server
        self.hub = hub
        self.recordings = recordings

    def collect(self) -> Iterable[Metric]:
        server, stats = self.server, self.recordings.stats
        yield GaugeMetricFamily(
            "sifa_signaling_connections",
            "Open signaling connections (browsers, devices and the server's recorder).",
            value=len(server.peers),
        )
        yield GaugeMetricFamily(
            "sifa_signaling_rooms", "Live confirmation rooms on this server.", len(server.rooms)
        )
        yield GaugeMetricFamily(
            "sifa_signaling_participants",
            "Participants connected to a room on this server.",
            value=sum(len(live.peers) for live in server.rooms.values()),
        )
        relayed = CounterMetricFamily(
            "sifa_signaling_messages",
            "Messages delivered to participants, by type (signal: offers, answers, ICE).",
            labels=["kind"],
        )
        for kind, count in sorted(self.hub.delivered.items()):
            relayed.add_metric([kind], count)
        yield relayed
        yield CounterMetricFamily(
            "sifa_signaling_undelivered",
            "Messages for a participant with no seat here any more.",
            value=self.hub.undelivered,
        )
        runs = list(self.recordings.runs.values())
        yield GaugeMetricFamily("sifa_recording_runs", "Hearings being recorded.", len(runs))
        yield GaugeMetricFamily(
            "sifa_recording_segments",
            "Recording segments being written (one per participant connection).",
            value=stats.segments_live,
        )
        failures = CounterMetricFamily(
            "sifa_recording_failures",
            "Recording failures: a whole run, or one segment file.",
            labels=["what"],
        )
        failures.add_metric(["run"], stats.runs_failed)
        failures.add_metric(["segment"], stats.segments_failed)
        yield failures
        live_lost = sum(writer.dropped for run in runs for writer in run.writers)
        yield CounterMetricFamily(
            "sifa_recording_frames_lost",
            "Frames the recorder's encoders could not keep up with and dropped.",
            value=stats.frames_lost_ended + live_lost,
        )
