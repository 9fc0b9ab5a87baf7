"""A development TLS server certificate, issued by the development root CA (app/ruling/pki.py).

Browsers give a page the camera only in a secure context: off localhost that means HTTPS, and
HTTPS needs a certificate naming the host the kiosk types in. `sifa init --server-cert
hall.test,10.0.0.5` issues one; a kiosk that trusts the development root then trusts it. A real
installation uses the court's own certificate instead (docs/deploy.md).

The rules (which names, whether to issue, keep or refuse) are pure; writing is at the bottom.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.domain.errors import ValidationError
from app.files import write_atomically
from app.ruling.errors import PkiError
from app.ruling.pki import SigningKey, key_usage, leaf_builder, load_identity

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FIELD = "--server-cert"
# Browsers refuse publicly trusted server certificates valid for longer; a locally trusted
# root is exempt, but a kiosk image may copy the habit into a court's real PKI.
VALIDITY = dt.timedelta(days=397)
# Reissue (with --replace-server-cert) before a certificate this close to its end.
RENEW_MARGIN = dt.timedelta(days=30)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class CertificateExists(Exception):
    """A server certificate is already there and does not fit: never replaced silently."""

    def __init__(self, cert: Path, reason: str) -> None:
        super().__init__(
            f"服务器证书 {cert} 已存在，与本次要求不符，未覆盖；如需重新签发，请加 "
            f"--replace-server-cert。 / The server certificate {cert} exists ({reason}) and was "
            "not overwritten; add --replace-server-cert to issue a new one."
        )
        self.cert = cert
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ServerNames:
    """What a server certificate names: host names (DNS) and addresses (IP), in given order."""

    dns: tuple[str, ...]
    ips: tuple[IpAddress, ...]

    @property
    def common_name(self) -> str:
        first = self.dns[0] if self.dns else str(self.ips[0])
        return first if len(first) <= 64 else "Sifa server"  # X.520 caps CN at 64

    def general_names(self) -> list[x509.GeneralName]:
        return [
            *(x509.DNSName(name) for name in self.dns),
            *(x509.IPAddress(ip) for ip in self.ips),
        ]

    def describe(self) -> str:
        return ", ".join([*self.dns, *(str(ip) for ip in self.ips)])


@dataclass(frozen=True, slots=True)
class ServerCertPaths:
    cert: Path
    key: Path


class Decision(StrEnum):
    ISSUE = "issue"  # nothing there
    KEEP = "keep"  # already there, names the same hosts, from this root, not near its end
    REFUSE = "refuse"  # there but different: the operator must say --replace-server-cert
    REPLACE = "replace"  # there, and the operator said --replace-server-cert


def parse_server_names(text: str) -> ServerNames:
    """Pure: "hall.test, 10.0.0.5, [::1]" -> host names and addresses; a bad entry raises
    ValidationError naming it. Host names are lower-cased and IDNA-encoded; duplicates go."""
    dns: list[str] = []
    ips: list[IpAddress] = []
    problems: list[tuple[str, str]] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            ip = ipaddress.ip_address(item.removeprefix("[").removesuffix("]"))
        except ValueError:
            name = _dns_name(item)
            if name is None:
                problems.append((FIELD, f"不是主机名或 IP 地址 / not a host name or IP: {item!r}"))
            elif name not in dns:
                dns.append(name)
            continue
        if ip not in ips:
            ips.append(ip)
    if not problems and not dns and not ips:
        problems.append((FIELD, "至少需要一个主机名或 IP 地址 / name at least one host or IP"))
    if problems:
        raise ValidationError(problems)
    return ServerNames(tuple(dns), tuple(ips))


def _dns_name(item: str) -> str | None:
    try:
        name = item.lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = name.split(".")
    if labels[0] == "*" and len(labels) > 2:
        labels = labels[1:]  # a wildcard stands for one whole left-most label only
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    return name


def names_of(cert: x509.Certificate) -> ServerNames:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ServerNames((), ())
    return ServerNames(
        tuple(san.get_values_for_type(x509.DNSName)),
        tuple(san.get_values_for_type(x509.IPAddress)),  # type: ignore[arg-type]
    )


def decide(
    existing: x509.Certificate | None,
    root: x509.Certificate,
    wanted: ServerNames,
    now: dt.datetime,
    *,
    replace: bool,
) -> tuple[Decision, str]:
    """Pure: what to do about the server certificate, with the reason shown to the operator."""
    if existing is None:
        return Decision.ISSUE, "none yet"
    if replace:
        return Decision.REPLACE, "--replace-server-cert"
    have = names_of(existing)
    if set(have.dns) != set(wanted.dns) or set(have.ips) != set(wanted.ips):
        return Decision.REFUSE, f"it names {have.describe() or 'nothing'}"
    try:
        existing.verify_directly_issued_by(root)
    except (InvalidSignature, ValueError, TypeError):
        return Decision.REFUSE, "it was not issued by the current development root"
    if existing.not_valid_after_utc - RENEW_MARGIN < now:
        return Decision.REFUSE, f"it expires {existing.not_valid_after_utc:%Y-%m-%d}"
    return Decision.KEEP, f"valid until {existing.not_valid_after_utc:%Y-%m-%d}"


def server_certificate(
    names: ServerNames,
    key: ec.EllipticCurvePrivateKey,
    root_cert: x509.Certificate,
    root_key: SigningKey,
    now: dt.datetime,
) -> x509.Certificate:
    """Pure: what browsers check on a server certificate: the host in subjectAltName (the CN is
    ignored), serverAuth, not a CA, and a validity inside the root's."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names.common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sifa development"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )
    return (
        # ECDHE with an EC key: a signature is all the key is used for.
        leaf_builder(subject, key, (root_cert, root_key), now, days=VALIDITY.days)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names.general_names()), critical=False)
        .sign(root_key, hashes.SHA256())
    )


# -- the shell: files --------------------------------------------------------------------------


def server_cert_paths(certs_dir: Path) -> ServerCertPaths:
    return ServerCertPaths(cert=certs_dir / "tls-server.pem", key=certs_dir / "tls-server.key")


def ensure_dev_server_cert(
    certs_dir: Path,
    names: ServerNames,
    *,
    replace: bool = False,
    now: dt.datetime | None = None,
) -> tuple[ServerCertPaths, Decision]:
    """Issue certs_dir/tls-server.pem (and its key, mode 0600) from the development root,
    keep a fitting one, or raise CertificateExists. Each file is written atomically; without
    `replace` neither file is ever written over (link, not rename)."""
    now = now or dt.datetime.now(dt.UTC)
    paths = server_cert_paths(certs_dir)
    root = load_identity(certs_dir / "dev-root-ca.key", certs_dir / "dev-root-ca.pem")
    existing = _read_cert(paths.cert, replace=replace)
    if existing is None and paths.key.exists() and not replace:
        raise CertificateExists(paths.key, "a key without its certificate")
    decision, reason = decide(existing, root.cert, names, now, replace=replace)
    if decision is Decision.REFUSE:
        raise CertificateExists(paths.cert, reason)
    if decision is Decision.KEEP:
        return paths, decision
    key = ec.generate_private_key(ec.SECP256R1())
    cert = server_certificate(names, key, root.cert, root.key, now)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),  # `sifa serve` starts unattended: no one types a passphrase
    )
    exclusive = not replace
    write_atomically(paths.key, key_pem, mode=0o600, exclusive=exclusive)
    try:
        pem = cert.public_bytes(serialization.Encoding.PEM)
        write_atomically(paths.cert, pem, mode=0o644, exclusive=exclusive)
    except BaseException:
        if exclusive:
            paths.key.unlink(missing_ok=True)  # ours alone: a key without its certificate
        raise
    return paths, decision


def _read_cert(path: Path, *, replace: bool) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        if replace:
            return None
        # Damaged or not PEM, it is still a file someone put there: refused, not replaced.
        raise CertificateExists(path, f"it cannot be read: {error}") from error


def run_server_cert_command(
    certs_dir: Path, names_text: str, *, replace: bool, out: TextIO, err: TextIO
) -> int:
    """`sifa init --server-cert NAMES [--replace-server-cert]`: 0 issued or kept, 1 refused
    (a certificate is there that does not fit), 2 no development root to issue from."""
    names = parse_server_names(names_text)
    try:
        paths, decision = ensure_dev_server_cert(certs_dir, names, replace=replace)
    except CertificateExists as error:
        print(f"error: {error}", file=err)
        return 1
    except PkiError as error:
        print(
            "error: 没有开发用根证书，无法签发服务器证书（已配置正式签名证书时请使用法院自己的"
            " TLS 证书） / no development root to issue from (with production signing keys, use"
            f" the court's own TLS certificate): {error}",
            file=err,
        )
        return 2
    done = "kept" if decision is Decision.KEEP else "issued"
    print(f"development TLS server certificate {done} for {names.describe()}:", file=out)
    print(f"  {paths.cert}", file=out)
    print(f"  serve it with SIFA_TLS_CERT={paths.cert} SIFA_TLS_KEY={paths.key}", file=out)
    print(f"  kiosks must trust the development root {certs_dir / 'dev-root-ca.pem'}", file=out)
    return 0
