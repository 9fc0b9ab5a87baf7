"""Production signing keys in a folder: one PKCS#12 file per holder ({name}.p12, a court's code
or a committee's id), all opened with one password. Shared by the courts' and the committees'
keys (court_keys.py, committee_keys.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography import x509

from app.ruling.errors import PkiError
from app.ruling.pki import SigningIdentity, load_pkcs12_identity
from app.ruling.sign import PdfSigner, SignOptions

log = logging.getLogger("sifa.ruling")


class KeyFolder:
    """Each holder's signer, opened once. Files present at start-up must open (`open_all`);
    one added later is picked up when its holder first asks, and an unusable one is logged and
    answered with None (the caller refuses). Not thread-safe: callers hold their own lock."""

    def __init__(
        self, folder: Path | None, password: str, options: SignOptions, holder: str
    ) -> None:
        self.folder, self._password, self._options, self._holder = folder, password, options, holder
        self.signers: dict[str, PdfSigner] = {}
        self.roots: list[x509.Certificate] = []

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.p12")) if self.folder else []

    def open_all(self, names: list[str]) -> None:
        """The named holders' files, each of which must open (a broken key stops start-up)."""
        assert self.folder is not None
        for name in names:
            self.add(name, load_pkcs12_identity(self.folder / f"{name}.p12", self._password))

    def add(self, name: str, identity: SigningIdentity) -> PdfSigner:
        signer = PdfSigner(identity, self._options)
        self.signers[name] = signer
        root = identity.chain[-1] if identity.chain else identity.cert
        if root not in self.roots:
            self.roots.append(root)
        return signer

    def signer(self, name: str) -> PdfSigner | None:
        found = self.signers.get(name)
        if found is not None or self.folder is None:
            return found
        path = self.folder / f"{name}.p12"
        if not path.is_file():
            return None
        try:
            identity = load_pkcs12_identity(path, self._password)
        except PkiError as e:
            log.error("signing key of %s %s unusable: %s", self._holder, name, e)
            return None
        return self.add(name, identity)
