"""PAdES B-T: a signature timestamp from a local RFC 3161 authority over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from cryptography import x509
from ruling_support import COURT, ruling, run, save

from app.ruling.devtsa import running_tsa, tsa_in_thread
from app.ruling.errors import SigningError
from app.ruling.pki import PkiPaths, TsaPaths, load_dev_identity
from app.ruling.render import RulingRenderer
from app.ruling.sign import PdfSigner, SignOptions
from app.ruling.verify import format_result, run_verify_command, verify_pdf, verify_pdf_async


async def test_b_t_signature_carries_a_valid_timestamp(
    renderer: RulingRenderer, pki: PkiPaths, tsa_paths: TsaPaths,
    roots: list[x509.Certificate], nss_db: str,
) -> None:  # fmt: skip
    pdf = renderer.render_ruling(ruling())
    async with running_tsa(tsa_paths) as url:
        assert url.startswith("http://127.0.0.1:")
        signer = PdfSigner(load_dev_identity(pki), SignOptions(timestamp_url=url))
        assert signer.level == "B-T"
        before = dt.datetime.now(dt.UTC)
        signed = await signer.sign_async(pdf, reason="民事裁定书", location=COURT)
    result = await verify_pdf_async(signed, roots, require_timestamp=True)
    assert result.ok, result.problems
    ts = result.signatures[0].timestamp
    assert ts is not None and ts.intact and ts.valid and ts.trusted
    assert before - dt.timedelta(seconds=5) <= ts.time <= dt.datetime.now(dt.UTC)
    path = save("ruling-b-t.pdf", signed)
    out = run("pdfsig", "-nssdir", nss_db, path).stdout
    assert "Signature is Valid." in out and "Certificate is Trusted." in out


def test_b_b_fails_when_a_timestamp_is_required(
    signer: PdfSigner, renderer: RulingRenderer, roots: list[x509.Certificate]
) -> None:
    signed = signer.sign(renderer.render_ruling(ruling()), reason="r", location="l")
    result = verify_pdf(signed, roots, require_timestamp=True)
    assert not result.ok
    assert any("B-T required" in p for p in result.problems)


def test_sync_signing_with_a_tsa_in_a_thread(
    renderer: RulingRenderer, pki: PkiPaths, tsa_paths: TsaPaths, roots: list[x509.Certificate]
) -> None:
    with tsa_in_thread(tsa_paths) as url:
        signer = PdfSigner(load_dev_identity(pki), SignOptions(timestamp_url=url))
        signed = signer.sign(renderer.render_ruling(ruling()), reason="r", location="l")
    assert verify_pdf(signed, roots, require_timestamp=True).ok


def test_unreachable_tsa_is_a_signing_error(renderer: RulingRenderer, pki: PkiPaths) -> None:
    signer = PdfSigner(
        load_dev_identity(pki),
        SignOptions(timestamp_url="http://127.0.0.1:9/", timestamp_timeout=2),
    )
    with pytest.raises(SigningError):
        signer.sign(renderer.render_ruling(ruling()), reason="r", location="l")


def test_cli_report(
    signer: PdfSigner, renderer: RulingRenderer, pki: PkiPaths, tmp_path: Path
) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(signer.sign(renderer.render_ruling(ruling()), reason="r", location="l"))
    out = io.StringIO()
    assert run_verify_command(path, [pki.root_cert], out) == 0
    report = out.getvalue()
    assert f"signer: Common Name: {COURT}" in report
    assert f"certificate SHA-256: {signer.certificate_sha256}" in report
    assert report.rstrip().endswith("结果 Result: VALID 有效")

    bad = bytearray(path.read_bytes())
    bad[len(bad) // 3] ^= 1
    path.write_bytes(bytes(bad))
    out = io.StringIO()
    assert run_verify_command(path, [pki.root_cert], out) == 1
    assert "INVALID" in out.getvalue()
    assert run_verify_command(tmp_path / "missing.pdf", [pki.root_cert], io.StringIO()) == 2


def test_garbage_is_reported_not_raised(roots: list[x509.Certificate]) -> None:
    result = verify_pdf(b"not a pdf", roots)
    assert not result.ok and result.error is not None
    assert "INVALID" in format_result(result)
    unsigned = verify_pdf(b"%PDF-1.4\n%%EOF\n", roots)
    assert not unsigned.ok
