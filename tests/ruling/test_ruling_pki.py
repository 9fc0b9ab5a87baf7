"""Development PKI, PKCS#12 loading and the NSS database helper."""

from __future__ import annotations

import datetime as dt
import stat
from dataclasses import astuple
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ruling_support import COURT, require_tool

from app.ruling.errors import PkiError
from app.ruling.pki import (
    OID_DOCUMENT_SIGNING,
    OID_MS_DOCUMENT_SIGNING,
    PkiPaths,
    TsaPaths,
    build_nss_db,
    ensure_dev_pki,
    load_dev_identity,
    load_identity,
    load_pkcs12_identity,
    write_pkcs12,
)
from app.ruling.sign import PdfSigner


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_signing_certificate_has_what_validators_expect(pki: PkiPaths) -> None:
    c = cert(pki.signing_cert)
    subject = {a.oid: a.value for a in c.subject}
    assert subject[NameOID.COMMON_NAME] == COURT
    assert subject[NameOID.ORGANIZATION_NAME] == COURT
    assert subject[NameOID.COUNTRY_NAME] == "CN"
    assert subject[NameOID.ORGANIZATIONAL_UNIT_NAME] == "粤0311"
    ku = c.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert OID_DOCUMENT_SIGNING in eku and OID_MS_DOCUMENT_SIGNING in eku
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku  # pdfsig insists (stack-notes)
    assert c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    root = cert(pki.root_cert)
    c.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_tsa_certificate_has_critical_time_stamping(tsa_paths: TsaPaths, pki: PkiPaths) -> None:
    c = cert(tsa_paths.cert)
    eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    c.verify_directly_issued_by(cert(pki.root_cert))


def test_private_keys_are_private(pki: PkiPaths, tsa_paths: TsaPaths) -> None:
    for key in (pki.root_key, pki.signing_key, tsa_paths.key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert not list(pki.root_cert.parent.glob(".*"))  # no temporary files left behind


def test_ensure_is_idempotent_and_repairs(tmp_path: Path) -> None:
    first = ensure_dev_pki(tmp_path, COURT, "粤0311")
    before = {p: p.read_bytes() for p in astuple(first)}
    again = ensure_dev_pki(tmp_path, COURT, "粤0311")
    assert again == first
    assert {p: p.read_bytes() for p in astuple(again)} == before

    # Another court name: a new signing certificate under the same root.
    ensure_dev_pki(tmp_path, "深圳市宝安区人民法院", "粤0306")
    assert first.root_cert.read_bytes() == before[first.root_cert]
    assert (
        cert(first.signing_cert).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        == "深圳市宝安区人民法院"
    )

    # A damaged key is replaced.
    first.signing_key.write_text("garbage")
    ensure_dev_pki(tmp_path, COURT, "粤0311")
    load_dev_identity(first)

    # A root near expiry is replaced, and everything it issued with it.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
    ensure_dev_pki(tmp_path, COURT, "粤0311", now=later)
    assert first.root_cert.read_bytes() != before[first.root_cert]
    cert(first.signing_cert).verify_directly_issued_by(cert(first.root_cert))


def test_pkcs12_round_trip(pki: PkiPaths, tmp_path: Path) -> None:
    identity = load_dev_identity(pki)
    p12 = tmp_path / "court.p12"
    write_pkcs12(p12, identity, b"s3cret")
    loaded = load_pkcs12_identity(p12, "s3cret")
    assert loaded.cert == identity.cert
    assert loaded.chain == identity.chain
    assert PdfSigner(loaded).certificate_sha256 == PdfSigner(identity).certificate_sha256
    with pytest.raises(PkiError):
        load_pkcs12_identity(p12, "wrong")
    with pytest.raises(PkiError):
        load_pkcs12_identity(tmp_path / "missing.p12", "s3cret")


def test_mismatched_key_and_certificate_are_refused(pki: PkiPaths) -> None:
    with pytest.raises(PkiError, match="does not belong"):
        load_identity(pki.root_key, pki.signing_cert)


def test_nss_db_trusts_the_root(pki: PkiPaths, tmp_path: Path) -> None:
    certutil = require_tool("certutil")
    spec = build_nss_db(tmp_path / "nss", pki.root_cert)
    assert spec == f"sql:{tmp_path / 'nss'}"
    import subprocess

    listing = subprocess.run([certutil, "-L", "-d", spec], capture_output=True, text=True).stdout
    assert any(
        line.startswith("sifa-dev-root") and line.split()[-1] == "CT,C,C"
        for line in listing.splitlines()
    ), listing
    build_nss_db(tmp_path / "nss", pki.root_cert)  # again: idempotent
