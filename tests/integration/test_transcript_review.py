"""The parties review the transcript before it is archived (民事诉讼法 art 150, 人民法院在线诉讼
规则 art 34): each confirms the very draft shown, a correction asked for is granted or refused
by the judge and recorded, a party's refusal to sign is noted, and the ruling (with the
transcript) is issued only once every party is settled. The archived PDF says all of it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import (
    add_other_court_clerk,
    ok,
    people,
    record_session,
    scheduled_case,
)
from integration.test_transcript_archive import flat_text

CONFIRM = {"decision": "confirm"}


async def test_the_parties_confirm_correct_or_refuse_before_the_transcript_is_archived(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/open-session", json={}))
    await record_session(judge, kiosk, case_id)
    # Nothing to review before the decision.
    await error_of(await kiosk.get(f"{path}/transcript/draft"), 409, "wrong_state")
    await ok(await judge.post(f"{path}/decision", json=CONFIRM))

    draft = await ok(await kiosk.get(f"{path}/transcript/draft"))
    first = draft["sha256"]
    texts = [b.get("text", "") for b in draft["blocks"]]
    assert "笔录" in texts and not draft["ready"]
    assert [p["name"] for p in draft["parties"]] == ["张三", "赵六"]
    # The ruling waits for the parties.
    body = await error_of(
        await judge.post(f"{path}/ruling", json={}), 409, "transcript_unconfirmed"
    )
    assert "张三、赵六" in body["message"]

    # Who may do what: the parties at the kiosk confirm and ask; the judge decides.
    confirm = {"party": 0, "draft_sha256": first}
    for other in (judge, clerk, mediator):
        refused = await other.post(f"{path}/transcript/confirm", json=confirm)
        assert refused.status in (403, 404), await refused.text()
    correction = {
        "party": 1,
        "request": "我说的是分两期付款",
        "granted": True,
        "text": "分两期支付",
    }
    await error_of(
        await kiosk.post(f"{path}/transcript/corrections", json=correction), 403, "forbidden"
    )
    outsider = await add_other_court_clerk(sifa)
    await error_of(await outsider.get(f"{path}/transcript/draft"), 404, "not_found")

    # 张三 confirms what the kiosk showed; a stale or repeated confirmation is refused.
    stale = await kiosk.post(
        f"{path}/transcript/confirm", json={**confirm, "draft_sha256": "0" * 64}
    )
    await error_of(stale, 409, "transcript_changed")
    state = await ok(await kiosk.post(f"{path}/transcript/confirm", json=confirm))
    assert state["parties"][0]["confirmed"] and not state["ready"]
    await error_of(
        await kiosk.post(f"{path}/transcript/confirm", json=confirm), 409, "transcript_confirmed"
    )

    # 赵六 asks for a correction; the judge grants it: the draft changes, 张三 must read again.
    sifa.clock.now += dt.timedelta(seconds=20)
    state = await ok(await kiosk.post(f"{path}/transcript/ask", json={"party": 1}))
    assert state["parties"][1]["asked_at"]
    state = await ok(await judge.post(f"{path}/transcript/corrections", json=correction))
    second = state["sha256"]
    assert second != first and not state["parties"][1]["asked_at"]
    assert state["parties"][0]["stale"] and not state["parties"][0]["confirmed"]
    # 张三 asks too; the judge refuses that one, with the reason.
    refusal = {
        "party": 0,
        "request": "要求删除关于调解员的记录",
        "granted": False,
        "text": "该记录与录像一致",
    }
    state = await ok(await judge.post(f"{path}/transcript/corrections", json=refusal))
    third = state["sha256"]
    await ok(
        await kiosk.post(f"{path}/transcript/confirm", json={"party": 0, "draft_sha256": third})
    )

    # 赵六 refuses to sign: the judge notes it, and 赵六 can no longer confirm.
    bad = {"party": 1, "reason": "gone"}
    await error_of(
        await judge.post(f"{path}/transcript/not-signed", json=bad), 422, "validation_failed"
    )
    confirmed_already = await judge.post(
        f"{path}/transcript/not-signed", json={"party": 0, "reason": "refused"}
    )
    await error_of(confirmed_already, 409, "transcript_confirmed")
    noted = {"party": 1, "reason": "refused", "note": "称不愿签字"}
    state = await ok(await judge.post(f"{path}/transcript/not-signed", json=noted))
    assert state["ready"] and state["parties"][1]["not_signed"] == "refused"
    late = {"party": 1, "draft_sha256": third}
    await error_of(
        await kiosk.post(f"{path}/transcript/confirm", json=late), 409, "transcript_not_signed"
    )

    # Now the ruling, and the transcript archived with it, stating each review.
    await ok(await judge.post(f"{path}/ruling", json={}), 201)
    await error_of(await kiosk.get(f"{path}/transcript/draft"), 409, "wrong_state")
    pdf = tmp_path / "transcript.pdf"
    pdf.write_bytes(await (await clerk.get(f"{path}/transcript.pdf")).read())
    text = flat_text(pdf)
    for sentence in (
        "七、笔录补正",
        "申请人赵六申请补正笔录：我说的是分两期付款。审判员准许补正，补正如下：分两期支付。",
        "申请人张三申请补正笔录：要求删除关于调解员的记录。审判员不予补正，理由：该记录与录像一致。"
        "该申请记录在案。",
        "八、笔录核对",
        "依照《中华人民共和国民事诉讼法》第一百五十条、《人民法院在线诉讼规则》第三十四条，"
        "本笔录在裁定宣布后向申请人展示，由申请人在线核对。",
        "在确认室终端上核对笔录无误并确认签名。",
        "申请人赵六：拒绝签名（称不愿签字），记明在案。",
    ):
        assert sentence in text, sentence
    assert "申请人张三：于" in text

    # The timeline lists each review step, without the words said.
    timeline = await ok(await clerk.get(f"{path}/timeline"))
    kinds = [i["kind"] for i in timeline["timeline"]]
    for kind in ("transcript_confirmed", "transcript_correction_asked", "transcript_correction"):
        assert kind in kinds, kind
    assert "分两期付款" not in str(timeline)


async def test_a_withdrawal_before_any_session_needs_no_review(sifa: Sifa) -> None:
    mediator, clerk, judge, _kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    path = f"/api/cases/{case_id}"
    await ok(await judge.post(f"{path}/decision", json={"decision": "withdraw"}))
    await error_of(await judge.get(f"{path}/transcript/draft"), 409, "wrong_state")
    await ok(await judge.post(f"{path}/ruling", json={}), 201)
