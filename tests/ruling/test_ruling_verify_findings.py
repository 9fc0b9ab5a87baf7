"""Verification says what it found: content altered, signature broken and signer untrusted are
told apart, on real signed PDFs damaged in each of those ways, by pyHanko and the CLI report."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from ruling_support import COURT, rejection, ruling, run

from app.ruling.pki import PkiPaths, ensure_dev_pki, load_dev_identity
from app.ruling.render import RulingRenderer
from app.ruling.sign import PdfSigner
from app.ruling.verify import Finding, VerificationResult, run_verify_command, verify_pdf

_CONTENTS = re.compile(rb"/Contents <([0-9a-fA-F]+)>")


@pytest.fixture(scope="module")
def unsigned(renderer: RulingRenderer) -> bytes:
    return renderer.render_ruling(rejection())


@pytest.fixture(scope="module")
def genuine(unsigned: bytes, signer: PdfSigner) -> bytes:
    return signer.sign(unsigned, reason="民事裁定书", location=COURT)


def _signature_span(pdf: bytes) -> tuple[int, int]:
    """Where the hex of /Contents sits: the one part of the file the signature does not cover."""
    m = _CONTENTS.search(pdf)
    assert m is not None
    return m.start(1), m.end(1)


def one_byte_altered(pdf: bytes) -> bytes:
    start, _ = _signature_span(pdf)
    i = start // 2  # in the page content, well before the signature
    return pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1 :]


def signature_value_damaged(pdf: bytes) -> bytes:
    """One byte of the RSA signature value itself flipped; the CMS still parses."""
    start, end = _signature_span(pdf)
    der = bytes.fromhex(pdf[start:end].decode())
    info = cms.ContentInfo.load(der)
    value = info["content"]["signer_infos"][0]["signature"].native
    at = der.index(value) + len(value) // 2
    damaged = der[:at] + bytes([der[at] ^ 0xFF]) + der[at + 1 :]
    hexed = damaged.hex().encode()
    assert len(hexed) == end - start
    return pdf[:start] + hexed + pdf[end:]


def signature_structure_damaged(pdf: bytes) -> bytes:
    """The CMS's outer tag overwritten: the signature no longer parses at all."""
    start, _ = _signature_span(pdf)
    return pdf[:start] + b"00" + pdf[start + 2 :]


@pytest.fixture(scope="module")
def forger(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    """A self-made root and a signing certificate in the court's name: not the court's root."""
    return ensure_dev_pki(tmp_path_factory.mktemp("forger"), COURT, "粤0311")


def _forge(pdf: bytes, forger: PkiPaths) -> bytes:
    return PdfSigner(load_dev_identity(forger)).sign(pdf, reason="民事裁定书", location=COURT)


def test_the_genuine_file_passes(genuine: bytes, roots: list[x509.Certificate]) -> None:
    result = verify_pdf(genuine, roots, hashlib.sha256(genuine).hexdigest())
    assert result.ok and result.findings == () and result.kinds == frozenset()


def test_one_altered_byte_is_content_altered_only(
    genuine: bytes, roots: list[x509.Certificate]
) -> None:
    bad = one_byte_altered(genuine)
    assert len(bad) == len(genuine) and bad != genuine
    alone = verify_pdf(bad, roots)
    assert alone.kinds == {Finding.CONTENT_ALTERED}
    assert [p.code for p in alone.findings] == ["signed_bytes_modified"]
    (sig,) = alone.signatures
    assert not sig.intact and sig.valid  # the signature is sound; what it covers is not
    against = verify_pdf(bad, roots, hashlib.sha256(genuine).hexdigest())
    assert against.kinds == {Finding.CONTENT_ALTERED}
    assert {p.code for p in against.findings} == {"sha256_mismatch", "signed_bytes_modified"}
    assert not any("不受信任" in p or "not trusted" in p for p in against.problems)


def test_resigned_by_a_self_made_key_is_signer_untrusted(
    unsigned: bytes, genuine: bytes, forger: PkiPaths, roots: list[x509.Certificate]
) -> None:
    forged = _forge(unsigned, forger)
    alone = verify_pdf(forged, roots)
    assert alone.kinds == {Finding.SIGNER_UNTRUSTED}
    (sig,) = alone.signatures
    assert sig.intact and sig.valid and not sig.trusted
    assert alone.findings[0].message.startswith("签名本身有效，但签名证书不能追溯到本院信任的")
    # Against the issued original it is also another file than the court's.
    against = verify_pdf(forged, roots, hashlib.sha256(genuine).hexdigest())
    assert against.kinds == {Finding.SIGNER_UNTRUSTED, Finding.CONTENT_ALTERED}
    assert {p.code for p in against.findings} == {"untrusted", "sha256_mismatch"}


def test_damaged_signature_bytes_are_signature_broken(
    genuine: bytes, roots: list[x509.Certificate]
) -> None:
    bad = signature_value_damaged(genuine)
    alone = verify_pdf(bad, roots)
    assert alone.kinds == {Finding.SIGNATURE_BROKEN}
    assert [p.code for p in alone.findings] == ["signature_invalid"]
    (sig,) = alone.signatures
    assert sig.intact and not sig.valid  # the signed content is untouched
    broken = verify_pdf(signature_structure_damaged(genuine), roots)
    assert broken.kinds == {Finding.SIGNATURE_BROKEN}
    assert [p.code for p in broken.findings] == ["cannot_validate"]


def test_pdfsig_agrees(genuine: bytes, tmp_path: Path, nss_db: str) -> None:
    """An independent validator sees the same three cases the same way."""
    altered, damaged = tmp_path / "altered.pdf", tmp_path / "damaged.pdf"
    altered.write_bytes(one_byte_altered(genuine))
    damaged.write_bytes(signature_value_damaged(genuine))
    for path in (altered, damaged):
        out = run("pdfsig", "-nssdir", nss_db, path, check=False).stdout
        assert "Signature is Valid." not in out, out


def _report(path: Path, roots_file: Path, expected: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_verify_command(path, [roots_file], out, expected_sha256=expected)
    return code, out.getvalue()


def test_cli_report_names_each_case(
    unsigned: bytes, genuine: bytes, forger: PkiPaths, pki: PkiPaths, tmp_path: Path
) -> None:
    forged = _forge(unsigned, forger)
    files = {
        "genuine": genuine,
        "altered": one_byte_altered(genuine),
        "forged": forged,
        "damaged": signature_value_damaged(genuine),
    }
    reports = {}
    for name, data in files.items():
        (tmp_path / f"{name}.pdf").write_bytes(data)
        reports[name] = _report(tmp_path / f"{name}.pdf", pki.root_cert)
    assert reports["genuine"][0] == 0 and "VALID 有效" in reports["genuine"][1]
    for name in ("altered", "forged", "damaged"):
        assert reports[name][0] == 1 and "INVALID 无效" in reports[name][1]
    altered = reports["altered"][1]
    assert "✘ 内容已被改动 / Content altered" in altered
    assert "不受信任" not in altered and "签名已损坏" not in altered
    assert "signer trusted 签名人可信: not checked" in altered
    forged_report = reports["forged"][1]
    assert "✘ 签名人不受信任 / Signer not trusted" in forged_report
    assert "内容已被改动" not in forged_report and "签名已损坏" not in forged_report
    damaged = reports["damaged"][1]
    assert "✘ 签名已损坏 / Signature broken" in damaged
    assert "内容已被改动" not in damaged and "不受信任" not in damaged
    # Given the issued hash, a damaged signature also makes the file differ from the original.
    issued_sha256 = hashlib.sha256(genuine).hexdigest()
    code, text = _report(tmp_path / "damaged.pdf", pki.root_cert, issued_sha256)
    assert code == 1 and "SHA-256 不符" in text and "签名已损坏" in text


def test_unsigned_and_unreadable(renderer: RulingRenderer, roots: list[x509.Certificate]) -> None:
    plain: VerificationResult = verify_pdf(renderer.render_ruling(ruling()), roots)
    assert plain.kinds == {Finding.UNSIGNED}
    junk = verify_pdf(b"not a pdf", roots)
    assert junk.kinds == {Finding.UNREADABLE} and "无法读取" in junk.problems[0]
