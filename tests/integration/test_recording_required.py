"""The whole hearing is recorded: with no recording running, identity checks, answers and the
decision are refused, until the judge decides, with reasons, to go on without one (an audited
step the transcript reports) or the recording runs again."""

from __future__ import annotations

from pathlib import Path

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import (
    PASSED,
    ok,
    people,
    record_session,
    review_transcript,
    scheduled_case,
)
from integration.test_transcript_archive import flat_text


async def test_no_record_without_a_recording_unless_the_judge_decides(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/open-session", json={}))
    # Recording: nothing to decide.
    why = {"reason": "录像设备故障，当事人同意继续"}
    live = await judge.post(f"{path}/session/without-recording", json=why)
    await error_of(live, 409, "recording")

    await ok(await judge.post(f"{path}/recording/stop", json={}))
    refused = await judge.post(f"{path}/session/identity", json={"party": 0, **PASSED})
    body = await error_of(refused, 409, "not_recording")
    assert "庭审录像未在进行" in body["message"] and "not being recorded" in body["message"]
    # Only the judge decides, and only with a reason.
    await error_of(
        await kiosk.post(f"{path}/session/without-recording", json=why), 403, "forbidden"
    )
    blank = await judge.post(f"{path}/session/without-recording", json={"reason": " "})
    await error_of(blank, 422, "validation_failed")
    await ok(await judge.post(f"{path}/session/without-recording", json=why))

    # Now the hearing goes on, to a ruling whose transcript says so.
    await record_session(judge, kiosk, case_id)
    await ok(await judge.post(f"{path}/decision", json={"decision": "confirm"}))
    await review_transcript(kiosk, case_id)
    await ok(await judge.post(f"{path}/ruling", json={}), 201)
    pdf = tmp_path / "transcript.pdf"
    pdf.write_bytes(await (await clerk.get(f"{path}/transcript.pdf")).read())
    assert "决定在无录像的情况下继续，理由：录像设备故障，当事人同意继续。" in flat_text(pdf)
    timeline = await ok(await clerk.get(f"{path}/timeline"))
    kinds = [i["kind"] for i in timeline["timeline"]]
    assert "without_recording" in kinds and "recording.stopped" in kinds


async def test_a_decision_to_go_on_lasts_until_the_recording_stops_again(sifa: Sifa) -> None:
    mediator, clerk, judge, _kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/open-session", json={}))
    await ok(await judge.post(f"{path}/recording/stop", json={}))
    await ok(await judge.post(f"{path}/session/without-recording", json={"reason": "设备故障"}))
    # The recording comes back, then stops again: the earlier decision no longer covers it.
    await ok(await judge.post(f"{path}/recording/restart", json={}))
    await ok(await judge.post(f"{path}/recording/stop", json={}))
    refused = await judge.post(f"{path}/session/identity", json={"party": 0, **PASSED})
    await error_of(refused, 409, "not_recording")
