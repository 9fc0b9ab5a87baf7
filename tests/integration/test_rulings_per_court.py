"""Each court signs its own documents, through the real app: a 南山 ruling, its transcript and
voucher are signed with 南山's certificate and location, never 光明's, and check out with
pyHanko, poppler's pdfsig, the public /verify page and `sifa ruling verify`; a court added at
runtime gets its certificate on its first ruling; with PKCS#12 keys each court signs with its
own file, and a court without one is refused before anything is written."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from app.keys import SERVICES
from app.main import create_app
from app.ruling.pki import (
    build_nss_db,
    ensure_dev_pki,
    load_dev_identity,
    load_identity,
    read_certificates,
    write_pkcs12,
)
from app.ruling.sign import PdfSigner
from app.ruling.verify import SignatureCheck, verify_pdf
from app.store.models import AuditEvent, Ruling, Transcript

from integration.api_support import error_of
from integration.conftest import Clock, Sifa, make_settings, prepare
from integration.ruling_flow import decided_case, ok, people, sign_for
from integration.test_admin_courts import build_baoan
from integration.test_cli_commands import cli_env, in_process, query
from realdeps import require_tool

__all__ = ["cli_env"]

GUANGMING = "深圳市光明区人民法院"
NANSHAN = "深圳市南山区人民法院"
BAOAN = "深圳市宝安区人民法院"
CONFIRM = {"decision": "confirm"}
Client = TestClient[Any, Any]
People = tuple[Client, Client, Client, Client]


async def nanshan_people(sifa: Sifa) -> People:
    """The demo's 南山 mediator, clerk, judge and the kiosk of its one room, logged in."""
    names = ("mediator_ns", "clerk_ns", "judge_ns", "kiosk_ns1")
    mediator, clerk, judge, kiosk = [await sifa.as_user(n) for n in names]
    return mediator, clerk, judge, kiosk


async def baoan_people(sifa: Sifa) -> People:
    """A third court built by the administrator while the app runs, and its people."""
    admin = await sifa.as_user("admin")
    built = await build_baoan(admin)
    bindings = {
        "mediator_ba": ("mediator", {"committee": built["committee"]["name"]}),
        "clerk_ba": ("clerk", {"court": built["court"]["code"]}),
        "judge_ba": ("judge", {"court": built["court"]["code"]}),
        "kiosk_ba": ("kiosk", {"room": built["room"]["name"]}),
    }
    for username, (role, binding) in bindings.items():
        body = {
            "username": username,
            "role": role,
            "password": f"{username}: violet lantern river",
            **binding,
        }
        await ok(await admin.post("/api/admin/accounts", json=body), 201)
    mediator, clerk, judge, kiosk = [
        await sifa.as_user(u, f"{u}: violet lantern river") for u in bindings
    ]
    return mediator, clerk, judge, kiosk


async def decided(court: People) -> int:
    mediator, clerk, judge, kiosk = court
    return await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)


async def issued_ruling(court: People, case_id: int | None = None) -> tuple[dict[str, Any], bytes]:
    case_id = case_id or await decided(court)
    issued = await ok(await court[2].post(f"/api/cases/{case_id}/ruling"), 201)
    return issued, await (await court[1].get(f"/api/cases/{case_id}/ruling.pdf")).read()


async def checked(pdf: bytes, root: Path) -> SignatureCheck:
    """pyHanko's verdict against one trust root: valid, and the one signature's details."""
    result = await asyncio.to_thread(verify_pdf, pdf, read_certificates([root]))
    assert result.ok, result.problems
    (signature,) = result.signatures
    return signature


def location(pdf: bytes) -> str:
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return str(signature.sig_object["/Location"])


async def assert_signed_by(pdf: bytes, court: str, root: Path) -> SignatureCheck:
    signature = await checked(pdf, root)
    assert f"Common Name: {court}" in signature.signer_subject, signature.signer_subject
    others = {GUANGMING, NANSHAN, BAOAN} - {court}
    assert not any(other in signature.signer_subject for other in others)
    assert location(pdf) == court
    return signature


def pdfsig(pdf: Path, root: Path) -> str:
    nss = build_nss_db(pdf.parent / f"nss-{pdf.stem}", root)
    tool = require_tool("pdfsig")
    return subprocess.run(
        [tool, "-nssdir", nss, str(pdf)], capture_output=True, text=True, timeout=60
    ).stdout


async def test_a_nanshan_ruling_is_signed_as_nanshan(sifa: Sifa, tmp_path: Path) -> None:
    certs = sifa.settings.certs_dir
    root = certs / "dev-root-ca.pem"
    assert not (certs / "courts").exists()
    nanshan = await nanshan_people(sifa)
    case_id = await decided(nanshan)
    issued, data = await issued_ruling(nanshan, case_id)
    own_cert = certs / "courts" / "粤0305" / "court-signing.pem"
    assert own_cert.exists()  # issued on the court's first ruling
    guangming_issued, guangming_pdf = await issued_ruling(await people(sifa))

    signature = await assert_signed_by(data, NANSHAN, root)
    assert signature.signer_cert_sha256 == issued["signer_cert_sha256"]
    assert issued["signer_cert_sha256"] == issued["transcript"]["signer_cert_sha256"]
    assert issued["signer_cert_sha256"] != guangming_issued["signer_cert_sha256"]
    # 光明, the configured court, signs with the certificate it always had.
    ours = load_identity(certs / "court-signing.key", certs / "court-signing.pem")
    assert guangming_issued["signer_cert_sha256"] == PdfSigner(ours).certificate_sha256
    await assert_signed_by(guangming_pdf, GUANGMING, root)

    pdf = tmp_path / "nanshan.pdf"
    pdf.write_bytes(data)
    report = pdfsig(pdf, root)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    assert f"Signer Certificate Common Name: {NANSHAN}" in report, report
    assert GUANGMING not in report

    # The transcript archived with it and the voucher of its service: 南山's too.
    _, clerk, _, kiosk = nanshan
    minutes = await (await clerk.get(f"/api/cases/{case_id}/transcript.pdf")).read()
    await assert_signed_by(minutes, NANSHAN, root)
    await ok(await sign_for(kiosk, case_id, 0), 201)
    voucher = await (await clerk.get(f"/api/cases/{case_id}/vouchers/0.pdf")).read()
    await assert_signed_by(voucher, NANSHAN, root)

    # Anyone can check it: the public page, and offline.
    assert await publicly_valid(sifa, issued, data)
    cli = [sys.executable, "-m", "app", "ruling", "verify", str(pdf), "--sha256", issued["sha256"]]
    env = {**os.environ, "SIFA_CERTS_DIR": str(certs)}
    done = await asyncio.to_thread(subprocess.run, cli, env=env, timeout=60, capture_output=True)
    assert done.returncode == 0, done.stdout


async def upload(client: Client, path: str, data: bytes) -> str:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", data, filename="ruling.pdf", content_type="application/pdf")
    response = await client.post(f"/{path}", data=form, headers={"Accept-Language": "zh-CN"})
    assert response.status == 200
    return await response.text()


async def test_a_court_added_at_runtime_gets_its_certificate_on_its_first_ruling(
    sifa: Sifa,
) -> None:
    baoan = await baoan_people(sifa)
    case_id = await decided(baoan)
    own_cert = sifa.settings.certs_dir / "courts" / "粤0306" / "court-signing.pem"
    assert not own_cert.exists()
    issued, data = await issued_ruling(baoan, case_id)
    assert own_cert.exists()
    root = sifa.settings.certs_dir / "dev-root-ca.pem"
    signature = await assert_signed_by(data, BAOAN, root)
    assert signature.signer_cert_sha256 == issued["signer_cert_sha256"]


def court_p12(tmp: Path, name: str, code: str, target: Path) -> tuple[str, Path]:
    """A PKCS#12 key for a court, from a CA of its own: (its certificate's SHA-256, the root)."""
    issuer = ensure_dev_pki(tmp / f"ca-{code}", name, code)
    identity = load_dev_identity(issuer)
    write_pkcs12(target, identity, b"p12-pass")
    return PdfSigner(identity).certificate_sha256, issuer.root_cert


async def test_pkcs12_keys_per_court_and_a_court_without_one_refused(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    own_sha, own_root = court_p12(tmp_path, GUANGMING, "粤0311", tmp_path / "court.p12")
    nanshan_sha, nanshan_root = court_p12(tmp_path, NANSHAN, "粤0305", keys / "粤0305.p12")
    clock = Clock()
    settings = make_settings(
        tmp_path / "app",
        f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}",
        SIFA_SIGNING_P12=str(tmp_path / "court.p12"),
        SIFA_SIGNING_P12_DIR=str(keys),
        SIFA_SIGNING_P12_PASSWORD="p12-pass",
    )
    await prepare(settings, clock.now)
    sifa = Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)

    issued, data = await issued_ruling(await people(sifa))
    assert issued["signer_cert_sha256"] == own_sha
    await assert_signed_by(data, GUANGMING, own_root)
    issued, data = await issued_ruling(await nanshan_people(sifa))
    assert issued["signer_cert_sha256"] == nanshan_sha
    await assert_signed_by(data, NANSHAN, nanshan_root)
    assert await publicly_valid(sifa, issued, data)  # the page trusts each file's root
    assert not (settings.certs_dir / "courts").exists()  # no development key for anyone

    # 宝安 has no key: refused, and nothing is written (no file, no record, no event).
    baoan = await baoan_people(sifa)
    case_id = await decided(baoan)
    before = written(settings.rulings_dir), await records(sifa, case_id)
    refused = await baoan[2].post(f"/api/cases/{case_id}/ruling")
    error = await error_of(refused, 503, "no_signing_key")
    assert "尚未配置电子签名证书" in error["message"] and "no signing key" in error["message"]
    assert (written(settings.rulings_dir), await records(sifa, case_id)) == before
    assert (await ok(await baoan[1].get(f"/api/cases/{case_id}")))["state"] == "confirmed"
    # Nor is a draft transcript signed with another court's key.
    draft = await baoan[1].get(f"/api/cases/{case_id}/transcript.pdf")
    await error_of(draft, 503, "no_signing_key")

    # Its key file arrives while the app runs: the next attempt signs with it.
    baoan_sha, baoan_root = court_p12(tmp_path, BAOAN, "粤0306", keys / "粤0306.p12")
    issued, data = await issued_ruling(baoan, case_id)
    assert issued["signer_cert_sha256"] == baoan_sha
    await assert_signed_by(data, BAOAN, baoan_root)
    assert await publicly_valid(sifa, issued, data)


async def publicly_valid(sifa: Sifa, issued: dict[str, Any], data: bytes) -> bool:
    """The public /verify page's verdict on an issued ruling."""
    token_path = issued["verify_url"].split("://", 1)[1].split("/", 1)[1]
    verdict = await upload(await sifa.make_client(sifa.app), token_path, data)
    return "完全一致" in verdict and "电子签名有效" in verdict


def written(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def records(sifa: Sifa, case_id: int) -> tuple[int, int, int]:
    async with sifa.app[SERVICES].db.transaction() as session:
        counts = [
            await session.scalar(select(func.count()).where(column == case_id))
            for column in (Ruling.case_id, Transcript.case_id, AuditEvent.case_id)
        ]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


def test_init_issues_every_court_in_the_database_its_certificate(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    certs = tmp_path / "certs"
    assert in_process(monkeypatch, capsys, cli_env, "init")[0] == 0
    configured = (certs / "court-signing.pem").read_bytes()
    assert not (certs / "courts").exists()  # the database has no court yet
    assert not (certs / "committees").exists()
    assert in_process(monkeypatch, capsys, cli_env, "demo")[0] == 0
    code, out, _ = in_process(monkeypatch, capsys, cli_env, "init")
    assert code == 0 and f"development signing certificate of {NANSHAN}" in out
    assert (certs / "court-signing.pem").read_bytes() == configured
    issued = (certs / "courts" / "粤0305" / "court-signing.pem").read_bytes()
    # Every mediation committee's seal too (app/ruling/committee_keys.py).
    committees = query(tmp_path / "var" / "sifa.db", "SELECT id, name FROM committees")
    seals = [certs / "committees" / str(c) / "committee-seal.pem" for c, _ in committees]
    assert committees and all(f"seal certificate of {name}" in out for _, name in committees)
    sealed = [seal.read_bytes() for seal in seals]
    assert in_process(monkeypatch, capsys, cli_env, "init")[0] == 0  # kept, not reissued
    assert (certs / "courts" / "粤0305" / "court-signing.pem").read_bytes() == issued
    assert [seal.read_bytes() for seal in seals] == sealed
