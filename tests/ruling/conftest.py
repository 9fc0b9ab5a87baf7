"""Fixtures for the ruling tests: one renderer, one development PKI and one signer per session,
as the application builds them once per process."""

from __future__ import annotations

import pytest
from cryptography import x509
from ruling_support import COURT, require_tool

from app.ruling.pki import (
    PkiPaths,
    TsaPaths,
    build_nss_db,
    ensure_dev_pki,
    ensure_dev_tsa,
    load_dev_identity,
    read_certificates,
)
from app.ruling.render import RulingRenderer
from app.ruling.sign import PdfSigner


@pytest.fixture(scope="session")
def renderer() -> RulingRenderer:
    return RulingRenderer()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_dev_pki(tmp_path_factory.mktemp("certs"), COURT, "粤0311")


@pytest.fixture(scope="session")
def tsa_paths(pki: PkiPaths) -> TsaPaths:
    return ensure_dev_tsa(pki.root_cert.parent, pki)


@pytest.fixture(scope="session")
def roots(pki: PkiPaths) -> list[x509.Certificate]:
    return read_certificates([pki.root_cert])


@pytest.fixture(scope="session")
def signer(pki: PkiPaths) -> PdfSigner:
    return PdfSigner(load_dev_identity(pki))


@pytest.fixture(scope="session")
def nss_db(pki: PkiPaths, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting the development root, for pdfsig -nssdir."""
    require_tool("certutil")
    return build_nss_db(tmp_path_factory.mktemp("nss"), pki.root_cert)
