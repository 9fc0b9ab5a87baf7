"""Which key seals for which people's mediation committee (人民调解委员会): every committee
seals its own mediation agreements, never another's, and never with a court's key.

Development (no SIFA_COMMITTEE_P12_DIR): certs/committees/{id}/committee-seal.pem and .key,
issued from the development root (ensure_dev_pki) by `sifa init` or on the committee's first
seal. Production: SIFA_COMMITTEE_P12_DIR/{id}.p12, opened with SIFA_COMMITTEE_P12_PASSWORD; a
committee without a usable file is refused (NoSigningKey), never sealed with a development key.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from app.domain.errors import DomainError, NoSigningKey
from app.ruling.file_lock import exclusive
from app.ruling.key_folder import KeyFolder
from app.ruling.pki import (
    PkiPaths,
    ensure_dev_signing,
    load_dev_identity,
    read_certificates,
    signer_subject,
)
from app.ruling.sign import PdfSigner, SignOptions

log = logging.getLogger("sifa.ruling")

# The signature field of a committee's seal, beside a court's "CourtSignature".
SEAL_FIELD = "CommitteeSeal"
# X.509's upper bound for a common or organisation name (RFC 5280, ub-common-name).
_NAME_LIMIT = 64


@dataclass(frozen=True, slots=True)
class Committee:
    """The committee an agreement names: its row's id (folder and file name) and its name."""

    id: int
    name: str

    def __post_init__(self) -> None:
        # bool is an int, and its True would name committee 1's folder.
        if isinstance(self.id, bool) or not isinstance(self.id, int) or self.id < 1:
            raise ValueError(f"unusable committee id {self.id!r}")
        if not self.name.strip() or len(self.name) > _NAME_LIMIT:
            raise ValueError(
                f"committee name must be 1 to {_NAME_LIMIT} characters for its certificate, "
                f"got {self.name!r}"
            )


class NoSealingKey(NoSigningKey):
    """NoSigningKey for a committee: the same refusal (503 no_signing_key), naming it."""

    def __init__(self, committee: Committee) -> None:
        self.committee_id = committee.id
        # NoSigningKey's own __init__ words the refusal for a court.
        DomainError.__init__(
            self,
            f"{committee.name}（编号 {committee.id}）尚未配置电子印章证书，不能签章调解协议。"
            f" / The mediation committee {committee.name} (no. {committee.id}) has no sealing "
            "key configured.",
        )


def committee_subject(committee: Committee) -> x509.Name:
    # The id in OU tells apart a committee from a later one given a former committee's name.
    return signer_subject(committee.name, f"人民调解委员会 {committee.id}")


def dev_committee_paths(certs_dir: Path, committee_id: int) -> PkiPaths:
    folder = certs_dir / "committees" / str(committee_id)
    return PkiPaths(
        root_cert=_dev_root(certs_dir),
        root_key=certs_dir / "dev-root-ca.key",
        signing_cert=folder / "committee-seal.pem",
        signing_key=folder / "committee-seal.key",
    )


def ensure_committee_certificate(
    certs_dir: Path, committee: Committee, *, now: dt.datetime | None = None
) -> PkiPaths:
    """The committee's development certificate, issued from the development root unless a
    usable one names it (a renamed committee, or one about to expire, is reissued). Several
    processes may share certs_dir: the lock makes the second wait and find the first's files."""
    paths = dev_committee_paths(certs_dir, committee.id)
    paths.signing_cert.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(certs_dir / "committees" / ".issue.lock"):
        ensure_dev_signing(paths, committee_subject(committee), now=now)
    return paths


class CommitteeKeys:
    """Each committee's sealing key: development certificates under certs_dir, or, with p12_dir,
    only that folder's {id}.p12 files. Files found at start-up must open; a file added later
    is picked up on its committee's next seal (an unusable one is logged and refused)."""

    def __init__(
        self,
        certs_dir: Path,
        options: SignOptions,
        *,
        p12_dir: Path | None = None,
        p12_password: str = "",
    ) -> None:
        self._certs_dir, self._options = certs_dir, options
        # By id and name: a renamed committee gets a certificate naming its new name, while an
        # agreement already built with the old name keeps the signer it was checked with.
        self._signers: dict[Committee, PdfSigner] = {}
        self._files = KeyFolder(p12_dir, p12_password, options, "committee") if p12_dir else None
        self._roots: list[x509.Certificate] = []
        self._lock = threading.Lock()
        if self._files is None:
            # Missing root: a clear error at start-up rather than on the first seal.
            self._roots = read_certificates([_dev_root(certs_dir)])
            return
        for path in self._files.files():
            if _committee_id(path) is None:
                log.warning("committee key file %s ignored: not named {committee id}.p12", path)
        self._files.open_all(self._key_names())

    def signer(self, committee: Committee) -> PdfSigner:
        """The committee's own signer; NoSigningKey (NoSealingKey) when it has none."""
        with self._lock:
            if self._files is not None:
                found = self._files.signer(str(committee.id))
                if found is None:
                    raise NoSealingKey(committee)
                return found
            found = self._signers.get(committee)
            if found is None:
                paths = ensure_committee_certificate(self._certs_dir, committee)
                found = PdfSigner(load_dev_identity(paths), self._options)
                self._signers[committee] = found
            return found

    def trust_roots(self) -> list[x509.Certificate]:
        """The roots every committee's certificate chains to, for verification."""
        with self._lock:
            if self._files is None:
                return list(self._roots)
            for name in self._key_names():
                self._files.signer(name)
            return list(self._files.roots)

    def _key_names(self) -> list[str]:
        assert self._files is not None
        return [p.stem for p in self._files.files() if _committee_id(p) is not None]


def _dev_root(certs_dir: Path) -> Path:
    return certs_dir / "dev-root-ca.pem"  # ensure_dev_pki's root, which courts' chain to too


def _committee_id(key_file: Path) -> int | None:
    stem = key_file.stem
    return int(stem) if stem.isascii() and stem.isdigit() and int(stem) > 0 else None
