"""Verifying a signed ruling or voucher with pyHanko's validation API.

`verify_pdf` answers: is every signature intact and trusted by our roots, does the last one
cover the whole file, who signed and when, is there a valid timestamp, and (when the
expected hash is known) is this byte for byte the file the court issued.

What it finds is told apart, because each means something else to the reader:
content altered (the bytes differ from the issued original, or the signed bytes changed),
signature broken (the signature value itself does not validate) and signer untrusted (a
sound signature whose certificate does not chain to the court's root). pyHanko checks trust
only for an intact, valid signature, so an altered file is never also called untrusted.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal, TextIO

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from app.ruling.chinese import BEIJING
from app.ruling.errors import PkiError
from app.ruling.pki import read_certificates

RevocationMode = Literal["soft-fail", "hard-fail", "require"]


@dataclass(frozen=True, slots=True)
class TimestampCheck:
    time: datetime
    intact: bool
    valid: bool
    trusted: bool

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    field_name: str
    intact: bool  # the signed bytes hash to what the signature says
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the signer's chain ends in one of our trust roots, usages fit
    covers_whole_document: bool
    docmdp_ok: bool | None  # later changes, if any, are allowed (None: not evaluated)
    signer_subject: str
    signer_cert_sha256: str
    signing_time: datetime | None  # as the signer claims it (/M); see timestamp for proof
    timestamp: TimestampCheck | None
    summary: str  # pyHanko's one-line summary, for logs

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.docmdp_ok is not False


class Finding(StrEnum):
    """What kind of thing is wrong with a file, as a reader needs to know it."""

    CONTENT_ALTERED = "content_altered"
    SIGNATURE_BROKEN = "signature_broken"
    SIGNER_UNTRUSTED = "signer_untrusted"
    UNSIGNED = "unsigned"
    UNREADABLE = "unreadable"
    TIMESTAMP = "timestamp"


# Headlines, "中文 / English" like every domain message (pages show one half).
FINDING_LABEL: dict[Finding, str] = {
    Finding.CONTENT_ALTERED: "内容已被改动 / Content altered",
    Finding.SIGNATURE_BROKEN: "签名已损坏 / Signature broken",
    Finding.SIGNER_UNTRUSTED: "签名人不受信任 / Signer not trusted",
    Finding.UNSIGNED: "文件没有电子签名 / Not signed",
    Finding.UNREADABLE: "无法读取文件 / Unreadable file",
    Finding.TIMESTAMP: "签名时间戳有问题 / Timestamp problem",
}

_MESSAGES: dict[str, tuple[Finding, str]] = {
    "sha256_mismatch": (
        Finding.CONTENT_ALTERED,
        "文件与本院出具的原件不一致（SHA-256 不符）。"
        " / The file differs from the original the court issued (SHA-256 mismatch).",
    ),
    "signed_bytes_modified": (
        Finding.CONTENT_ALTERED,
        "签名覆盖的内容在签名后被改动。 / The signed content was modified after signing.",
    ),
    "appended": (
        Finding.CONTENT_ALTERED,
        "最后一个签名之后，文件被追加了内容。 / Content was appended after the last signature.",
    ),
    "changed_after_certification": (
        Finding.CONTENT_ALTERED,
        "文件在签章后被修改，超出签章允许的范围。 / The document was changed after certification.",
    ),
    "signature_invalid": (
        Finding.SIGNATURE_BROKEN,
        "签名值无法通过校验：签名本身已损坏。"
        " / The signature value does not validate: the signature itself is broken.",
    ),
    "cannot_validate": (
        Finding.SIGNATURE_BROKEN,
        "签名数据已损坏，无法校验。 / The signature data is damaged and cannot be validated.",
    ),
    "untrusted": (
        Finding.SIGNER_UNTRUSTED,
        "签名本身有效，但签名证书不能追溯到本院信任的根证书。"
        " / The signature is valid, but its certificate does not chain to the court's root.",
    ),
    "unsigned": (Finding.UNSIGNED, "文件没有电子签名。 / The file carries no signature."),
    "unreadable": (Finding.UNREADABLE, "无法读取该 PDF 文件。 / The PDF cannot be read."),
    "timestamp_invalid": (
        Finding.TIMESTAMP,
        "签名时间戳无效或不受信任。 / The signature timestamp is not valid or not trusted.",
    ),
    "timestamp_missing": (
        Finding.TIMESTAMP,
        "签名没有时间戳（要求 B-T 级别）。 / No signature timestamp (B-T required).",
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    code: str  # a key of _MESSAGES: sha256_mismatch, signature_invalid, untrusted, …
    signature: str | None = None  # the signature field it concerns
    detail: str | None = None  # the parser's words, for logs and the command line

    @property
    def finding(self) -> Finding:
        return _MESSAGES[self.code][0]

    @property
    def message(self) -> str:
        """ "中文 / English"."""
        return _MESSAGES[self.code][1]

    def __str__(self) -> str:
        where = f"{self.signature}: " if self.signature else ""
        more = f" ({self.detail})" if self.detail else ""
        return f"{where}{self.message}{more}"


def _signature_problems(s: SignatureCheck, require_timestamp: bool) -> list[Problem]:
    out: list[Problem] = []
    name = s.field_name
    if not s.intact:
        out.append(Problem("signed_bytes_modified", name))
    if not s.valid:
        out.append(Problem("signature_invalid", name))
    # Trust is a question only about a sound signature: pyHanko leaves it unchecked otherwise.
    if s.intact and s.valid and not s.trusted:
        out.append(Problem("untrusted", name))
    if s.docmdp_ok is False:
        out.append(Problem("changed_after_certification", name))
    if s.timestamp is not None and not s.timestamp.ok:
        out.append(Problem("timestamp_invalid", name))
    if require_timestamp and s.timestamp is None:
        out.append(Problem("timestamp_missing", name))
    return out


@dataclass(frozen=True, slots=True)
class VerificationResult:
    sha256: str
    signatures: tuple[SignatureCheck, ...]
    expected_sha256: str | None = None
    require_timestamp: bool = False
    error: Problem | None = None  # the file, or a signature in it, could not be validated at all

    @property
    def matches_expected(self) -> bool | None:
        return None if self.expected_sha256 is None else self.sha256 == self.expected_sha256.lower()

    @property
    def findings(self) -> tuple[Problem, ...]:
        out: list[Problem] = []
        if self.matches_expected is False:
            out.append(Problem("sha256_mismatch"))
        if self.error is not None:
            out.append(self.error)
        elif not self.signatures:
            out.append(Problem("unsigned"))
        for s in self.signatures:
            out += _signature_problems(s, self.require_timestamp)
        if self.signatures and not self.signatures[-1].covers_whole_document:
            out.append(Problem("appended"))
        return tuple(out)

    @property
    def kinds(self) -> frozenset[Finding]:
        return frozenset(p.finding for p in self.findings)

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.findings]

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_pdf(
    pdf: bytes,
    trust_roots: Sequence[x509.Certificate],
    expected_sha256: str | None = None,
    *,
    require_timestamp: bool = False,
    revocation_mode: RevocationMode = "soft-fail",
) -> VerificationResult:
    """Synchronous verification; not for a thread that is running an event loop."""
    return asyncio.run(
        verify_pdf_async(
            pdf,
            trust_roots,
            expected_sha256,
            require_timestamp=require_timestamp,
            revocation_mode=revocation_mode,
        )
    )


async def verify_pdf_async(
    pdf: bytes,
    trust_roots: Sequence[x509.Certificate],
    expected_sha256: str | None = None,
    *,
    require_timestamp: bool = False,
    revocation_mode: RevocationMode = "soft-fail",
) -> VerificationResult:
    """Verify every signature in pdf against trust_roots.

    revocation_mode "soft-fail" (default) accepts certificates whose revocation status
    cannot be learnt: the development PKI publishes no CRL or OCSP, and nothing is fetched
    from the network here. Production with a real CA should pass "hard-fail".
    """
    sha256 = hashlib.sha256(pdf).hexdigest()
    roots = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in trust_roots
    ]
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode=revocation_mode
    )

    def result(
        checks: tuple[SignatureCheck, ...], error: Problem | None = None
    ) -> VerificationResult:
        return VerificationResult(sha256, checks, expected_sha256, require_timestamp, error)

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as e:  # pyHanko raises PdfReadError and friends on a damaged file
        return result((), Problem("unreadable", detail=f"{type(e).__name__}: {e}"))
    try:
        # Parses each signature's CMS: a file that reads but whose signature does not parse
        # has a broken signature, not an unreadable body.
        embedded = reader.embedded_signatures
    except Exception as e:
        return result((), Problem("cannot_validate", detail=f"{type(e).__name__}: {e}"))
    checks: list[SignatureCheck] = []
    for sig in embedded:
        try:
            status = await async_validate_pdf_signature(sig, context)
        except Exception as e:
            # A signature whose CMS no longer parses: the signature is what is broken.
            detail = f"{type(e).__name__}: {e}"
            return result(tuple(checks), Problem("cannot_validate", sig.field_name, detail))
        checks.append(_check(sig.field_name, status))
    return result(tuple(checks))


def _check(field_name: str, st: PdfSignatureStatus) -> SignatureCheck:
    ts = st.timestamp_validity
    return SignatureCheck(
        field_name=field_name,
        intact=bool(st.intact),
        valid=bool(st.valid),
        trusted=bool(st.trusted),
        covers_whole_document=st.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        docmdp_ok=st.docmdp_ok,
        signer_subject=st.signing_cert.subject.human_friendly,
        signer_cert_sha256=hashlib.sha256(st.signing_cert.dump()).hexdigest(),
        signing_time=st.signer_reported_dt,
        timestamp=None
        if ts is None
        else TimestampCheck(ts.timestamp, bool(ts.intact), bool(ts.valid), bool(ts.trusted)),
        summary=st.summary(),
    )


def format_result(result: VerificationResult, name: str = "") -> str:
    """A human report, one fact a line (for `sifa ruling verify FILE`)."""
    lines = [f"文件 File: {name}" if name else "", f"SHA-256: {result.sha256}"]
    for s in result.signatures:
        lines += [
            f"签名 Signature {s.field_name}:",
            f"  signer: {s.signer_subject}",
            f"  certificate SHA-256: {s.signer_cert_sha256}",
            f"  signed content intact 内容完整: {_yn(s.intact)}",
            f"  signature valid 签名有效: {_yn(s.valid)}",
            f"  signer trusted 签名人可信: {_trust(s)}",
            f"  covers whole file: {_yn(s.covers_whole_document)}",
            f"  signing time (claimed): {_when(s.signing_time)}",
            f"  timestamp: {_timestamp(s.timestamp)}",
        ]
    if result.matches_expected is not None:
        lines.append(f"与原件一致 matches issued file: {_yn(result.matches_expected)}")
    for kind in Finding:
        found = [p for p in result.findings if p.finding is kind]
        if found:
            lines.append(f"✘ {FINDING_LABEL[kind]}")
            lines += [f"  - {p}" for p in found]
    lines.append("结果 Result: VALID 有效" if result.ok else "结果 Result: INVALID 无效")
    return "\n".join(line for line in lines if line)


def run_verify_command(
    path: Path,
    trust_root_files: Sequence[Path],
    out: TextIO,
    *,
    expected_sha256: str | None = None,
    require_timestamp: bool = False,
) -> int:
    """The body of `sifa ruling verify FILE`: print the report, return the exit status
    (0 valid, 1 invalid, 2 could not run)."""
    try:
        roots = read_certificates(trust_root_files)
        data = path.read_bytes()
    except (OSError, PkiError) as e:
        print(f"error: {e}", file=out)
        return 2
    result = verify_pdf(data, roots, expected_sha256, require_timestamp=require_timestamp)
    print(format_result(result, str(path)), file=out)
    return 0 if result.ok else 1


def _timestamp(ts: TimestampCheck | None) -> str:
    if ts is None:
        return "none"
    return f"{_when(ts.time)} ({'valid' if ts.ok else 'NOT VALID'})"


def _trust(s: SignatureCheck) -> str:
    if not (s.intact and s.valid):
        return "not checked 未核验 (the signature is not sound)"
    return _yn(s.trusted)


def _yn(flag: bool) -> str:
    return "yes" if flag else "NO"


def _when(t: datetime | None) -> str:
    return "-" if t is None else t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S +08:00")
