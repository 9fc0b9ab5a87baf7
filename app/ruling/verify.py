"""Verifying a signed ruling or voucher with pyHanko's validation API.

`verify_pdf` answers: is every signature intact and trusted by our roots, does the last one
cover the whole file, who signed and when, is there a valid timestamp, and (when the
expected hash is known) is this byte for byte the file the court issued.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True, slots=True)
class VerificationResult:
    sha256: str
    signatures: tuple[SignatureCheck, ...]
    expected_sha256: str | None = None
    require_timestamp: bool = False
    error: str | None = None  # the file could not be read or validated at all

    @property
    def matches_expected(self) -> bool | None:
        return None if self.expected_sha256 is None else self.sha256 == self.expected_sha256.lower()

    @property
    def problems(self) -> list[str]:
        out: list[str] = []
        if self.error:
            out.append(self.error)
        if not self.signatures and not self.error:
            out.append("the file carries no signature")
        for s in self.signatures:
            if not s.intact:
                out.append(f"{s.field_name}: the signed content was altered")
            elif not s.valid:
                out.append(f"{s.field_name}: the signature value is invalid")
            if not s.trusted:
                out.append(f"{s.field_name}: the signer is not trusted by the configured roots")
            if s.docmdp_ok is False:
                out.append(f"{s.field_name}: the document was changed after certification")
            if s.timestamp is not None and not s.timestamp.ok:
                out.append(f"{s.field_name}: the signature timestamp is not valid or not trusted")
            if self.require_timestamp and s.timestamp is None:
                out.append(f"{s.field_name}: no signature timestamp (B-T required)")
        if self.signatures and not self.signatures[-1].covers_whole_document:
            out.append("content was appended after the last signature")
        if self.matches_expected is False:
            out.append("the file differs from the one the court issued (SHA-256 mismatch)")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


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

    def result(checks: tuple[SignatureCheck, ...], error: str | None = None) -> VerificationResult:
        return VerificationResult(sha256, checks, expected_sha256, require_timestamp, error)

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as e:  # pyHanko raises PdfReadError and friends on a damaged file
        return result((), f"unreadable PDF ({type(e).__name__}: {e})")
    checks: list[SignatureCheck] = []
    for sig in embedded:
        try:
            status = await async_validate_pdf_signature(sig, context)
        except Exception as e:
            error = f"{sig.field_name}: cannot validate ({type(e).__name__}: {e})"
            return result(tuple(checks), error)
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
            f"  intact: {_yn(s.intact)}  valid: {_yn(s.valid)}  trusted: {_yn(s.trusted)}"
            f"  covers whole file: {_yn(s.covers_whole_document)}",
            f"  signing time (claimed): {_when(s.signing_time)}",
            f"  timestamp: {_timestamp(s.timestamp)}",
        ]
    if result.matches_expected is not None:
        lines.append(f"matches issued file: {_yn(result.matches_expected)}")
    lines += [f"problem: {p}" for p in result.problems]
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


def _yn(flag: bool) -> str:
    return "yes" if flag else "NO"


def _when(t: datetime | None) -> str:
    return "-" if t is None else t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S +08:00")
