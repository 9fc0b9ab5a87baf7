"""PAdES signing of rulings and vouchers with pyHanko.

Build one PdfSigner per process from a SigningIdentity. It keeps the parsed private key and
reserves a fixed signature size: pyHanko's stock SimpleSigner re-parses the key on every
signature and a size estimate costs a dry-run signature, together about 65 ms against
about 15 ms without (stack-notes).

Levels: PAdES baseline B-B by default; B-T (a signature timestamp from an RFC 3161
authority) when a timestamp URL is configured.

Event loops: `sign_async` runs on the caller's loop. The timestamp request is awaited
without blocking, but the hashing and RSA work (~15 ms) run on the loop; a server that
cares may call the synchronous `sign` in a thread executor instead. `sign` must not be
called from a thread that runs an event loop (it starts its own).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from typing import Literal

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from app.ruling.errors import SigningError
from app.ruling.pki import SigningIdentity

PadesLevel = Literal["B-B", "B-T"]

# Room for the signature, in bytes of the hex-encoded /Contents (twice the CMS size). The
# CMS carries the chain (RSA-2048 signer + RSA-3072 root: ~4.2 KB) and, for B-T, a
# timestamp token with the TSA's certificate. Fixed and generous, so no dry run is needed;
# a bigger certificate chain (a production CA with intermediates) may need bytes_reserved.
_RESERVED_B_B = 16 * 1024
_RESERVED_B_T = 32 * 1024


@dataclass(frozen=True, slots=True)
class SignOptions:
    timestamp_url: str | None = None  # RFC 3161 TSA: B-T; None: B-B
    timestamp_timeout: float = 10.0
    # A certification signature that permits no later change (DocMDP P=1): a served ruling
    # is final. PAdES still allows validation data and document timestamps to be added.
    certify: bool = True
    bytes_reserved: int | None = None  # None: a size fitting the level


class _LoadedKeySigner(signers.SimpleSigner):
    """SimpleSigner that signs with an already-loaded key instead of re-parsing DER each time."""

    def __init__(self, identity: SigningIdentity) -> None:
        key_der = identity.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # pyHanko: untyped
        registry.register(_to_asn1(identity.cert))
        for c in identity.chain:
            registry.register(_to_asn1(c))
        super().__init__(
            signing_cert=_to_asn1(identity.cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=registry,
        )
        self._key = identity.key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algo))
        result: bytes = super().sign_raw(data, digest_algorithm)  # PSS and the rest: stock path
        return result


class PdfSigner:
    """Signs PDFs as the court. Build once; `sign`/`sign_async` may be called concurrently."""

    def __init__(self, identity: SigningIdentity, options: SignOptions | None = None) -> None:
        self.options = options or SignOptions()
        self.identity = identity
        self._signer = _LoadedKeySigner(identity)
        self._timestamper: TimeStamper | None = (
            HTTPTimeStamper(self.options.timestamp_url, timeout=self.options.timestamp_timeout)
            if self.options.timestamp_url
            else None
        )
        self._reserved = self.options.bytes_reserved or (
            _RESERVED_B_T if self._timestamper else _RESERVED_B_B
        )

    @property
    def level(self) -> PadesLevel:
        return "B-T" if self._timestamper else "B-B"

    @property
    def certificate_sha256(self) -> str:
        return hashlib.sha256(
            self.identity.cert.public_bytes(serialization.Encoding.DER)
        ).hexdigest()

    def sign(
        self, pdf: bytes, *, reason: str, location: str, field_name: str = "CourtSignature"
    ) -> bytes:
        """Synchronous signing; not for a thread that is running an event loop."""
        return asyncio.run(
            self.sign_async(pdf, reason=reason, location=location, field_name=field_name)
        )

    async def sign_async(
        self, pdf: bytes, *, reason: str, location: str, field_name: str = "CourtSignature"
    ) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            location=location,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=self.options.certify,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
        pdf_signer = signers.PdfSigner(meta, self._signer, timestamper=self._timestamper)
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            out = await pdf_signer.async_sign_pdf(
                writer, bytes_reserved=self._reserved, output=io.BytesIO()
            )
        except HankoSigningError as e:
            raise SigningError(f"signing failed: {e}") from e
        except Exception as e:
            # Timestamp authority unreachable or refusing, malformed input PDF, …: one error
            # type for the caller, the cause kept.
            raise SigningError(f"signing failed ({type(e).__name__}): {e}") from e
        data: bytes = out.getvalue()
        return data


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
