"""One recorder in one room: its seat, its peer and the rows of the segments it writes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.recording.ice import rtc_configuration
from app.recording.peer import RECORDER_ID, RECORDER_NAME, RecorderPeer, SegmentStart
from app.recording.settings import ACTOR, FAILED, RECORDING
from app.recording.writer import EncoderSettings, OpenOutput, SegmentWriter, WrittenFile, open_mp4
from app.store.models import RecordingSegment
from signaling.local import LocalConnection
from signaling.room_keys import mediation_of
from signaling.tokens import issue_room_token

if TYPE_CHECKING:
    from app.recording.service import Recordings


class Run:
    """One recorder in one room; implements peer.RunSink."""

    def __init__(self, owner: Recordings, case_id: int, run_id: int, folder: Path) -> None:
        self.owner = owner
        self.case_id = case_id
        self.run_id = run_id
        self.folder = folder
        self.failure: str | None = None
        self.writers: list[SegmentWriter] = []
        self.connection = LocalConnection(owner.server)
        self.peer = RecorderPeer(
            self.connection,
            case_id=case_id,
            token=self._token,
            folder=folder,
            # Fresh TURN credentials for every capture: a hearing may outlast their lifetime.
            config=lambda: rtc_configuration(owner.ice, owner.wall_clock()),
            sink=self,
            wall_clock=owner.wall_clock,
        )
        self.task: asyncio.Task[None] | None = None
        self.ending: asyncio.Task[None] | None = None

    def _token(self) -> str:
        return issue_room_token(
            self.owner.server.config.secret,
            case_id=self.case_id,
            participant_id=RECORDER_ID,
            role="recorder",
            display_name=RECORDER_NAME,
            ttl_seconds=60,
            now=self.owner.wall_clock(),
        )

    # -- RunSink --------------------------------------------------------------------------

    def new_writer(self, start: SegmentStart) -> SegmentWriter:
        loop = asyncio.get_running_loop()

        def failed(exc: Exception) -> None:
            loop.call_soon_threadsafe(self.failed, f"{start.path.name}: {exc}")

        writer = self.owner.writer_factory(start.path, self.owner.config.encoder, failed)
        self.writers.append(writer)
        self.owner.stats.segments_opened += 1
        return writer

    async def segment_opened(self, start: SegmentStart) -> int:
        row = RecordingSegment(
            run_id=self.run_id,
            case_id=self.case_id,
            participant_id=start.who.participant_id,
            role=start.who.role,
            display_name=start.who.name[:100],
            number=start.number,
            storage_name=str(start.path.relative_to(self.owner.config.directory)),
            state=RECORDING,
            started_at=start.started_at,
            has_audio=False,
            has_video=False,
            video_frames=0,
        )
        async with self.owner.db.transaction() as session:
            session.add(row)
            await session.flush()
            return row.id

    async def segment_closed(
        self, segment_id: int, start: SegmentStart, result: WrittenFile | None, error: str | None
    ) -> None:
        await self.owner.close_segment(self.case_id, segment_id, start, result, error)

    def failed(self, reason: str) -> None:
        if self.failure is not None or self.ending is not None:
            return
        self.failure = reason
        self.ending = asyncio.ensure_future(self.owner.end_run(self, FAILED, reason))

    def room_empty(self) -> None:
        if mediation_of(self.case_id) is not None:
            # A mediation's session is recorded whole: its mediator has no recording controls
            # to start it again, so the recorder keeps its seat for whoever comes back, until
            # the session ends (app/web/mediation_recording.py).
            return
        self.owner.spawn(self.owner.stop(self.case_id, "room_empty", ACTOR))


WriterFactory = Callable[[Path, EncoderSettings, Callable[[Exception], None]], SegmentWriter]


def mp4_writers(open_output: OpenOutput = open_mp4) -> WriterFactory:
    def make(path: Path, settings: EncoderSettings, failed: Callable[[Exception], None]) -> Any:
        return SegmentWriter(path, settings, open_output=open_output, on_failure=failed)

    return make
