"""Which key signs for which court: every court signs its own documents, never another's.

Development (no PKCS#12 configured): the configured court (SIFA_COURT_CODE) keeps
certs/court-signing.pem; every other court gets certs/courts/{code}/court-signing.pem and .key
from the same development root, issued the first time it signs. Production: SIFA_SIGNING_P12
is the configured court's key and SIFA_SIGNING_P12_DIR/{code}.p12 the others'; a court with
neither is refused (NoSigningKey).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509

from app.domain.case_number import CaseNumber
from app.domain.errors import NoSigningKey
from app.ruling.errors import SigningError
from app.ruling.file_lock import exclusive
from app.ruling.key_folder import KeyFolder
from app.ruling.pki import (
    PkiPaths,
    ensure_dev_pki,
    ensure_dev_signing,
    load_dev_identity,
    load_pkcs12_identity,
    read_certificates,
    signer_subject,
)
from app.ruling.sign import PdfSigner, SignOptions

log = logging.getLogger("sifa.ruling")

# A court code (粤0305) becomes a folder or file name: never a path, nor a hidden name.
_SAFE_CODE = re.compile(r"^[^./\\\x00][^/\\\x00]{0,31}$")


@dataclass(frozen=True, slots=True)
class Court:
    """The court a document names: the code of its case number and the name it prints."""

    code: str
    name: str

    def __post_init__(self) -> None:
        if not _SAFE_CODE.match(self.code):
            raise ValueError(f"unusable court code {self.code!r}")

    @classmethod
    def of(cls, court_name: str, case_number: str) -> Court:
        # The code in the case number, not the court's present row: a case keeps the court
        # that numbered it, and the code cannot change once a case is numbered.
        try:
            return cls(CaseNumber.parse(case_number).court_code, court_name)
        except ValueError as e:
            raise SigningError(f"no court to sign {case_number!r} for: {e}") from None


class CourtKeys(Protocol):
    def signer(self, court: Court) -> PdfSigner:
        """The court's own signer; NoSigningKey when it has none."""

    def trust_roots(self) -> list[x509.Certificate]:
        """The roots every court's certificate chains to, for verification."""

    def can_sign(self, court: Court) -> bool:
        """Whether the court has (or, in development, would be issued) a signing key."""


def dev_court_paths(certs_dir: Path, code: str) -> PkiPaths:
    folder = certs_dir / "courts" / code
    return PkiPaths(
        root_cert=certs_dir / "dev-root-ca.pem",
        root_key=certs_dir / "dev-root-ca.key",
        signing_cert=folder / "court-signing.pem",
        signing_key=folder / "court-signing.key",
    )


def ensure_court_certificate(certs_dir: Path, court: Court) -> PkiPaths:
    """A development certificate for a court other than the configured one, issued unless a
    usable one exists. Several processes may share certs_dir: an exclusive lock on a file
    beside the certificates makes the second wait, and it then finds the first one's files."""
    paths = dev_court_paths(certs_dir, court.code)
    paths.signing_cert.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(certs_dir / "courts" / ".issue.lock"):
        ensure_dev_signing(paths, signer_subject(court.name, court.code))
    return paths


class DevKeys:
    """Development certificates, one per court, all from the one development root."""

    def __init__(self, certs_dir: Path, configured: Court, options: SignOptions) -> None:
        paths = ensure_dev_pki(certs_dir, configured.name, configured.code)
        self._certs_dir = certs_dir
        self._configured = configured.code
        self._own = PdfSigner(load_dev_identity(paths), options)
        self._options = options
        self._roots = read_certificates([paths.root_cert])
        # By code and name: a renamed court gets a certificate naming its new name, while a
        # document already built with the old name still finds the signer it was checked with.
        self._signers: dict[Court, PdfSigner] = {}
        self._lock = threading.Lock()

    def signer(self, court: Court) -> PdfSigner:
        if court.code == self._configured:
            return self._own
        with self._lock:
            found = self._signers.get(court)
            if found is None:
                paths = ensure_court_certificate(self._certs_dir, court)
                found = PdfSigner(load_dev_identity(paths), self._options)
                self._signers[court] = found
            return found

    def trust_roots(self) -> list[x509.Certificate]:
        return list(self._roots)

    def can_sign(self, court: Court) -> bool:
        # Any court's certificate is issued from the root on its first document.
        return True


class P12Keys:
    """Production keys from PKCS#12 files: the configured court's, and {code}.p12 per court in
    a folder. Files found at start-up must open; a file added later is picked up when its
    court first signs (an unusable one is logged and the court refused)."""

    def __init__(
        self,
        configured: Court,
        own: Path | None,
        folder: Path | None,
        password: str,
        options: SignOptions,
    ) -> None:
        self._keys = KeyFolder(folder, password, options, "court")
        self._lock = threading.Lock()
        if folder is not None:
            self._keys.open_all([path.stem for path in self._keys.files()])
        if own is not None:
            # The explicitly configured key wins over a file of the same code in the folder.
            self._keys.add(configured.code, load_pkcs12_identity(own, password))

    def signer(self, court: Court) -> PdfSigner:
        with self._lock:
            found = self._keys.signer(court.code)
            if found is None:
                raise NoSigningKey(court.code)
            return found

    def can_sign(self, court: Court) -> bool:
        try:
            self.signer(court)
        except NoSigningKey:
            return False
        return True

    def trust_roots(self) -> list[x509.Certificate]:
        with self._lock:
            for path in self._keys.files():
                self._keys.signer(path.stem)
            return list(self._keys.roots)
