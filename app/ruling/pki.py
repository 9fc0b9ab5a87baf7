"""Signing keys and certificates: a development PKI, production PKCS#12 loading, and an NSS
database for poppler's pdfsig.

Development PKI (never for real rulings): a root CA and a court signing certificate issued
by it, plus a timestamping (TSA) certificate for a local RFC 3161 service. Certificates
carry what validators look for: the signing certificate has digitalSignature and
nonRepudiation, and extended key usages document signing (both the IETF and the Microsoft
OID) and emailProtection, without which poppler's pdfsig reports "Unknown issue with
Certificate" (stack-notes).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from app.ruling.errors import PkiError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

OID_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning, RFC 9336
OID_MS_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")  # Adobe/Microsoft

DEV_ROOT_NAME = "Sifa 开发用根证书（不可信）"
# Reissue a development certificate that would expire within this margin.
_RENEW_MARGIN = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class PkiPaths:
    root_cert: Path
    root_key: Path
    signing_cert: Path
    signing_key: Path


@dataclass(frozen=True, slots=True)
class TsaPaths:
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """A loaded private key, its certificate, and the chain up to (and including) the root."""

    key: SigningKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def ensure_dev_pki(
    certs_dir: Path, court_name: str, court_code: str, *, now: dt.datetime | None = None
) -> PkiPaths:
    """Create the development root CA and court signing certificate unless usable ones exist.

    Idempotent: existing files are kept while they load, match each other, name this court
    and stay valid for a while; otherwise the affected part is reissued (a new root means a
    new signing certificate too). Files are written atomically; private keys with mode 0600.
    """
    now = now or dt.datetime.now(dt.UTC)
    certs_dir.mkdir(parents=True, exist_ok=True)
    paths = PkiPaths(
        root_cert=certs_dir / "dev-root-ca.pem",
        root_key=certs_dir / "dev-root-ca.key",
        signing_cert=certs_dir / "court-signing.pem",
        signing_key=certs_dir / "court-signing.key",
    )
    root = _load_pair(paths.root_cert, paths.root_key, now)
    if root is None:
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        root_cert = _issue_root(root_key, now)
        _write_key(paths.root_key, root_key)
        _write_atomic(paths.root_cert, root_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    ensure_dev_signing(paths, signer_subject(court_name, court_code), now=now)
    return paths


def signer_subject(name: str, unit: str) -> x509.Name:
    """A signer's subject: CN and O its name, OU what tells it apart (a court's code, a
    committee's number), C=CN. In the order court certificates always had: the ones already
    issued still fit, and are not reissued."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )


def ensure_dev_signing(
    paths: PkiPaths, subject: x509.Name, *, now: dt.datetime | None = None
) -> None:
    """Issue paths' signing certificate from the existing root, unless a usable one names this
    subject: another court's certificate beside the configured one's (court_keys.py), or a
    mediation committee's seal (committee_keys.py)."""
    now = now or dt.datetime.now(dt.UTC)
    # A certificate from a replaced root no longer verifies against it, so _fits reissues it.
    # The root's key is read only to issue: loading and checking it takes ~130 ms (RSA-3072).
    signing = _load_pair(paths.signing_cert, paths.signing_key, now)
    root_cert = _load_cert(paths.root_cert)
    if signing is not None and root_cert is not None and _fits(signing[0], root_cert, subject):
        return
    root = _load_pair(paths.root_cert, paths.root_key, now)
    if root is None:
        raise PkiError(f"no usable development root in {paths.root_cert.parent}: run sifa init")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _issue_signing(key, root, subject, now)
    _write_key(paths.signing_key, key)
    _write_atomic(paths.signing_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure_dev_tsa(certs_dir: Path, pki: PkiPaths, *, now: dt.datetime | None = None) -> TsaPaths:
    """A development timestamping certificate (RSA: pyHanko's test TSA signs with RSA only),
    issued by the development root with the critical timeStamping usage RFC 3161 requires."""
    now = now or dt.datetime.now(dt.UTC)
    paths = TsaPaths(cert=certs_dir / "dev-tsa.pem", key=certs_dir / "dev-tsa.key")
    root = _load_pair(pki.root_cert, pki.root_key, now)
    if root is None:
        raise PkiError(f"no usable development root in {pki.root_cert.parent}: run ensure_dev_pki")
    existing = _load_pair(paths.cert, paths.key, now)
    if existing is not None and _verify_issued(existing[0], root[0]):
        return paths
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Sifa 开发用时间戳服务（不可信）"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sifa development"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )
    cert = (
        leaf_builder(name, key, root, now, days=825)
        .add_extension(
            key_usage(digital_signature=True),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root[1], hashes.SHA256())
    )
    _write_key(paths.key, key)
    _write_atomic(paths.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return paths


def load_identity(
    key_path: Path,
    cert_path: Path,
    chain_paths: Sequence[Path] = (),
    passphrase: bytes | None = None,
) -> SigningIdentity:
    """A signing identity from PEM files (the development layout)."""
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), passphrase)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        chain = tuple(
            c for p in chain_paths for c in x509.load_pem_x509_certificates(p.read_bytes())
        )
    except (OSError, ValueError, TypeError) as e:
        raise PkiError(f"cannot load signing key/certificate {key_path}, {cert_path}: {e}") from e
    return _identity(key, cert, chain, str(key_path))


def load_dev_identity(paths: PkiPaths) -> SigningIdentity:
    return load_identity(paths.signing_key, paths.signing_cert, [paths.root_cert])


def load_pkcs12_identity(path: Path, passphrase: str | bytes | None) -> SigningIdentity:
    """A production signing identity from a PKCS#12 (.p12/.pfx) file and its passphrase."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except (OSError, ValueError) as e:
        raise PkiError(f"cannot open PKCS#12 file {path}: {e}") from e
    if key is None or cert is None:
        raise PkiError(f"PKCS#12 file {path} holds no private key with its certificate")
    return _identity(key, cert, tuple(extra), str(path))


def write_pkcs12(
    path: Path, identity: SigningIdentity, passphrase: bytes, name: str = "court"
) -> None:
    """Export an identity as PKCS#12 (to install the development signer elsewhere, or test)."""
    data = pkcs12.serialize_key_and_certificates(
        name.encode(),
        identity.key,
        identity.cert,
        list(identity.chain),
        serialization.BestAvailableEncryption(passphrase),
    )
    _write_atomic(path, data, 0o600)


def read_certificates(paths: Sequence[Path]) -> list[x509.Certificate]:
    """Trust roots (or any certificates) from PEM files."""
    try:
        return [c for p in paths for c in x509.load_pem_x509_certificates(p.read_bytes())]
    except (OSError, ValueError) as e:
        raise PkiError(f"cannot read certificates from {[str(p) for p in paths]}: {e}") from e


def build_nss_db(db_dir: Path, ca_cert: Path, nickname: str = "sifa-dev-root") -> str:
    """An NSS database trusting ca_cert for signatures, for poppler's pdfsig -nssdir.

    Returns the value for -nssdir ("sql:DIR"). Needs certutil (Debian: libnss3-tools)."""
    db_dir.mkdir(parents=True, exist_ok=True)
    spec = f"sql:{db_dir}"
    try:
        if not (db_dir / "cert9.db").exists():
            subprocess.run(
                ["certutil", "-N", "--empty-password", "-d", spec],
                check=True,
                capture_output=True,
                timeout=30,
            )
        subprocess.run(
            ["certutil", "-A", "-d", spec, "-n", nickname, "-t", "CT,C,C", "-i", str(ca_cert)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except FileNotFoundError as e:
        raise PkiError("certutil is not installed (Debian package libnss3-tools)") from e
    except subprocess.CalledProcessError as e:
        raise PkiError(f"certutil failed: {e.stderr.decode(errors='replace').strip()}") from e
    return spec


# -- internals ------------------------------------------------------------------------------


def _identity(
    key: object, cert: x509.Certificate, chain: tuple[x509.Certificate, ...], source: str
) -> SigningIdentity:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PkiError(f"{source}: only RSA and EC signing keys are supported")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise PkiError(f"{source}: the private key does not belong to the certificate")
    return SigningIdentity(key, cert, chain)


def _load_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _load_pair(
    cert_path: Path, key_path: Path, now: dt.datetime
) -> tuple[x509.Certificate, SigningKey] | None:
    """A certificate and its key, or None when missing, broken, mismatched or expiring."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return None
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        return None
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc - _RENEW_MARGIN:
        return None
    return cert, key


def _fits(cert: x509.Certificate, root: x509.Certificate, subject: x509.Name) -> bool:
    # The whole subject: a renamed signer gets a certificate naming its new name.
    return cert.subject == subject and cert.issuer == root.subject and _verify_issued(cert, root)


def _verify_issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _issue_root(key: rsa.RSAPrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEV_ROOT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sifa development"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            key_usage(key_cert_sign=True, crl_sign=True),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    """A KeyUsage with only the named bits (no key or data encipherment anywhere here)."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def leaf_builder(
    name: x509.Name,
    key: SigningKey,
    root: tuple[x509.Certificate, SigningKey],
    now: dt.datetime,
    days: int,
) -> x509.CertificateBuilder:
    root_cert, root_key = root
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), root_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
    )


def _issue_signing(
    key: rsa.RSAPrivateKey,
    root: tuple[x509.Certificate, SigningKey],
    subject: x509.Name,
    now: dt.datetime,
) -> x509.Certificate:
    return (
        leaf_builder(subject, key, root, now, days=825)
        .add_extension(
            key_usage(digital_signature=True, content_commitment=True),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [
                    OID_DOCUMENT_SIGNING,
                    OID_MS_DOCUMENT_SIGNING,
                    ExtendedKeyUsageOID.EMAIL_PROTECTION,
                ]
            ),
            critical=False,
        )
        .sign(root[1], hashes.SHA256())
    )


def _write_key(path: Path, key: SigningKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),  # development only; production keys come from PKCS#12
    )
    _write_atomic(path, pem, 0o600)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a temporary file in the same directory, fsync, rename: a crash leaves either
    the old file or the new one, never a torn key. The mode is set before any byte is written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
