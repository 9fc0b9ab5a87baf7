"""Issuing, serving and verifying rulings through the real app, checked by independent tools."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.domain.clock import COURT_TZ
from app.domain.roles import Role
from app.keys import SERVICES
from app.ruling.pki import build_nss_db
from app.services import accounts
from app.services.demo import sample_application

from integration.conftest import Sifa
from integration.ruling_flow import (
    add_other_court_clerk,
    decided_case,
    ok,
    people,
    record_session,
    review_transcript,
    scheduled_case,
    sign_for,
)
from realdeps import require_tool

CONFIRM = {"decision": "confirm"}
REJECT = {"decision": "reject", "ground": "not_voluntary", "reasons": "一方当事人陈述系受胁迫签字"}


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    path = require_tool(args[0])
    return subprocess.run([path, *args[1:]], capture_output=True, text=True, timeout=60)


def check_with_tools(pdf: Path, sifa: Sifa, needles: list[str]) -> None:
    """pdfsig (trusting the dev root through NSS), qpdf, pdffonts, pdftotext, zbarimg."""
    nss = build_nss_db(pdf.parent / "nss", sifa.settings.certs_dir / "dev-root-ca.pem")
    sig = tool("pdfsig", "-nssdir", nss, str(pdf)).stdout
    assert "Signature is Valid." in sig and "Certificate is Trusted." in sig, sig
    assert "Total document signed" in sig
    assert tool("qpdf", "--check", str(pdf)).returncode == 0
    fonts = tool("pdffonts", str(pdf)).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    body = tool("pdftotext", "-layout", str(pdf), "-").stdout
    flat = "".join(body.split())
    for needle in needles:
        assert needle in flat, needle
    closing = tuple("，。、；：？！）」』》")
    assert not [ln for ln in body.splitlines() if ln.strip().startswith(closing)]
    png = pdf.with_suffix("")
    tool("pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "2", str(pdf), str(png))
    codes = set()
    for page in sorted(pdf.parent.glob(f"{png.name}*.png")):
        codes |= set(tool("zbarimg", "--raw", "-q", str(page)).stdout.split())
    return codes  # type: ignore[return-value]


async def test_confirmation_issued_served_and_verifiable(sifa: Sifa, tmp_path: Path) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    again = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 200)
    assert again["sha256"] == issued["sha256"]  # asking again returns the same ruling

    response = await clerk.get(f"/api/cases/{case_id}/ruling.pdf")
    data = await response.read()
    assert hashlib.sha256(data).hexdigest() == issued["sha256"]
    pdf = tmp_path / "ruling.pdf"
    pdf.write_bytes(data)
    case = await ok(await clerk.get(f"/api/cases/{case_id}"))
    terms = [t["text"] for t in case["terms"]]
    codes = check_with_tools(
        pdf,
        sifa,
        [
            case["case_number"],
            "张三",
            "赵六",
            *["".join(t.split()) for t in terms],
            "第二百零五条",
            "第二百零六条",
            "本件与原本核对无异",
            "民事裁定书",
        ],
    )
    assert issued["verify_url"] in codes  # type: ignore[operator]

    # The file on disk is read-only and the database refuses to change the record.
    stored = next(sifa.settings.rulings_dir.rglob("*.pdf"))
    assert not stat.S_IMODE(os.stat(stored).st_mode) & 0o222
    db = sifa.app[SERVICES].db
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text("UPDATE rulings SET sha256 = 'x'"))

    # Service at the kiosk: each party acknowledges; the second completes service.
    first = await ok(await sign_for(kiosk, case_id, 0), 201)
    assert first["device"].startswith("光明社区在线司法确认室一")
    assert (await ok(await clerk.get(f"/api/cases/{case_id}")))["state"] == "ruling_issued"
    await ok(await sign_for(kiosk, case_id, 1), 201)
    assert (await ok(await clerk.get(f"/api/cases/{case_id}")))["state"] == "served"
    voucher = tmp_path / "voucher.pdf"
    voucher.write_bytes(await (await clerk.get(f"/api/cases/{case_id}/vouchers/1.pdf")).read())
    check_with_tools(voucher, sifa, ["电子送达凭证", "赵六", issued["sha256"]])

    # Anyone with the token sees a masked summary and can check a file.
    token_path = issued["verify_url"].split("://", 1)[1].split("/", 1)[1]
    public = await sifa.make_client(sifa.app)
    page = await (await public.get(f"/{token_path}", headers={"Accept-Language": "zh-CN"})).text()
    assert case["case_number"] in page and "张某" in page and "张三" not in page
    verdict = await _upload(public, token_path, data)
    assert "完全一致" in verdict and "电子签名有效" in verdict
    tampered = bytearray(data)
    tampered[len(tampered) // 3] ^= 0x01
    verdict = await _upload(public, token_path, bytes(tampered))
    # A changed byte is altered content, not an untrusted signer nor a broken signature.
    assert "不一致" in verdict and 'data-finding="content_altered"' in verdict
    assert "签名人不受信任" not in verdict and "签名已损坏" not in verdict

    # Offline: sifa ruling verify FILE.
    cli = [sys.executable, "-m", "app", "ruling", "verify", str(pdf), "--sha256", issued["sha256"]]
    env = {**os.environ, "SIFA_CERTS_DIR": str(sifa.settings.certs_dir)}
    assert (await asyncio.to_thread(subprocess.run, cli, env=env, timeout=60)).returncode == 0
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(tampered))
    cli[5] = str(bad)
    assert (await asyncio.to_thread(subprocess.run, cli, env=env, timeout=60)).returncode == 1


async def _upload(client: Any, path: str, data: bytes) -> str:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", data, filename="ruling.pdf", content_type="application/pdf")
    response = await client.post(f"/{path}", data=form, headers={"Accept-Language": "zh-CN"})
    assert response.status == 200
    return str(await response.text())


async def test_rejection_and_withdrawal_rulings(sifa: Sifa, tmp_path: Path) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    rejected = await decided_case(mediator, clerk, judge, REJECT, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{rejected}/ruling", json={}), 201)
    assert issued["outcome"] == "rejected"
    pdf = tmp_path / "rejection.pdf"
    pdf.write_bytes(await (await clerk.get(f"/api/cases/{rejected}/ruling.pdf")).read())
    check_with_tools(pdf, sifa, ["驳回", "第三百五十八条", "第二百零六条", "违反自愿原则"])

    withdrawn = await decided_case(mediator, clerk, judge, {"decision": "withdraw"}, room_index=1)
    issued = await ok(await judge.post(f"/api/cases/{withdrawn}/ruling", json={}), 201)
    assert issued["outcome"] == "withdrawn"
    pdf = tmp_path / "withdrawal.pdf"
    pdf.write_bytes(await (await clerk.get(f"/api/cases/{withdrawn}/ruling.pdf")).read())
    check_with_tools(pdf, sifa, ["准许", "撤回司法确认申请", "第三百五十七条"])


async def test_refusals(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    db = sifa.app[SERVICES].db
    async with db.transaction() as session:
        await accounts.add_account(
            session,
            username="judge2",
            password="violet-lantern-river-2",
            role=Role.JUDGE,
            display_name="赵法官",
            binding=accounts.Binding(court="粤0311"),
            now=sifa.clock.now,
        )
        await accounts.add_account(
            session,
            username="kiosk_x",
            password="violet-lantern-river-2",
            role=Role.KIOSK,
            display_name="x",
            binding=accounts.Binding(room="东周社区在线司法确认室一"),
            now=sifa.clock.now,
        )
    other_judge = await sifa.as_user("judge2", "violet-lantern-river-2")
    other_kiosk = await sifa.as_user("kiosk_x", "violet-lantern-river-2")

    case_id = await scheduled_case(mediator, clerk)
    # Before a decision: the step is refused with the state named.
    body = await (await judge.post(f"/api/cases/{case_id}/ruling", json={})).json()
    assert body["error"]["state"] == "scheduled" and body["error"]["step"] == "issue_ruling"
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    # A decision needs a known decision, and a rejection its ground.
    assert (
        await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "x"})
    ).status == 422
    r = await judge.post(f"/api/cases/{case_id}/decision", json={"decision": "reject"})
    assert r.status == 422
    assert (await clerk.post(f"/api/cases/{case_id}/decision", json=CONFIRM)).status == 403
    # Nothing is recorded of the session yet: a confirmation is refused, naming what is missing.
    early = await judge.post(f"/api/cases/{case_id}/decision", json=CONFIRM)
    assert early.status == 409
    assert (await early.json())["error"]["code"] == "session_not_ready"
    await record_session(judge, kiosk, case_id)
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json=CONFIRM))
    await review_transcript(kiosk, case_id)
    # Another judge does not see the case; a clerk may not issue.
    assert (await other_judge.post(f"/api/cases/{case_id}/ruling", json={})).status == 404
    assert (await clerk.post(f"/api/cases/{case_id}/ruling", json={})).status == 403
    # Receipts before the ruling exists are refused.
    assert (await sign_for(kiosk, case_id, 0)).status == 409
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    # A kiosk of another room does not see the case; a clerk may not acknowledge for a party.
    assert (await sign_for(other_kiosk, case_id, 0)).status == 404
    assert (await sign_for(clerk, case_id, 0)).status == 403
    assert (await sign_for(kiosk, case_id, 9)).status == 422
    # A party acknowledges once: a second time is refused, and one receipt stays on record.
    await ok(await sign_for(kiosk, case_id, 0), 201)
    second = await sign_for(kiosk, case_id, 0)
    assert second.status == 409 and (await second.json())["error"]["code"] == "already_acknowledged"
    listed = await ok(await clerk.get(f"/api/cases/{case_id}/receipts"))
    assert len(listed["receipts"]) == 1
    # Only clerks download the bundle; a clerk of another court does not see the ruling.
    assert (await judge.get(f"/api/cases/{case_id}/bundle.zip")).status == 403
    other_clerk = await add_other_court_clerk(sifa)
    assert (await other_clerk.get(f"/api/cases/{case_id}/ruling.pdf")).status == 404
    assert (await other_clerk.get(f"/api/cases/{case_id}/bundle.zip")).status == 404
    assert (await ok(await other_clerk.get("/api/rulings")))["rulings"] == []
    # The public verification page does not answer for an unknown token.
    public = await sifa.make_client(sifa.app)
    assert (await public.get("/verify/not-a-token")).status == 404


async def test_bundle_and_search(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    for party in (0, 1):
        await ok(await sign_for(kiosk, case_id, party), 201)
    response = await clerk.get(f"/api/cases/{case_id}/bundle.zip")
    assert response.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(archive.namelist())
    assert {
        "ruling.pdf",
        "vouchers/voucher-1.pdf",
        "vouchers/voucher-2.pdf",
        "audit.jsonl",
        "SHA256SUMS",
        "manifest.json",
    } <= names
    # Materials leave the sealed store as uploaded: the hash taken at upload matches.
    uploaded = {
        m["sha256"] for m in (await ok(await clerk.get(f"/api/cases/{case_id}")))["materials"]
    }
    packed = [n for n in names if n.startswith("materials/")]
    assert packed and all(n.endswith(".pdf") for n in packed)
    assert {hashlib.sha256(archive.read(n)).hexdigest() for n in packed} == uploaded
    for line in archive.read("SHA256SUMS").decode().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    assert hashlib.sha256(archive.read("ruling.pdf")).hexdigest() == issued["sha256"]
    trail = [json.loads(line) for line in archive.read("audit.jsonl").decode().splitlines()]
    actions = [e["action"] for e in trail]
    for action in (
        "case.accept",
        "case.confirm",
        "case.issue_ruling",
        "service.acknowledged",
        "case.serve",
    ):
        assert action in actions
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in trail)

    number = (await ok(await clerk.get(f"/api/cases/{case_id}")))["case_number"]
    found = await ok(await clerk.get("/api/rulings", params={"case_number": number}))
    assert [r["case_id"] for r in found["rulings"]] == [case_id]
    assert (await ok(await clerk.get("/api/rulings", params={"party": "赵六"})))["rulings"]
    assert not (await ok(await clerk.get("/api/rulings", params={"party": "无此人"})))["rulings"]
    assert not (await ok(await clerk.get("/api/rulings", params={"outcome": "rejected"})))[
        "rulings"
    ]
    assert (await clerk.get("/api/rulings", params={"from": "yesterday"})).status == 422
    # The search's dates are the court's (Beijing): after 16:00 UTC that is tomorrow in UTC.
    today = dt.datetime.fromisoformat(issued["issued_at"]).astimezone(COURT_TZ).date().isoformat()
    assert (await ok(await clerk.get("/api/rulings", params={"from": today, "to": today})))[
        "rulings"
    ]
    page = await clerk.get("/rulings", params={"party": "张"})
    assert number in await page.text()


async def test_two_issue_requests_at_once_leave_one_ruling(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    first, second = await asyncio.gather(
        judge.post(f"/api/cases/{case_id}/ruling", json={}),
        judge.post(f"/api/cases/{case_id}/ruling", json={}),
    )
    assert sorted([first.status, second.status]) in ([200, 201], [201, 409])
    # The loser's rendered files were removed with its failed record: one ruling and one
    # transcript, the recorded ones.
    files = list(sifa.settings.rulings_dir.rglob("*.pdf"))
    assert len(files) == 2
    [ruling] = [f for f in files if not f.name.endswith("-transcript.pdf")]
    [transcript] = [f for f in files if f.name.endswith("-transcript.pdf")]
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}))
    assert hashlib.sha256(ruling.read_bytes()).hexdigest() == issued["sha256"]
    assert hashlib.sha256(transcript.read_bytes()).hexdigest() == issued["transcript"]["sha256"]


async def test_ruling_for_a_passport_holder_names_the_document(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    application = sample_application(dt.datetime.now(COURT_TZ).date())
    application["applicants"][1].update(id_type="passport", id_number="E12345678")  # type: ignore[index]
    case_id = await decided_case(
        mediator, clerk, judge, CONFIRM, kiosk=kiosk, application=application
    )
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    pdf = next(
        f
        for f in sifa.settings.rulings_dir.rglob("*.pdf")
        if not f.name.endswith("-transcript.pdf")
    )
    text = "".join(tool("pdftotext", str(pdf), "-").stdout.split())
    assert "护照号码E12345678" in text and "公民身份号码" in text
