"""Issued documents checked end to end with independent tools: pyHanko, poppler (pdfsig,
pdffonts, pdftotext, pdftoppm), qpdf and zbar. Both ruling variants and the voucher."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from ruling_support import (
    ARTIFACTS,
    CASE,
    COURT,
    URL,
    pdf_text,
    rejection,
    require_tool,
    ruling,
    run,
    save,
    squash,
    voucher,
)

from app.ruling.chinese import CLOSING
from app.ruling.model import RulingData
from app.ruling.render import RulingRenderer
from app.ruling.sign import PdfSigner
from app.ruling.verify import verify_pdf


@dataclass(frozen=True)
class Issued:
    name: str
    data: RulingData
    signed: bytes
    path: Path


def forcing_terms(renderer: RulingRenderer) -> tuple[str, ...]:
    """Terms built so that a naive break would start a line with "，", "。" or "）": the
    character at each natural line end is punctuation."""
    fs = renderer.config.style.body_size
    width = renderer.config.style.text_width
    per_line = int(width // renderer.measure("字", fs))  # full-width characters a line holds
    first = per_line - 2 - 2  # indent of two, then "一、"
    filler = "调解协议约定的给付义务履行期限内申请人应当" * 4
    return (
        filler[:first] + "，" + filler[: per_line - 1] + "。" + filler[:10] + "。",
        filler[:first] + "）" + filler[: per_line - 1] + "（" + "甲" * 5 + "）。",
        "（" + filler[: first - 1] + "。" + filler[:20] + "”。",
    )


@pytest.fixture(scope="module")
def issued(renderer: RulingRenderer, signer: PdfSigner) -> dict[str, Issued]:
    docs = {
        "confirmation": ruling(),
        "rejection": rejection(),
        "forcing": ruling(terms=forcing_terms(renderer)),
    }
    out = {}
    for name, data in docs.items():
        pdf = renderer.render_ruling(data)
        signed = signer.sign(pdf, reason="民事裁定书", location=COURT)
        out[name] = Issued(name, data, signed, save(f"ruling-{name}.pdf", signed))
    return out


VARIANTS = ["confirmation", "rejection", "forcing"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_pyhanko_validates(
    issued: dict[str, Issued], roots: list[x509.Certificate], variant: str
) -> None:
    doc = issued[variant]
    result = verify_pdf(doc.signed, roots, hashlib.sha256(doc.signed).hexdigest())
    assert result.ok, result.problems
    (sig,) = result.signatures
    assert sig.intact and sig.valid and sig.trusted and sig.covers_whole_document
    assert sig.signer_subject.startswith(f"Common Name: {COURT}")
    assert sig.timestamp is None  # B-B
    assert sig.signing_time is not None
    assert result.matches_expected is True


@pytest.mark.parametrize("variant", VARIANTS)
def test_pdfsig_validates_and_trusts(issued: dict[str, Issued], nss_db: str, variant: str) -> None:
    out = run("pdfsig", "-nssdir", nss_db, issued[variant].path).stdout
    lines = [line.strip() for line in out.splitlines()]
    assert "- Signature Validation: Signature is Valid." in lines
    assert "- Certificate Validation: Certificate is Trusted." in lines
    assert "- Total document signed" in lines
    assert "- Signature Type: ETSI.CAdES.detached" in lines
    assert f"- Signer Certificate Common Name: {COURT}" in lines


def test_pdfsig_without_the_root_does_not_trust(issued: dict[str, Issued], tmp_path: Path) -> None:
    require_tool("certutil")
    run("certutil", "-N", "--empty-password", "-d", f"sql:{tmp_path}")
    out = run("pdfsig", "-nssdir", f"sql:{tmp_path}", issued["confirmation"].path).stdout
    assert "Signature is Valid." in out
    assert "Certificate is Trusted." not in out


@pytest.mark.parametrize("variant", VARIANTS)
def test_qpdf_finds_no_errors(issued: dict[str, Issued], variant: str) -> None:
    out = run("qpdf", "--check", issued[variant].path).stdout
    assert "No syntax or stream encoding errors found" in out


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_font_embedded(issued: dict[str, Issued], variant: str) -> None:
    out = run("pdffonts", issued[variant].path).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", row
        assert "Helvetica" not in name and "STSong" not in name, row


@pytest.mark.parametrize("variant", VARIANTS)
def test_text_content(issued: dict[str, Issued], variant: str) -> None:
    doc = issued[variant]
    text = pdf_text(doc.path)
    flat = squash(re.sub(r"第 \d+ 页 共 \d+ 页", "", text))
    assert CASE in flat
    assert COURT in flat and "民事裁定书" in squash(text)
    for a in doc.data.applicants:
        assert f"申请人：{a.name}" in flat
    assert "440311198503021234" in flat  # the served original prints the full ID number
    for i, term in enumerate(doc.data.terms):
        assert squash(term) in flat, f"term {i + 1} missing"
    if doc.data.outcome == "confirmed":
        assert "依照《中华人民共和国民事诉讼法》第二百零五条、第二百零六条规定，裁定如下：" in flat
    else:
        assert "第二百零六条" in flat
        assert (
            "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十八条第四项" in flat
        )
        assert "驳回申请人张三、申请人李四的司法确认申请。" in flat
    assert "二〇二六年十一月二十七日" in flat
    assert "本件与原本核对无异" in flat
    assert re.search(r"第 1 页 共 \d 页", text)


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_extracted_line_starts_with_closing_punctuation(
    issued: dict[str, Issued], variant: str
) -> None:
    for line in pdf_text(issued[variant].path).splitlines():
        line = line.strip()
        assert not line or line[0] not in CLOSING, line


def test_forcing_terms_would_break_badly_without_kinsoku(renderer: RulingRenderer) -> None:
    """Guards the forcing case itself: greedy breaking would start lines with punctuation."""
    fs = renderer.config.style.body_size
    width = renderer.config.style.text_width
    bad = 0
    for n, term in enumerate(forcing_terms(renderer), 1):
        text = "一二三"[n - 1] + "、" + term
        line, first = "", True
        for ch in text:
            limit = width - (2 * fs if first else 0)
            if renderer.measure(line + ch, fs) > limit:
                bad += ch in CLOSING
                line, first = "", False
            line += ch
    assert bad >= 3


@pytest.mark.parametrize("variant", ["confirmation", "rejection"])
def test_qr_code_decodes_to_the_verification_url(issued: dict[str, Issued], variant: str) -> None:
    require_tool("zbarimg")
    doc = issued[variant]
    pages = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", doc.path).stdout).group(1))  # type: ignore[union-attr]
    prefix = ARTIFACTS / f"ruling-{variant}"
    run("pdftoppm", "-r", "200", "-png", "-f", pages, "-l", pages, doc.path, prefix)
    png = next(ARTIFACTS.glob(f"ruling-{variant}-*{pages}.png"))
    decoded = run("zbarimg", "--raw", "-q", png).stdout.strip().splitlines()
    assert decoded == [URL]


def test_qr_is_vector_not_bitmap(issued: dict[str, Issued]) -> None:
    assert b"/Subtype /Image" not in issued["confirmation"].signed


def _tampered(data: bytes) -> Iterator[bytes]:
    # A byte inside the signed range, in a content stream.
    mid = len(data) // 3
    yield data[:mid] + bytes([data[mid] ^ 0x01]) + data[mid + 1 :]
    # One letter of the document information changed: the file stays well-formed.
    i = data.index(b"/Producer (") + len(b"/Producer (") + 2
    yield data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


def test_a_changed_byte_fails_verification(
    issued: dict[str, Issued], roots: list[x509.Certificate], tmp_path: Path, nss_db: str
) -> None:
    original = issued["confirmation"].signed
    for n, bad in enumerate(_tampered(original)):
        assert len(bad) == len(original) and bad != original
        result = verify_pdf(bad, roots)
        assert not result.ok, f"tampered copy {n} verified"
        path = tmp_path / f"bad{n}.pdf"
        path.write_bytes(bad)
        assert (
            "Signature is Valid." not in run("pdfsig", "-nssdir", nss_db, path, check=False).stdout
        )
    result = verify_pdf(original, roots, expected_sha256="0" * 64)
    assert not result.ok and result.matches_expected is False


def test_appended_content_is_not_covered(
    issued: dict[str, Issued], roots: list[x509.Certificate]
) -> None:
    result = verify_pdf(issued["confirmation"].signed + b"\n% appended\n", roots)
    assert not result.ok


def test_another_root_does_not_trust(issued: dict[str, Issued], tmp_path: Path) -> None:
    from app.ruling.pki import ensure_dev_pki, read_certificates

    other = ensure_dev_pki(tmp_path, COURT, "粤0311")
    result = verify_pdf(issued["confirmation"].signed, read_certificates([other.root_cert]))
    assert not result.ok
    assert result.signatures[0].intact and not result.signatures[0].trusted


def test_pages_for_a_human_look(issued: dict[str, Issued]) -> None:
    """Renders every page to PNG under test-artifacts/ for a visual check of the layout."""
    for name in ("confirmation", "rejection"):
        run("pdftoppm", "-r", "70", "-png", issued[name].path, ARTIFACTS / f"look-{name}")
    assert list(ARTIFACTS.glob("look-confirmation-*.png"))


def test_voucher_renders_signs_and_validates(
    renderer: RulingRenderer,
    signer: PdfSigner,
    issued: dict[str, Issued],
    roots: list[x509.Certificate],
    nss_db: str,
) -> None:
    ruling_sha = hashlib.sha256(issued["confirmation"].signed).hexdigest()
    data = voucher(ruling_sha)
    signed = signer.sign(renderer.render_voucher(data), reason="电子送达凭证", location=COURT)
    path = save("voucher.pdf", signed)
    result = verify_pdf(signed, roots)
    assert result.ok, result.problems
    out = run("pdfsig", "-nssdir", nss_db, path).stdout
    assert "Signature is Valid." in out and "Certificate is Trusted." in out
    assert "No syntax or stream encoding errors found" in run("qpdf", "--check", path).stdout
    flat = squash(pdf_text(path))
    assert "电子送达凭证" in squash(pdf_text(path))
    assert ruling_sha in flat
    assert "2026年11月27日10时05分09秒" in flat
    assert "第1页共1页" in flat
    run("pdftoppm", "-r", "200", "-png", path, ARTIFACTS / "voucher")
    decoded = run("zbarimg", "--raw", "-q", ARTIFACTS / "voucher-1.png").stdout.split()
    assert decoded == [data.verification_url]
