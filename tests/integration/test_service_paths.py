"""Service only as each party chose it (人民法院在线诉讼规则 art 29): electronic service needs
the party's own yes, asked in its own tap, and the voucher states when it was given; a party who
says no is served on paper: the kiosk prints the 送达回证, the clerk records it signed, and the
case is served when every party is, whichever the path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.domain.clock import court_date
from app.ruling.pki import build_nss_db

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import decided_case, ok, people, sign_for
from integration.test_transcript_archive import flat_text, tool

CONFIRM = {"decision": "confirm"}


def choice(party: int, electronic: bool) -> dict[str, object]:
    return {"party": party, "electronic": electronic}


async def test_electronic_service_needs_the_partys_own_yes(sifa: Sifa, tmp_path: Path) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    path = f"/api/cases/{case_id}"

    # Not asked yet: no receipt, and so no voucher that would claim a consent.
    refused = await kiosk.post(f"{path}/receipts", json={"party": 0})
    body = await error_of(refused, 409, "service_choice_pending")
    assert "是否同意电子送达" in body["message"]
    # Only the party answers, at the kiosk: not the judge or the clerk; a malformed answer is
    # refused with the field named.
    for other in (judge, clerk):
        await error_of(
            await other.post(f"{path}/service/choice", json=choice(0, True)), 403, "forbidden"
        )
    bad = await kiosk.post(f"{path}/service/choice", json={"party": 0, "electronic": "yes"})
    assert (await error_of(bad, 422, "validation_failed"))["fields"][0]["field"] == "electronic"

    sifa.clock.now += dt.timedelta(seconds=30)
    agreed_at = sifa.clock.now
    state = await ok(await kiosk.post(f"{path}/service/choice", json=choice(0, True)))
    assert state["parties"][0]["service"] == {"electronic": True, "at": agreed_at.isoformat()}
    # Asked once: the answer the voucher rests on does not change.
    again = await kiosk.post(f"{path}/service/choice", json=choice(0, False))
    await error_of(again, 409, "service_chosen")

    sifa.clock.now += dt.timedelta(seconds=30)
    receipt = await ok(await kiosk.post(f"{path}/receipts", json={"party": 0}), 201)
    pdf = tmp_path / "voucher.pdf"
    pdf.write_bytes(await (await clerk.get(f"{path}/vouchers/0.pdf")).read())
    beijing = agreed_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    day = f"{beijing.year}年{beijing.month}月{beijing.day}日"
    stamp = f"{day}{beijing:%H}时{beijing:%M}分{beijing:%S}秒"
    assert f"受送达人于{stamp}（北京时间）表示同意电子送达。" in flat_text(pdf)
    assert receipt["device"] == "光明社区在线司法确认室一"

    # The audit trail and the timeline carry the answer.
    timeline = await ok(await clerk.get(f"{path}/timeline"))
    kinds = [i["kind"] for i in timeline["timeline"]]
    assert "service_choice" in kinds
    # A party served already is not asked again.
    await error_of(
        await kiosk.post(f"{path}/service/choice", json=choice(0, True)),
        409,
        "already_acknowledged",
    )


async def test_a_party_who_says_no_is_served_on_paper(sifa: Sifa, tmp_path: Path) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    path = f"/api/cases/{case_id}"
    form = f"{path}/paper-forms/1.pdf"
    # No ruling yet: nothing to print or record, though the party may already answer.
    await ok(await kiosk.post(f"{path}/service/choice", json=choice(1, False)))
    await error_of(await kiosk.get(form), 409, "wrong_state")
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)

    # The party said no: no electronic receipt for them, and no form for the other party.
    refused = await kiosk.post(f"{path}/receipts", json={"party": 1})
    assert "纸质送达" in (await error_of(refused, 409, "paper_service"))["message"]
    await error_of(await kiosk.get(f"{path}/paper-forms/0.pdf"), 409, "service_choice_pending")

    # The kiosk prints the 送达回证: signed by the court, with the facts on record.
    printed = await kiosk.get(form)
    assert printed.status == 200 and printed.content_type == "application/pdf"
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(await printed.read())
    text = flat_text(pdf)
    for needle in ("送达回证", "受送达人赵六", "送达方式直接送达（纸质）", "表示不同意电子送达"):
        assert needle in text, needle
    nss = build_nss_db(tmp_path / "nss", sifa.settings.certs_dir / "dev-root-ca.pem")
    assert "Signature is Valid." in tool("pdfsig", "-nssdir", nss, str(pdf)).stdout

    # The other party signs on screen; the hall is done, the case waits for the paper.
    await ok(await sign_for(kiosk, case_id, 0), 201)
    assert (await ok(await clerk.get(path)))["state"] == "ruling_issued"

    # The clerk records the signed form: only the clerk, only a real date, only once.
    today = court_date(sifa.clock.now)
    good = {"party": 1, "signed_on": today.isoformat(), "note": "当场交回"}
    await error_of(await judge.post(f"{path}/paper-receipts", json=good), 403, "forbidden")
    await error_of(await kiosk.post(f"{path}/paper-receipts", json=good), 403, "forbidden")
    for bad_date in ("yesterday", (today - dt.timedelta(days=1)).isoformat(), None):
        bad = await clerk.post(f"{path}/paper-receipts", json={**good, "signed_on": bad_date})
        problem = (await error_of(bad, 422, "validation_failed"))["fields"][0]
        assert problem["field"] == "signed_on"
    id_number = {**good, "note": "身份证440300199001010014"}
    await error_of(
        await clerk.post(f"{path}/paper-receipts", json=id_number), 422, "validation_failed"
    )
    wrong_party = await clerk.post(f"{path}/paper-receipts", json={**good, "party": 0})
    await error_of(wrong_party, 409, "electronic_service")

    recorded = await ok(await clerk.post(f"{path}/paper-receipts", json=good), 201)
    assert recorded["party"] == 1 and recorded["recipient"] == "赵六"
    assert recorded["signed_on"] == today.isoformat() and recorded["recorded_by"] == "clerk"
    assert (await ok(await clerk.get(path)))["state"] == "served"
    again = await clerk.post(f"{path}/paper-receipts", json=good)
    await error_of(again, 409, "already_acknowledged")
    listed = await ok(await clerk.get(f"{path}/receipts"))
    assert [r["party"] for r in listed["receipts"]] == [0]
    assert [r["party"] for r in listed["paper_receipts"]] == [1]
    timeline = await ok(await clerk.get(f"{path}/timeline"))
    kinds = [i["kind"] for i in timeline["timeline"]]
    assert "service.paper_form" in kinds and "service.paper_recorded" in kinds
