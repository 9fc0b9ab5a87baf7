"""Each court's own signing key (app/ruling/court_keys.py): development certificates issued per
court from the one root, once even when several processes ask at the same moment; production
PKCS#12 keys per court, and a court without one refused."""

from __future__ import annotations

import multiprocessing
import shutil
import stat
import threading
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from ruling_support import COURT

from app.config import ConfigError, Settings
from app.domain.errors import NoSigningKey
from app.ruling.court_keys import Court, DevKeys, P12Keys, dev_court_paths
from app.ruling.errors import PkiError, SigningError
from app.ruling.pki import (
    PkiPaths,
    ensure_dev_pki,
    load_dev_identity,
    read_certificates,
    write_pkcs12,
)
from app.ruling.sign import SignOptions

GUANGMING = Court("粤0311", COURT)
NANSHAN = Court("粤0305", "深圳市南山区人民法院")
OPTIONS = SignOptions()


@pytest.fixture
def certs(pki: PkiPaths, tmp_path: Path) -> Path:
    """A copy of the session's development PKI (a new root costs about a second)."""
    folder = tmp_path / "certs"
    shutil.copytree(pki.root_cert.parent, folder)
    return folder


def common_name(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_the_court_is_read_from_the_case_number() -> None:
    assert Court.of("深圳市南山区人民法院", "（2026）粤0305民特12号") == NANSHAN
    with pytest.raises(SigningError, match="no court to sign"):
        Court.of(COURT, "（案件7）")
    with pytest.raises(ValueError, match="unusable court code"):
        Court("../粤0305", "x")


def test_another_court_gets_its_own_certificate_from_the_same_root(certs: Path) -> None:
    configured_before = (certs / "court-signing.pem").read_bytes()
    keys = DevKeys(certs, GUANGMING, OPTIONS)
    own = keys.signer(GUANGMING)
    assert not (certs / "courts").exists()  # issued when first needed, not before

    nanshan = keys.signer(NANSHAN)
    assert keys.signer(NANSHAN) is nanshan  # loaded once
    paths = dev_court_paths(certs, "粤0305")
    cert = x509.load_pem_x509_certificate(paths.signing_cert.read_bytes())
    assert common_name(cert) == "深圳市南山区人民法院"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "粤0305"
    )
    cert.verify_directly_issued_by(read_certificates([certs / "dev-root-ca.pem"])[0])
    assert nanshan.identity.cert == cert
    assert nanshan.certificate_sha256 != own.certificate_sha256
    assert stat.S_IMODE(paths.signing_key.stat().st_mode) == 0o600
    assert not [p for p in paths.signing_cert.parent.iterdir() if p.name.startswith(".")]
    # The configured court keeps its certificate, whatever name its row has now.
    assert (certs / "court-signing.pem").read_bytes() == configured_before
    assert keys.signer(Court("粤0311", "光明法院（新名）")) is own
    assert keys.trust_roots() == read_certificates([certs / "dev-root-ca.pem"])

    # Another process later finds the certificate instead of issuing one; a renamed court
    # gets one that names its new name.
    assert DevKeys(certs, GUANGMING, OPTIONS).signer(NANSHAN).identity.cert == cert
    renamed = DevKeys(certs, GUANGMING, OPTIONS).signer(Court("粤0305", "深圳市南山区法院"))
    assert common_name(renamed.identity.cert) == "深圳市南山区法院"


def test_two_desks_at_once_issue_one_certificate(certs: Path) -> None:
    desks = [DevKeys(certs, GUANGMING, OPTIONS) for _ in range(2)]
    start = threading.Barrier(2)
    got: list[str] = []

    def sign_for_nanshan(keys: DevKeys) -> None:
        start.wait()
        got.append(keys.signer(NANSHAN).certificate_sha256)

    threads = [threading.Thread(target=sign_for_nanshan, args=(k,)) for k in desks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    on_disk = load_dev_identity(dev_court_paths(certs, "粤0305"))
    assert len(got) == 2 and got[0] == got[1]
    assert desks[0].signer(NANSHAN).identity.cert == on_disk.cert


def _issue_in_process(certs: str, start: Barrier, out: str) -> None:
    keys = DevKeys(Path(certs), GUANGMING, OPTIONS)
    start.wait()
    Path(out).write_text(keys.signer(NANSHAN).certificate_sha256)


def test_two_processes_at_once_issue_one_certificate(certs: Path, tmp_path: Path) -> None:
    """Two server processes sharing the certs folder, both signing for a new court at the same
    moment: the file lock makes the second wait and load the first one's certificate."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    outs = [tmp_path / f"out{i}" for i in range(2)]
    procs = [
        spawn.Process(target=_issue_in_process, args=(str(certs), start, str(o))) for o in outs
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    used = {o.read_text() for o in outs}
    on_disk = DevKeys(certs, GUANGMING, OPTIONS).signer(NANSHAN).certificate_sha256
    assert used == {on_disk}


def _p12(tmp: Path, court: Court, target: Path) -> x509.Certificate:
    """A PKCS#12 file for a court, issued by a root of its own; returns that root."""
    paths = ensure_dev_pki(tmp / f"issuer-{court.code}", court.name, court.code)
    write_pkcs12(target, load_dev_identity(paths), b"pw")
    return read_certificates([paths.root_cert])[0]


def test_pkcs12_keys_per_court_and_a_court_without_one_refused(tmp_path: Path) -> None:
    own_root = _p12(tmp_path, GUANGMING, tmp_path / "court.p12")
    folder = tmp_path / "keys"
    folder.mkdir()
    nanshan_root = _p12(tmp_path, NANSHAN, folder / "粤0305.p12")
    keys = P12Keys(GUANGMING, tmp_path / "court.p12", folder, "pw", OPTIONS)

    assert common_name(keys.signer(GUANGMING).identity.cert) == COURT
    assert common_name(keys.signer(NANSHAN).identity.cert) == "深圳市南山区人民法院"
    assert keys.trust_roots() == [nanshan_root, own_root]
    baoan = Court("粤0306", "深圳市宝安区人民法院")
    with pytest.raises(NoSigningKey) as refused:
        keys.signer(baoan)
    assert refused.value.code == "no_signing_key" and "粤0306" in refused.value.message

    # A key file added while the server runs: used from its court's next document on, and
    # its root trusted from then on (also by a process that has not signed for it yet).
    baoan_root = _p12(tmp_path, baoan, folder / "粤0306.p12")
    assert baoan_root in P12Keys(GUANGMING, None, folder, "pw", OPTIONS).trust_roots()
    assert common_name(keys.signer(baoan).identity.cert) == "深圳市宝安区人民法院"

    # Without SIFA_SIGNING_P12, the configured court needs its file in the folder too.
    only_folder = P12Keys(GUANGMING, None, folder, "pw", OPTIONS)
    with pytest.raises(NoSigningKey):
        only_folder.signer(GUANGMING)


def test_an_unusable_key_file(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    _p12(tmp_path, NANSHAN, folder / "粤0305.p12")
    with pytest.raises(PkiError):  # found at start-up: the server does not start
        P12Keys(GUANGMING, None, folder, "wrong", OPTIONS)
    keys = P12Keys(GUANGMING, None, folder, "pw", OPTIONS)
    (folder / "粤0306.p12").write_bytes(b"not a key")  # added later: that court is refused
    with pytest.raises(NoSigningKey):
        keys.signer(Court("粤0306", "深圳市宝安区人民法院"))
    assert len(keys.trust_roots()) == 1


def test_the_key_folder_setting(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    settings = Settings.from_env({"SIFA_SIGNING_P12_DIR": "keys"}, base=tmp_path)
    assert settings.signing_p12_dir == tmp_path / "keys"
    assert Settings.from_env({}, base=tmp_path).signing_p12_dir is None
    for wrong in ("missing", "keys/../nowhere", str(tmp_path / "keys" / "x.p12")):
        with pytest.raises(ConfigError) as error:
            Settings.from_env({"SIFA_SIGNING_P12_DIR": wrong}, base=tmp_path)
        assert str(error.value).startswith("SIFA_SIGNING_P12_DIR:")
