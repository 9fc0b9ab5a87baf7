"""The server restarts mid-hearing (its app shuts down and a new one starts on the same data and
port), in real Chromium: the kiosk and the judge's console come back by themselves (the kiosk
says it is reconnecting, never asks for a button; the judge lets the kiosk back in by itself),
the recording starts again by itself, the hearing completes, and the transcript and the
timeline say when the recording stopped and when it resumed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from cluster.cluster_support import free_port
from sqlalchemy import select

from app.keys import SERVICES
from app.main import create_app, utc_now
from app.store.models import AuditEvent, RecordingRun

from e2e.session_helpers import (
    api_headers,
    assert_video_plays,
    judge_admits,
    kiosk_consents,
    kiosk_into_lobby,
    login,
    screenshot_path,
    verify_identities,
)
from e2e.test_presence_pages import answers_to_the_ruling, archived_transcript
from e2e.test_ruling_pages import booked_case
from integration.conftest import make_settings, prepare

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def serve(settings: Any, port: int) -> TestServer:
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    return server


async def test_everyone_comes_back_and_the_recording_resumes(browser: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    await prepare(settings, utc_now())
    port = free_port()
    server = await serve(settings, port)
    base = f"http://127.0.0.1:{port}"
    try:
        case_id = await booked_case(base)
        kiosk = await login(browser, base, "kiosk1")
        judge = await login(browser, base, "judge")
        await kiosk_into_lobby(kiosk, base, case_id, "restart")
        await judge_admits(judge, base, case_id, "restart")
        await assert_video_plays(kiosk, "#remote-video")
        await verify_identities(judge)

        # The server goes down mid-inquiry and comes back on the same data.
        await server.close()
        await kiosk.wait_for_selector("#lobby[data-state='reconnecting']", state="attached")
        assert "正在重新连接" in await kiosk.inner_text("#lobby-text")
        await kiosk.screenshot(path=screenshot_path("restart-kiosk-reconnecting"), full_page=False)
        server = await serve(settings, port)

        # Nobody presses anything: both are back in the room, and the video flows again.
        await kiosk.wait_for_selector(
            "#lobby[data-state='admitted']", state="attached", timeout=60_000
        )
        await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
        await assert_video_plays(kiosk, "#remote-video")
        assert await kiosk.is_hidden("#rejoin") and await judge.is_hidden("#join-room")

        # The recording started again by itself, after the stop the shutdown caused.
        db = server.app[SERVICES].db
        async with db.transaction() as session:
            runs = list(
                await session.scalars(
                    select(RecordingRun)
                    .where(RecordingRun.case_id == case_id)
                    .order_by(RecordingRun.id)
                )
            )
            restarted = await session.scalar(
                select(AuditEvent).where(
                    AuditEvent.case_id == case_id, AuditEvent.action == "recording.restarted"
                )
            )
        assert [(r.state, r.end_reason) for r in runs[:1]] == [("stopped", "shutdown")]
        assert runs[-1].state == "recording" and len(runs) == 2
        assert restarted is not None and json.loads(restarted.details)["after"] == "shutdown"

        # The hearing goes on to its end.
        await kiosk_consents(kiosk)
        await answers_to_the_ruling(judge, kiosk, "restart")
        text = await archived_transcript(base, case_id)
        async with aiohttp.ClientSession() as s:
            clerk = await api_headers(s, base, "clerk")
            async with s.get(f"{base}/api/cases/{case_id}/timeline", headers=clerk) as r:
                kinds = [i["kind"] for i in (await r.json())["timeline"]]
        assert "因服务器停止运行而中断，于" in text and "重新开始录像，其间没有录像。" in text
        assert {"recording.stopped", "recording.restarted", "recording.started"} <= set(kinds)
        for page in (kiosk, judge):
            assert not page.errors, page.errors
    finally:
        await server.close()
