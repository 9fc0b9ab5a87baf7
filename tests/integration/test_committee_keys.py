"""Each people's mediation committee seals its agreements with its own key
(app/ruling/committee_keys.py): development certificates per committee from the one root,
issued once and kept, reissued for a new name; checked by pyHanko and poppler's pdfsig; with
SIFA_COMMITTEE_P12_DIR only that folder's keys, and a committee without one refused."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from reportlab.pdfgen.canvas import Canvas

from app.config import ConfigError, Settings
from app.domain.errors import NoSigningKey
from app.ruling.committee_keys import (
    SEAL_FIELD,
    Committee,
    CommitteeKeys,
    dev_committee_paths,
    ensure_committee_certificate,
)
from app.ruling.pki import (
    OID_DOCUMENT_SIGNING,
    ensure_dev_pki,
    load_dev_identity,
    read_certificates,
    write_pkcs12,
)
from app.ruling.sign import PdfSigner, SignOptions

from integration.test_rulings_per_court import checked, pdfsig

FENGHUANG = Committee(1, "光明区凤凰街道人民调解委员会")
MATIAN = Committee(2, "光明区马田街道人民调解委员会")
OPTIONS = SignOptions()


@pytest.fixture(scope="module")
def issued_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development root for the module (a new one costs about a second)."""
    folder = tmp_path_factory.mktemp("root")
    ensure_dev_pki(folder, "深圳市光明区人民法院", "粤0311")
    return folder


@pytest.fixture
def certs(issued_root: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    shutil.copytree(issued_root, folder)
    return folder


def agreement() -> bytes:
    out = io.BytesIO()
    page = Canvas(out)
    page.drawString(72, 720, "Mediation agreement: the parties settle their dispute.")
    page.showPage()
    page.save()
    return out.getvalue()


async def seal(signer: PdfSigner, committee: Committee) -> bytes:
    return await signer.sign_async(
        agreement(), reason="人民调解协议书", location=committee.name, field_name=SEAL_FIELD
    )


def common_name(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


async def test_each_committee_seals_with_its_own_certificate(certs: Path, tmp_path: Path) -> None:
    root = certs / "dev-root-ca.pem"
    for committee in (FENGHUANG, MATIAN):
        ensure_committee_certificate(certs, committee)
    keys = CommitteeKeys(certs, OPTIONS)
    assert keys.trust_roots() == read_certificates([root])
    signers = {c: keys.signer(c) for c in (FENGHUANG, MATIAN)}
    assert keys.signer(FENGHUANG) is signers[FENGHUANG]  # loaded once
    fenghuang, matian = signers[FENGHUANG].identity, signers[MATIAN].identity
    assert fenghuang.key.public_key().public_numbers() != (matian.key.public_key().public_numbers())
    assert signers[FENGHUANG].certificate_sha256 != signers[MATIAN].certificate_sha256

    for committee, signer in signers.items():
        cert = signer.identity.cert
        paths = dev_committee_paths(certs, committee.id)
        assert cert == x509.load_pem_x509_certificate(paths.signing_cert.read_bytes())
        assert paths.signing_cert == certs / "committees" / str(committee.id) / "committee-seal.pem"
        assert stat.S_IMODE(paths.signing_key.stat().st_mode) == 0o600
        assert common_name(cert) == committee.name
        subject = cert.subject
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
            committee.name
        )
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
            f"人民调解委员会 {committee.id}"
        )
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment
        assert not usage.key_cert_sign
        purposes = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert OID_DOCUMENT_SIGNING in purposes
        assert ExtendedKeyUsageOID.EMAIL_PROTECTION in purposes  # pdfsig's trust needs it

        pdf = await seal(signer, committee)
        signature = await checked(pdf, root)
        assert signature.field_name == SEAL_FIELD
        assert f"Common Name: {committee.name}" in signature.signer_subject
        assert signature.signer_cert_sha256 == signer.certificate_sha256
        other = MATIAN if committee == FENGHUANG else FENGHUANG
        assert other.name not in signature.signer_subject

        path = tmp_path / f"agreement-{committee.id}.pdf"
        path.write_bytes(pdf)
        report = pdfsig(path, root)
        assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
        assert f"Signer Certificate Common Name: {committee.name}" in report, report
        assert other.name not in report


def test_a_certificate_is_kept_and_reissued_for_a_new_name_or_near_expiry(certs: Path) -> None:
    paths = ensure_committee_certificate(certs, FENGHUANG)
    first = paths.signing_cert.read_bytes(), paths.signing_key.read_bytes()
    assert ensure_committee_certificate(certs, FENGHUANG) == paths
    assert (paths.signing_cert.read_bytes(), paths.signing_key.read_bytes()) == first

    keys = CommitteeKeys(certs, OPTIONS)
    before = keys.signer(FENGHUANG)
    renamed = Committee(FENGHUANG.id, "光明区凤凰社区人民调解委员会")
    after = keys.signer(renamed)
    assert common_name(after.identity.cert) == renamed.name
    assert after.certificate_sha256 != before.certificate_sha256
    assert paths.signing_cert.read_bytes() != first[0]
    # An agreement built with the old name before the rename keeps the signer it was given.
    assert keys.signer(FENGHUANG) is before

    # 800 of its 825 days on, inside the renewal margin: a new certificate.
    issued = paths.signing_cert.read_bytes()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
    ensure_committee_certificate(certs, renamed, now=later)
    renewed = x509.load_pem_x509_certificate(paths.signing_cert.read_bytes())
    assert paths.signing_cert.read_bytes() != issued
    assert renewed.not_valid_before_utc > later - dt.timedelta(hours=1)
    assert common_name(renewed) == renamed.name


def test_two_threads_issuing_at_once_end_with_one_certificate(certs: Path) -> None:
    # Two key holders, as in two processes: only the file lock stands between them.
    holders = [CommitteeKeys(certs, OPTIONS) for _ in range(2)]
    start = threading.Barrier(2)
    got: list[str] = []

    def seal_for_matian(keys: CommitteeKeys) -> None:
        start.wait()
        got.append(keys.signer(MATIAN).certificate_sha256)

    threads = [threading.Thread(target=seal_for_matian, args=(k,)) for k in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    on_disk = PdfSigner(load_dev_identity(dev_committee_paths(certs, MATIAN.id)))
    assert got == [on_disk.certificate_sha256] * 2


async def test_production_keys_come_only_from_the_folder(tmp_path: Path) -> None:
    # The committee's key from a CA of its own, exported as its authority would hand it over.
    issuer = tmp_path / "issuer"
    ensure_dev_pki(issuer, "深圳市光明区人民法院", "粤0311")
    identity = load_dev_identity(ensure_committee_certificate(issuer, FENGHUANG))
    folder = tmp_path / "committee-keys"
    folder.mkdir()
    write_pkcs12(folder / f"{FENGHUANG.id}.p12", identity, b"seal-pass", name="committee")
    certs = tmp_path / "certs"  # no development root: none is needed, none is made
    keys = CommitteeKeys(certs, OPTIONS, p12_dir=folder, p12_password="seal-pass")

    signer = keys.signer(FENGHUANG)
    assert signer.identity.cert == identity.cert
    root = issuer / "dev-root-ca.pem"
    assert keys.trust_roots() == read_certificates([root])
    signature = await checked(await seal(signer, FENGHUANG), root)
    assert f"Common Name: {FENGHUANG.name}" in signature.signer_subject

    with pytest.raises(NoSigningKey) as refused:
        keys.signer(MATIAN)
    assert refused.value.code == "no_signing_key"
    message = refused.value.message
    assert message.index("尚未配置") < message.index(" / ") < message.index("no sealing key")
    assert MATIAN.name in message
    assert not certs.exists()

    # Its file arrives while the server runs: its next seal uses it.
    matian = load_dev_identity(ensure_committee_certificate(issuer, MATIAN))
    write_pkcs12(folder / f"{MATIAN.id}.p12", matian, b"seal-pass", name="committee")
    assert keys.signer(MATIAN).identity.cert == matian.cert


def test_the_committee_key_folder_setting(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    env = {"SIFA_COMMITTEE_P12_DIR": "keys", "SIFA_COMMITTEE_P12_PASSWORD": "seal-pass"}
    settings = Settings.from_env(env, base=tmp_path)
    assert settings.committee_p12_dir == tmp_path / "keys"
    assert settings.committee_p12_password == "seal-pass"
    assert Settings.from_env({}, base=tmp_path).committee_p12_dir is None
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"SIFA_COMMITTEE_P12_DIR": "missing"}, base=tmp_path)
    assert error.value.name == "SIFA_COMMITTEE_P12_DIR"
    assert "must be an existing folder" in str(error.value)


def test_a_committee_is_a_usable_file_and_certificate_name() -> None:
    for wrong_id in (0, -3, True):
        with pytest.raises(ValueError, match="unusable committee id"):
            Committee(wrong_id, "x")
    for wrong_name in ("", "  ", "调" * 65):
        with pytest.raises(ValueError, match="committee name"):
            Committee(3, wrong_name)
