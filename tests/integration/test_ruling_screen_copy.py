"""The ruling's screen copy: what a kiosk or a party's screen shows is the issued text, block for
block the words of the signed original, with every ID number masked; reading it is audited and
refused to everyone the original is refused to."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.domain.people import mask_id
from app.keys import SERVICES
from app.ruling.desk import IssuedText
from app.ruling.model import RulingData
from app.ruling.screen import NOT_YET_ISSUED
from app.services import audit

from integration.api_support import ID_SHAPED, error_of
from integration.conftest import Sifa
from integration.ruling_flow import (
    add_other_court_clerk,
    decided_case,
    ok,
    people,
    record_session,
    review_transcript,
    scheduled_case,
)
from integration.test_party_room import ID_NUMBERS
from integration.test_transcript_archive import flat_text

CONFIRM = {"decision": "confirm"}
REJECT = {"decision": "reject", "ground": "not_voluntary"}


def unmasked(text: str) -> str:
    for number in ID_NUMBERS:
        text = text.replace(mask_id(number), number)
    return "".join(text.split())


async def test_the_screen_copy_is_the_signed_text_with_id_numbers_masked(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    for decision, words in ((CONFIRM, "确认"), (REJECT, "驳回")):
        case_id = await decided_case(mediator, clerk, judge, decision, kiosk=kiosk)
        screen = f"/api/cases/{case_id}/ruling/screen"
        await error_of(await kiosk.get(screen), 404, "not_found")  # nothing issued yet
        issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)

        copy = await ok(await kiosk.get(screen))
        raw = json.dumps(copy, ensure_ascii=False)
        # No full ID number anywhere in the answer. The ruling's SHA-256 is left out of the
        # search: its hex digits hold a run of 18 decimal ones about once in a hundred rulings.
        assert not ID_SHAPED.search(raw.replace(copy["sha256"], "")), raw
        for number in ID_NUMBERS:
            assert raw.count(mask_id(number)) == 1, raw
        assert copy["masked"] is True and copy["sha256"] == issued["sha256"]
        assert copy["verify_url"] == issued["verify_url"]
        kinds = [b["kind"] for b in copy["blocks"]]
        assert kinds[:3] == ["court", "title", "right"] and "sign" in kinds and "qr" in kinds
        assert any(words in b.get("text", "") for b in copy["blocks"])

        # Block for block, the same words as the signed original the parties are served.
        pdf = tmp_path / f"{case_id}.pdf"
        pdf.write_bytes(await (await kiosk.get(f"/api/cases/{case_id}/ruling.pdf")).read())
        # Page footers fall inside a paragraph that runs over a page break.
        original = re.sub(r"第\d+页共\d+页", "", flat_text(pdf))
        for block in copy["blocks"]:
            for part in (block.get("text"), block.get("left"), block.get("right")):
                if part:
                    assert unmasked(part) in original, (block, original)

        # Each reading is on the case's record, as the download is.
        async with sifa.app[SERVICES].db.transaction() as session:
            events = await audit.events_for_case(session, case_id)
        shown = [e for e in events if e.action == "ruling.displayed"]
        assert [e.actor for e in shown] == ["kiosk1"], [e.action for e in events]
        assert json.loads(shown[0].details)["sha256"] == issued["sha256"]


async def test_the_screen_copy_is_refused_like_the_original(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    screen = f"/api/cases/{case_id}/ruling/screen"
    # The case's people read it; nobody else learns the case exists.
    for reader in (judge, clerk, mediator):
        await ok(await reader.get(screen))
    other_clerk = await add_other_court_clerk(sifa)
    await error_of(await other_clerk.get(screen), 404, "not_found")
    await error_of(await kiosk.get("/api/cases/999999/ruling/screen"), 404, "not_found")
    anonymous = await sifa.make_client(sifa.app)
    assert (await anonymous.get(screen)).status == 401


async def test_a_ruling_without_a_screen_copy_says_so(sifa: Sifa) -> None:
    """A ruling issued before screen copies existed has none: the kiosk is told to print or
    save the original, in both languages, and nothing is audited as shown."""
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    desk = sifa.app[SERVICES].desk
    signed_with_copy = desk.ruling

    async def signed_without_copy(data: RulingData) -> IssuedText:
        return IssuedText((await signed_with_copy(data)).pdf, None)

    desk.ruling = signed_without_copy  # type: ignore[method-assign]
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    refused = await error_of(
        await kiosk.get(f"/api/cases/{case_id}/ruling/screen"), 404, "not_found"
    )
    assert "原件" in refused["message"] and "original" in refused["message"]
    assert (await kiosk.get(f"/api/cases/{case_id}/ruling.pdf")).status == 200  # the original
    async with sifa.app[SERVICES].db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
    assert "ruling.displayed" not in [e.action for e in events]


async def test_the_judge_reads_the_draft_between_decision_and_signing(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    draft = f"/api/cases/{case_id}/ruling/draft"
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await record_session(judge, kiosk, case_id)
    # Before the decision there is nothing to preview: the lifecycle says so.
    assert (await judge.get(draft)).status == 409
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json=CONFIRM))

    preview = await ok(await judge.get(draft))
    assert preview["draft"] is True and preview["masked"] is True
    raw = json.dumps(preview, ensure_ascii=False)
    assert not ID_SHAPED.search(raw)
    (qr,) = [b for b in preview["blocks"] if b["kind"] == "qr"]
    assert qr["right"] == NOT_YET_ISSUED and "/verify/" not in raw
    # Only the judge who would sign reads it; another court's clerk does not see the case.
    assert (await clerk.get(draft)).status == 403
    assert (await kiosk.get(draft)).status == 403
    await error_of(await (await add_other_court_clerk(sifa)).get(draft), 404, "not_found")

    # Signed the same day, the ruling says word for word what the draft said (bar the QR
    # address, drawn at issue).
    await review_transcript(kiosk, case_id)
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    issued = await ok(await judge.get(f"/api/cases/{case_id}/ruling/screen"))
    without_qr = [b for b in issued["blocks"] if b["kind"] != "qr"]
    assert without_qr == [b for b in preview["blocks"] if b["kind"] != "qr"]
    await error_of(await judge.get(draft), 409, "already_issued")
