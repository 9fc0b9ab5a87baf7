"""HTTPS rules: HSTS, Secure cookies, trusting X-Forwarded-Proto, and the development server
certificate (names, SANs, serverAuth, never overwritten silently)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from app.config import Settings
from app.domain.errors import ValidationError
from app.ruling.pki import ensure_dev_pki
from app.tls_certs import (
    CertificateExists,
    Decision,
    ensure_dev_server_cert,
    parse_server_names,
)
from app.web.tls import (
    TlsFilesUnusable,
    forwarded_https,
    public_url_for,
    secure_cookies,
    serving_tls,
    wants_hsts,
)

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
LB = [ipaddress.ip_network("10.0.0.2/32")]


@pytest.mark.parametrize(
    ("secure", "public_url", "expected"),
    [
        (True, "http://127.0.0.1:8080", True),  # TLS on the node
        (False, "https://sifa.court.example", True),  # TLS on the balancer
        (False, "HTTPS://sifa.court.example", True),
        (False, "http://127.0.0.1:8080", False),  # plain http throughout
    ],
)
def test_hsts_and_secure_cookies_follow_what_the_browser_sees(
    secure: bool, public_url: str, expected: bool
) -> None:
    assert wants_hsts(secure=secure, public_url=public_url) is expected
    assert secure_cookies(secure=secure, public_url=public_url) is expected


def test_x_forwarded_proto_is_believed_from_a_trusted_balancer_only() -> None:
    assert forwarded_https("10.0.0.2", ["https"], LB)
    assert forwarded_https("10.0.0.2", ["HTTPS, http"], LB)  # the client-facing hop first
    assert not forwarded_https("10.0.0.2", ["http"], LB)
    assert not forwarded_https("10.0.0.9", ["https"], LB)  # the client's own claim
    assert not forwarded_https("10.0.0.2", ["https"], [])  # no balancer configured
    assert not forwarded_https("10.0.0.2", [], LB)
    assert not forwarded_https(None, ["https"], LB)
    assert not forwarded_https("unix-socket", ["https"], LB)


def test_the_default_public_address_is_https_when_the_node_serves_tls() -> None:
    assert public_url_for("http://10.0.0.5:8443", configured=False, tls=True) == (
        "https://10.0.0.5:8443"
    )
    assert public_url_for("http://10.0.0.5:8080", configured=False, tls=False) == (
        "http://10.0.0.5:8080"
    )
    # An address the operator gave is theirs, even http (a balancer may sit in front).
    assert public_url_for("http://lb:80", configured=True, tls=True) == "http://lb:80"


def test_server_names_are_parsed_into_host_names_and_addresses() -> None:
    names = parse_server_names(" Hall.Test, 127.0.0.1,,[::1], hall.test, 法院.test , *.hall.test")
    assert names.dns == ("hall.test", "xn--nww899f.test", "*.hall.test")
    assert names.ips == (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
    assert names.common_name == "hall.test"
    assert parse_server_names("10.0.0.5").common_name == "10.0.0.5"


@pytest.mark.parametrize("bad", ["", " , ", "hall..test", "-hall.test", "a b", "x" * 64 + ".test"])
def test_bad_server_names_are_refused_naming_the_entry(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_server_names(bad)
    ((field, problem),) = refused.value.problems
    assert field == "--server-cert" and " / " in problem  # Chinese, then English


@pytest.fixture(scope="module")
def dev_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    ensure_dev_pki(folder, "深圳市光明区人民法院", "粤0311", now=NOW)
    return folder


@pytest.fixture
def certs(dev_root: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    for name in ("dev-root-ca.pem", "dev-root-ca.key"):
        (folder / name).write_bytes((dev_root / name).read_bytes())
    return folder


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_server_certificate_is_what_browsers_check(certs: Path) -> None:
    names = parse_server_names("hall.test,127.0.0.1")
    paths, decision = ensure_dev_server_cert(certs, names, now=NOW)
    assert decision is Decision.ISSUE
    cert, root = load(paths.cert), load(certs / "dev-root-ca.pem")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["hall.test"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    cert.verify_directly_issued_by(root)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=398)
    # The key is the certificate's, and readable by its owner only.
    key = serialization.load_pem_private_key(paths.key.read_bytes(), None)
    assert key.public_key() == cert.public_key()
    assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600
    assert not [p.name for p in certs.iterdir() if p.name.startswith(".")]  # no temp files left


def test_an_existing_certificate_is_kept_or_refused_never_overwritten(certs: Path) -> None:
    names = parse_server_names("hall.test,127.0.0.1")
    paths, _ = ensure_dev_server_cert(certs, names, now=NOW)
    before = paths.cert.read_bytes(), paths.key.read_bytes()
    # The same names again (init run twice): kept as it is.
    same = parse_server_names("127.0.0.1, hall.test")
    assert ensure_dev_server_cert(certs, same, now=NOW)[1] is Decision.KEEP
    # Other names: refused, both files untouched.
    with pytest.raises(CertificateExists) as refused:
        ensure_dev_server_cert(certs, parse_server_names("other.test"), now=NOW)
    assert "--replace-server-cert" in str(refused.value) and "hall.test" in refused.value.reason
    # Near its end: refused too, not quietly renewed.
    late = NOW + dt.timedelta(days=380)
    with pytest.raises(CertificateExists):
        ensure_dev_server_cert(certs, names, now=late)
    assert (paths.cert.read_bytes(), paths.key.read_bytes()) == before
    # Only when asked.
    _, decision = ensure_dev_server_cert(
        certs, parse_server_names("other.test"), replace=True, now=NOW
    )
    assert decision is Decision.REPLACE
    assert (
        x509.DNSName("other.test")
        in load(paths.cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    )
    assert stat.S_IMODE(paths.key.stat().st_mode) == 0o600


def test_a_stray_key_or_a_damaged_certificate_is_refused(certs: Path) -> None:
    names = parse_server_names("hall.test")
    (certs / "tls-server.key").write_text("someone's key\n")
    with pytest.raises(CertificateExists):
        ensure_dev_server_cert(certs, names, now=NOW)
    assert (certs / "tls-server.key").read_text() == "someone's key\n"
    (certs / "tls-server.pem").write_text("not a certificate\n")
    with pytest.raises(CertificateExists):
        ensure_dev_server_cert(certs, names, now=NOW)
    assert ensure_dev_server_cert(certs, names, replace=True, now=NOW)[1] is Decision.ISSUE


def test_serving_tls_refuses_a_key_that_is_not_the_certificates(certs: Path) -> None:
    names = parse_server_names("hall.test")
    paths, _ = ensure_dev_server_cert(certs, names, now=NOW)
    base = {
        "SIFA_CERTS_DIR": str(certs),
        "SIFA_TLS_CERT": str(paths.cert),
        "SIFA_TLS_KEY": str(paths.key),
    }
    context, settings = serving_tls(Settings.from_env(base, base=certs.parent))
    assert context is not None and settings.public_url == "https://127.0.0.1:8080"
    wrong = Settings.from_env(
        {**base, "SIFA_TLS_KEY": str(certs / "dev-root-ca.key")}, base=certs.parent
    )
    with pytest.raises(TlsFilesUnusable) as refused:
        serving_tls(wrong)
    assert "SIFA_TLS_CERT" in str(refused.value) and " / " in str(refused.value)
