"""The people's mediation agreement through the API (People's Mediation Law arts 29, 33): the
mediator drafts it with amounts in figures and in capitals; the text is frozen; each party signs
by hand at the hall's kiosk with a code texted to their own phone; a change voids every
signature; the mediator signs last and the committee seals it with its own key (pyHanko and
pdfsig), the handwriting drawn in; it takes effect then, and the 30 days to apply for
confirmation start."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.domain.clock import COURT_TZ
from app.keys import SERVICES
from app.services.demo import sample_application
from app.store.models import AgreementSignatureRow, AuditEvent
from signaling.room_keys import mediation_room
from signaling.server import SERVER_KEY

from integration.conftest import Sifa
from integration.ruling_flow import Seat, decided_case, ok
from integration.test_admin_accounts import cookie_login
from integration.test_mediation_api import error_of, filed
from integration.test_mediation_filing import texted_code
from integration.test_rulings_per_court import checked, pdfsig
from integration.test_transcript_archive import flat_text, tool

DRAFT = {
    "facts": "2026年11月，赵六驾驶电动车与张三发生碰撞，致张三受伤住院，双方就赔偿数额发生争议",
    "responsibility": "赵六负事故全部责任，张三无责任",
    "terms": [
        {"text": "赵六向张三赔偿医疗费、误工费等各项损失", "amount": "40000", "due": "2026-12-31"},
        {"text": "张三不再就本次事故向赵六主张其他权利"},
    ],
    "performance": "赵六以银行转账方式一次性支付至张三指定账户",
    "base_version": 0,
}


def handwriting(seed: int) -> str:
    """A canvas's export: dark strokes on a transparent ground, as a data URL."""
    image = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.line(
        [(20, 120), (120 + seed * 20, 30), (250, 130), (460, 40)], fill=(0, 0, 0, 255), width=7
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def every_check(
    mediator: TestClient, kiosk: TestClient, mediation_id: int, parties: range = range(2)
) -> None:
    """Each party's identity checked by the mediator, and their three taps at the kiosk."""
    path = f"/api/mediations/{mediation_id}/checks"
    for party in parties:
        await ok(await mediator.post(path, json={"party": party, "check": "identity"}), 201)
        for check in ("consent", "rights", "sham_warning"):
            await ok(await kiosk.post(path, json={"party": party, "check": check}), 201)


async def in_mediation(sifa: Sifa, *, checked: bool = True) -> tuple[TestClient, int]:
    """A mediation filed, accepted by the demo mediator, scheduled and started; each party's
    checks made, unless not `checked`."""
    mediator = await sifa.as_user("mediator")
    case = await filed(mediator, sifa)
    path = f"/api/mediations/{case['id']}"
    me = (await ok(await mediator.get("/api/me")))["id"]
    await ok(await mediator.post(f"{path}/accept", json={"mediator_id": me}))
    at = (sifa.clock.now + dt.timedelta(hours=1)).isoformat()
    await ok(await mediator.post(f"{path}/schedule", json={"scheduled_at": at}))
    await ok(await mediator.post(f"{path}/start", json={}))
    if checked:
        await every_check(mediator, await sifa.as_user("kiosk1"), case["id"])
    return mediator, case["id"]


def phones(sifa: Sifa) -> list[str]:
    return [p["phone"] for p in sample_application(sifa.clock.now.date())["applicants"]]


async def party_signs(
    sifa: Sifa,
    kiosk: TestClient,
    path: str,
    party: int,
    digest: str,
    *,
    code: str | None = None,
    applies: bool = True,
) -> Any:
    await ok(await kiosk.post(f"{path}/sign-code", json={"party": party}), 202)
    body = {
        "party": party,
        "digest": digest,
        "signature": handwriting(party),
        "code": code or await texted_code(sifa, phones(sifa)[party]),
        "apply_for_confirmation": applies,
    }
    return await kiosk.post(f"{path}/party-signatures", json=body)


async def sealed(
    sifa: Sifa,
    applies: tuple[bool, bool] = (True, True),
    *,
    seal: bool = True,
    kiosk_by_video: bool = False,
) -> tuple[TestClient, int]:
    """A mediation whose agreement both parties signed (each applying or not) and the
    committee sealed; with `kiosk_by_video`, the kiosk sat in its video session."""
    mediator, mediation_id = await in_mediation(sifa)
    kiosk = await sifa.as_user("kiosk1")
    if kiosk_by_video:
        key, door = mediation_room(mediation_id), f"/api/mediations/{mediation_id}/room-token"
        seats = [await Seat(c, key, token_path=door).join() for c in (mediator, kiosk)]
        await seats[0].admit(seats[1])
        await sifa.app[SERVER_KEY].audit_flushed()  # the kiosk's join is on record
    path = f"/api/mediations/{mediation_id}/agreement"
    await ok(await mediator.post(f"{path}/draft", json=DRAFT))
    digest = (await ok(await mediator.post(f"{path}/freeze", json={"version": 1})))["digest"]
    for party, yes in enumerate(applies):
        await ok(await party_signs(sifa, kiosk, path, party, digest, applies=yes), 201)
    mine = {"digest": digest, "signature": handwriting(9)}
    await ok(await mediator.post(f"{path}/mediator-signature", json=mine), 201)
    if seal:
        await ok(await mediator.post(f"{path}/seal", json={}), 201)
    if kiosk_by_video:
        for seat in seats:
            await seat.close_quietly()  # the seal closed the room (4010)
    return mediator, mediation_id


async def test_drafted_frozen_signed_by_each_and_sealed_by_the_committee(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator, mediation_id = await in_mediation(sifa)
    kiosk = await sifa.as_user("kiosk1")
    path = f"/api/mediations/{mediation_id}/agreement"
    assert (await ok(await kiosk.get(path)))["status"] is None

    # The mediator drafts; amounts are in figures and in capitals; ID numbers are masked.
    drafted = await ok(await mediator.post(f"{path}/draft", json=DRAFT))
    assert (drafted["status"], drafted["version"], drafted["digest"]) == ("drafting", 1, None)
    text = "".join(b.get("text", "") for b in drafted["blocks"])
    assert "人民调解协议书" in text and "光明街道人民调解委员会" in text
    assert "金额人民币40,000.00元（大写：肆万元整）" in text, text
    assert "于2026年12月31日前履行完毕" in text
    assert "440311" not in text and "*" in text
    # A party cannot edit the draft; a stale screen cannot overwrite a newer version.
    await error_of(await kiosk.post(f"{path}/draft", json=DRAFT), 403, "forbidden")
    await error_of(await mediator.post(f"{path}/draft", json=DRAFT), 409, "stale_draft")
    # Nothing is signed before the text is frozen.
    refused = await party_signs(sifa, kiosk, path, 0, "0" * 64)
    await error_of(refused, 409, "wrong_state")

    frozen = await ok(await mediator.post(f"{path}/freeze", json={"version": 1}))
    sifa.clock.now += dt.timedelta(minutes=2)  # a new code may be texted once a minute
    digest = frozen["digest"]
    assert frozen["status"] == "frozen" and len(digest) == 64

    # Party 0 signs with the code texted to their own phone; the same code cannot sign for
    # party 1, whose code goes to their own phone.
    signed = await ok(await party_signs(sifa, kiosk, path, 0, digest), 201)
    assert [p["signed"] for p in signed["parties"]] == [True, False]
    (record,) = signed["signatures"]
    assert record["proof"].startswith("sms:") and "*" in record["proof"]
    assert record["device"].startswith("调解室终端") and record["counts"] is True
    await ok(await kiosk.post(f"{path}/sign-code", json={"party": 1}), 202)
    stolen = {
        "party": 1,
        "digest": digest,
        "signature": handwriting(1),
        "code": await texted_code(sifa, phones(sifa)[0]),
        "apply_for_confirmation": True,
    }
    await error_of(await kiosk.post(f"{path}/party-signatures", json=stolen), 400, "code_refused")
    # The mediator signs last, and signs only in their own account.
    mine = {"digest": digest, "signature": handwriting(9)}
    await error_of(await mediator.post(f"{path}/mediator-signature", json=mine), 409, "wrong_state")
    await error_of(await mediator.post(f"{path}/party-signatures", json=stolen), 403, "forbidden")

    # A change after one signature voids it: the new text must be frozen and signed again.
    changed = {**DRAFT, "base_version": 1, "performance": "赵六分两期支付，每期20000元"}
    redrafted = await ok(await mediator.post(f"{path}/draft", json=changed))
    assert redrafted["status"] == "drafting" and not any(p["signed"] for p in redrafted["parties"])
    assert [s["counts"] for s in redrafted["signatures"]] == [False]
    refrozen = await ok(await mediator.post(f"{path}/freeze", json={"version": 2}))
    new_digest = refrozen["digest"]
    assert new_digest != digest
    sifa.clock.now += dt.timedelta(minutes=2)  # a new code may be texted once a minute
    await error_of(await party_signs(sifa, kiosk, path, 0, digest), 409, "agreement_changed")

    sifa.clock.now += dt.timedelta(minutes=2)
    for party in (0, 1):
        await ok(await party_signs(sifa, kiosk, path, party, new_digest), 201)
    mine = {"digest": new_digest, "signature": handwriting(9)}
    await ok(await mediator.post(f"{path}/mediator-signature", json=mine), 201)
    sealed_at = sifa.clock.now
    sealed = await ok(await mediator.post(f"{path}/seal", json={}), 201)
    assert sealed["status"] == "sealed" and sealed["effective_at"] == sealed_at.isoformat()
    deadline = dt.datetime.fromisoformat(sealed["confirmation_deadline"])
    assert deadline - sealed_at == dt.timedelta(days=30)
    case = await ok(await mediator.get(f"/api/mediations/{mediation_id}"))
    assert case["state"] == "agreed"

    # The sealed PDF: the committee's signature valid to pyHanko and pdfsig, the three hands
    # drawn in, the full text with the effective date.
    pdf = await (await kiosk.get(f"/api/mediations/{mediation_id}/agreement.pdf")).read()
    root = sifa.settings.certs_dir / "dev-root-ca.pem"
    signature = await checked(pdf, root)
    assert "Common Name: 光明街道人民调解委员会" in signature.signer_subject
    file = tmp_path / "agreement.pdf"
    file.write_bytes(pdf)
    assert "Signature is Valid." in pdfsig(file, root)
    listed = tool("pdfimages", "-list", str(file)).stdout.splitlines()[2:]
    images = [line for line in listed if line.split()[2] == "image"]  # each with its smask
    assert len(images) == 3, listed
    flat = flat_text(file)
    assert "赵六分两期支付" in flat and "440311" in flat  # the original prints ID numbers in full

    # Sealed is final; the record of every signature, void or not, stays.
    await error_of(
        await mediator.post(f"{path}/draft", json={**changed, "base_version": 2}),
        409,
        "wrong_state",
    )
    async with sifa.app[SERVICES].db.transaction() as session:
        rows = list(await session.scalars(select(AgreementSignatureRow)))
        events = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("mediation.agreement.%"))
                .order_by(AuditEvent.seq)
            )
        )
    assert [(r.party_position, r.draft_version) for r in rows] == [
        (0, 1),
        (0, 2),
        (1, 2),
        (None, 2),
    ]
    assert all(r.applies_for_confirmation for r in rows if r.party_position is not None)
    actions = [e.action.removeprefix("mediation.agreement.") for e in events]
    assert actions == ["drafted", "frozen", "signed", "drafted", "frozen"] + ["signed"] * 3 + [
        "sealed"
    ]
    assert json.loads(events[3].details)["signatures_voided"] == 1
    assert all("440311" not in e.details for e in events)


async def test_strangers_are_refused_and_a_signature_after_the_time_limit_too(sifa: Sifa) -> None:
    mediator, mediation_id = await in_mediation(sifa)
    path = f"/api/mediations/{mediation_id}/agreement"
    kiosk = await sifa.as_user("kiosk1")
    # The hall's kiosk finds the session to join, then the agreement to sign; another
    # court's does not.
    listed = (await ok(await kiosk.get("/api/kiosk/agreements")))["agreements"]
    assert [(a["id"], a["frozen"]) for a in listed] == [(mediation_id, False)]
    await ok(await mediator.post(f"{path}/draft", json=DRAFT))
    digest = (await ok(await mediator.post(f"{path}/freeze", json={"version": 1})))["digest"]
    listed = (await ok(await kiosk.get("/api/kiosk/agreements")))["agreements"]
    assert [(a["id"], a["parties"], a["frozen"]) for a in listed] == [
        (mediation_id, ["张三", "赵六"], True)
    ]
    other = await sifa.as_user("kiosk_ns1")
    assert (await ok(await other.get("/api/kiosk/agreements")))["agreements"] == []
    await error_of(await mediator.get("/api/kiosk/agreements"), 403, "forbidden")

    # Another court's kiosk hears the mediation does not exist; the court's people are refused.
    await error_of(await other.get(path), 404, "not_found")
    await error_of(await other.post(f"{path}/sign-code", json={"party": 0}), 404, "not_found")
    for role in ("judge", "clerk"):
        await error_of(await (await sifa.as_user(role)).get(path), 403, "forbidden")

    # Malformed handwriting is refused with the field named; a blank canvas is no signature.
    blank = io.BytesIO()
    Image.new("RGBA", (300, 100), (255, 255, 255, 0)).save(blank, "PNG")
    for bad in (
        "not base64!",
        base64.b64encode(b"GIF89a....").decode(),
        base64.b64encode(blank.getvalue()).decode(),
    ):
        body = {
            "party": 0,
            "digest": digest,
            "signature": bad,
            "code": "123456",
            "apply_for_confirmation": False,
        }
        refused = await error_of(
            await kiosk.post(f"{path}/party-signatures", json=body), 422, "validation_failed"
        )
        assert refused["fields"][0]["field"] == "signature"

    # Thirty days after acceptance the mediation's limit has passed: no signature is taken.
    sifa.clock.now += dt.timedelta(days=31)
    kiosk = await sifa.as_user("kiosk1")
    late = await party_signs(sifa, kiosk, path, 0, digest)
    body = await error_of(late, 409, "time_limit_passed")
    assert "调解期限已过" in body["message"]


async def test_one_tap_to_confirmation_and_a_ruling_that_cites_the_agreement(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator, mediation_id = await sealed(sifa)
    path = f"/api/mediations/{mediation_id}"
    agreement = await ok(await mediator.get(f"{path}/agreement"))
    applied = await ok(await mediator.post(f"{path}/confirmation", json={}), 201)
    case_id = applied["case_id"]
    assert applied["state"] == "submitted"
    await error_of(await mediator.post(f"{path}/confirmation", json={}), 409, "already_applied")
    assert (await ok(await mediator.get(f"{path}/agreement")))["application"] == case_id

    # The application carries the sealed agreement byte for byte, and the mediation's facts.
    case = await ok(await mediator.get(f"/api/cases/{case_id}"))
    material, proof = case["materials"]
    assert material["category"] == "agreement"
    assert material["sha256"] == agreement["pdf_sha256"]
    # With it, the session's transcript (调解笔录), sealed by the committee, every line from a
    # record: the checks, the drafts, the signatures, the seal.
    assert proof["category"] == "committee_proof" and "调解笔录" in proof["filename"]
    transcript = await mediator.get(agreement["transcript"])
    data = await transcript.read()
    assert hashlib.sha256(data).hexdigest() == proof["sha256"]
    await checked(data, sifa.settings.certs_dir / "dev-root-ca.pem")
    file = tmp_path / "transcript.pdf"
    file.write_bytes(data)
    told = flat_text(file)
    for line in (
        "调解笔录",
        "调解员：李华",
        "调解员核验当事人张三的身份",
        "当事人赵六在调解室终端",
        "本人同意通过本平台以视频方式进行人民调解",
        "调解员保存调解协议草稿第1稿",
        "当事人张三在调解室终端",
        "并同意共同申请司法确认",
        "人民调解委员会加盖电子印章，调解协议生效",
    ):
        assert line in told, (line, told)
    # Nobody came in by video: no media recorded, and no claim of it.
    assert "调解过程由平台录像" not in told
    effective = dt.datetime.fromisoformat(agreement["effective_at"]).astimezone(COURT_TZ).date()
    assert case["agreement_date"] == effective.isoformat()
    assert [p["name"] for p in case["parties"]] == ["张三", "赵六"]
    assert "金额人民币40,000.00元（大写：肆万元整）" in case["terms"][0]["text"]

    # Through the court's existing flow to a signed ruling that cites the agreement; on the
    # judge's console, the committee's seal is verified and the file is the one sealed.
    clerk, judge = await sifa.as_user("clerk"), await sifa.as_user("judge")
    kiosk = await sifa.as_user("kiosk1")
    confirm = {"decision": "confirm"}
    decided = await decided_case(mediator, clerk, judge, confirm, kiosk=kiosk, submitted=case_id)
    console = await (
        await (await cookie_login(sifa, "judge")).get(f"/judge/session/{case_id}")
    ).text()
    assert "调解委员会电子印章有效：光明街道人民调解委员会" in console, console
    assert "逐字节一致" in console and 'data-valid="yes"' in console
    await ok(await judge.post(f"/api/cases/{decided}/ruling", json={}), 201)
    pdf = tmp_path / "ruling.pdf"
    pdf.write_bytes(await (await judge.get(f"/api/cases/{decided}/ruling.pdf")).read())
    text = flat_text(pdf)
    day = f"{effective.year}年{effective.month}月{effective.day}日"
    assert f"于{day}经光明街道人民调解委员会主持调解" in text, text
    assert "大写：肆万元整" in text

    # The court's figures count it: received, agreed and confirmed after mediation.
    clerk_page = await cookie_login(sifa, "clerk")
    figures = await (await clerk_page.get("/figures")).text()
    assert "<title>统计 ·" in figures
    row = re.search(r"<tr><td>光明街道人民调解委员会</td>((?:<td>[^<]*</td>){5})</tr>", figures)
    assert row is not None, figures
    assert re.findall(r"<td>([^<]*)</td>", row.group(1)) == ["1", "1", "0", "1", "100%"]


async def test_no_application_unless_every_party_applied_when_signing(sifa: Sifa) -> None:
    mediator, mediation_id = await sealed(sifa, applies=(True, False))
    refused = await mediator.post(f"/api/mediations/{mediation_id}/confirmation", json={})
    body = await error_of(refused, 409, "wrong_state")
    assert "赵六" in body["message"] and "张三" not in body["message"]


async def test_a_mediation_ended_after_the_signatures_is_not_sealed(sifa: Sifa) -> None:
    mediator, mediation_id = await sealed(sifa, seal=False)
    path = f"/api/mediations/{mediation_id}"
    await ok(await mediator.post(f"{path}/withdraw", json={"party": 1, "note": "赵六要求终止"}))
    await error_of(await mediator.post(f"{path}/agreement/seal", json={}), 409, "wrong_state")
    # Refused before anything was drawn: no sealed file was written.
    assert not list((sifa.settings.rulings_dir / "agreements").glob("*.pdf"))
