"""Hearing recordings over HTTP: state and alert, restart, playback page and the media files.

Only the case's assigned judge and clerks of its court see recordings; everyone else gets
the answer they get for the case itself (404), or 403 when they may see the case but not its
recordings (mediator, kiosk). Media is served with HTTP range support (web.FileResponse).

The view of a room's recording, its media and its playback page are built here for any room
key (signaling/room_keys.py): a mediation's recording (app/web/mediation_recording.py) reuses
them with its own access rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.cases import HEARING, State
from app.domain.clock import court_time
from app.domain.errors import NotFound, NotPermitted, WrongState
from app.domain.live import LIVE_STATES
from app.domain.roles import Role
from app.domain.state_words import wrong_state
from app.keys import Services, services
from app.recording import timeline
from app.recording.restart import HEARING_OVER
from app.recording.routing import RECORDING_CONTROL
from app.recording.service import RECORDINGS_KEY
from app.recording.settings import FAILED, PLAYABLE, RECORDING, STOPPED
from app.services import audit, recording_required
from app.services.cases import load_case
from app.store.models import Case, RecordingRun, RecordingSegment
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.pages import render

INDICATOR = {
    RECORDING: ("on", "录像中", "Recording"),
    FAILED: ("alert", "录像故障，请重新开始录像", "Recording FAILED: restart it"),
    STOPPED: ("off", "录像已结束", "Recording ended"),
    "idle": ("off", "未录像", "Not recording"),
}


async def _case_for_recordings(session: AsyncSession, actor: Actor, case_id: int) -> Case:
    case = await load_case(session, actor, case_id)
    if actor.role not in (Role.CLERK, Role.JUDGE):
        raise NotPermitted(
            "只有承办审判员和本院书记员可以查看庭审录像。 / Only the assigned judge and the "
            "court's clerks may see hearing recordings."
        )
    return case


def _judge_only(actor: Actor) -> None:
    if actor.role is not Role.JUDGE:
        raise NotPermitted("只有承办审判员可以操作录像。 / Only the assigned judge controls it.")


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") if value is not None else None


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return court_time(value).strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"


async def recording_view(request: web.Request, case: Case, session: AsyncSession) -> dict[str, Any]:
    base = f"/api/cases/{case.id}/recording/segments"
    view, live = await room_view(request, session, case.id, base)
    runs = view["runs"]
    return {
        "case_id": case.id,
        "case_number": case.case_number,
        **view,
        # The hearing is on and nothing records it: records are refused (not_recording) until
        # the recording runs again or the judge decides, with reasons, to go on without it.
        "missing": not live
        and State(case.state) in HEARING
        and not (runs and runs[-1]["end_reason"] in HEARING_OVER)
        and not (await recording_required.facts_of(session, case)).allowed,
    }


async def room_view(
    request: web.Request, session: AsyncSession, key: int, media_base: str
) -> tuple[dict[str, Any], bool]:
    """The recording of the room with this key: state, runs, segments (their media under
    media_base) and the timeline; and whether a run is live right now."""
    recordings = request.app[RECORDINGS_KEY]
    runs = list(
        (
            await session.scalars(
                select(RecordingRun)
                .where(RecordingRun.case_id == key)
                .order_by(RecordingRun.started_at, RecordingRun.id)
            )
        ).all()
    )
    segments = list(
        (
            await session.scalars(
                select(RecordingSegment)
                .where(RecordingSegment.case_id == key)
                .order_by(RecordingSegment.started_at, RecordingSegment.id)
            )
        ).all()
    )
    live, live_failure = await request.app[RECORDING_CONTROL].live_failure(key)
    failure: str | None = None
    if live:
        # A failure shows at once, while the run is still being wound down.
        state, failure = (FAILED, live_failure) if live_failure else (RECORDING, None)
    elif runs:
        state = runs[-1].state
        failure = runs[-1].failure if state == FAILED else None
    else:
        state = "idle"
    now = dt.datetime.fromtimestamp(recordings.wall_clock(), dt.UTC)
    line = timeline.build(
        [timeline.RunSpan(r.id, r.started_at, r.ended_at, r.state) for r in runs],
        [
            timeline.SegmentSpan(
                s.id,
                s.run_id,
                s.participant_id,
                s.role,
                s.display_name,
                s.started_at,
                s.ended_at,
                s.state,
            )
            for s in segments
        ],
        now,
    )
    level, zh, en = INDICATOR.get(state, INDICATOR["idle"])
    view = {
        "state": state,
        "indicator": {"level": level, "zh": zh, "en": en},
        "failure": failure,
        "runs": [
            {
                "id": r.id,
                "state": r.state,
                "started_at": _iso(r.started_at),
                "ended_at": _iso(r.ended_at),
                "end_reason": r.end_reason,
                "failure": r.failure,
                # Which server records (or recorded) it: with several, any may be asked.
                "node": r.node,
            }
            for r in runs
        ],
        "segments": [
            {
                "id": s.id,
                "run": s.run_id,
                "participant_id": s.participant_id,
                "role": s.role,
                "name": s.display_name,
                "number": s.number,
                "state": s.state,
                "started_at": _iso(s.started_at),
                "ended_at": _iso(s.ended_at),
                "started_local": _local(s.started_at),
                "ended_local": _local(s.ended_at),
                "duration_seconds": s.duration_seconds,
                "sha256": s.sha256,
                "size_bytes": s.size_bytes,
                "has_audio": s.has_audio,
                "has_video": s.has_video,
                "video_frames": s.video_frames,
                # Why a segment is not "closed": a writer's failure, or the interruption
                # a recovered segment was sealed after.
                "reason": s.failure,
                "url": f"{media_base}/{s.id}/media" if s.state in PLAYABLE else None,
            }
            for s in segments
        ],
        "timeline": [
            {
                "kind": e.kind,
                "start": _iso(e.start),
                "end": _iso(e.end),
                "start_local": _local(e.start),
                "end_local": _local(e.end),
                "seconds": e.seconds,
                "participant_id": e.participant_id,
                "segment_id": e.segment_id,
                "open": e.open,
            }
            for e in line.entries
        ],
    }
    return view, live


async def get_recording(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await _case_for_recordings(session, who.actor, path_id(request))
        view = await recording_view(request, case, session)
    return web.json_response(view)


async def _control(request: web.Request, verb: str) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    control = request.app[RECORDING_CONTROL]
    async with svc.db.transaction() as session:
        case = await _case_for_recordings(session, who.actor, path_id(request))
        _judge_only(who.actor)
        if verb != "stop" and State(case.state) not in LIVE_STATES:
            raise WrongState(wrong_state(case.state, "在确认室录像", "record in the room"))
        case_id = case.id
    if verb == "start":
        await control.start(case_id, who.actor.username)
    elif verb == "restart":
        await control.restart(case_id, who.actor.username)
    else:
        await control.stop(case_id, "judge", who.actor.username)
    async with svc.db.transaction() as session:
        case = await _case_for_recordings(session, who.actor, case_id)
        view = await recording_view(request, case, session)
    return web.json_response(view)


async def start(request: web.Request) -> web.Response:
    return await _control(request, "start")


async def restart(request: web.Request) -> web.Response:
    return await _control(request, "restart")


async def stop(request: web.Request) -> web.Response:
    return await _control(request, "stop")


async def media(request: web.Request) -> web.StreamResponse:
    who = require_caller(request)
    svc = services(request)
    segment_id = path_id(request, "segment_id")
    async with svc.db.transaction() as session:
        case = await _case_for_recordings(session, who.actor, path_id(request))
        storage_name = await playable(session, case.id, segment_id)
    return media_file(request, storage_name)


async def playable(session: AsyncSession, key: int, segment_id: int) -> str:
    """The storage name of a playable segment of the room with this key; another room's
    segment is as unknown as a missing one."""
    segment = await session.get(RecordingSegment, segment_id)
    if segment is None or segment.case_id != key or segment.state not in PLAYABLE:
        raise NotFound(f"没有编号为 {segment_id} 的录像。 / No recording {segment_id}.")
    return segment.storage_name


def media_file(request: web.Request, storage_name: str) -> web.FileResponse:
    path = request.app[RECORDINGS_KEY].config.directory / storage_name
    if not path.is_file():
        raise NotFound("录像文件不存在。 / The recording file is missing.")
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


async def playback_page(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await _case_for_recordings(session, who.actor, path_id(request))
        view = await recording_view(request, case, session)
        await viewed(session, svc, who.actor, case.id)
    return render(request, "playback.html", {"rec": view})


async def viewed(session: AsyncSession, svc: Services, actor: Actor, key: int) -> None:
    """Every look at a playback page is in the room's trail."""
    await audit.append(
        session,
        actor=actor.username,
        action="recording.viewed",
        case_id=key,
        details={},
        now=svc.clock(),
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/cases/{case_id}/recording", get_recording),
        web.post("/api/cases/{case_id}/recording/start", start),
        web.post("/api/cases/{case_id}/recording/restart", restart),
        web.post("/api/cases/{case_id}/recording/stop", stop),
        web.get("/api/cases/{case_id}/recording/segments/{segment_id}/media", media),
        web.get("/cases/{case_id}/recording", playback_page),
    ]
