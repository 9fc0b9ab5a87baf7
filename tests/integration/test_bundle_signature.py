"""The case bundle checked offline with the real openssl and sha256sum, exactly as the README
tells a reader: the signature over SHA256SUMS against the court's root, then every file."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs7

from integration.conftest import Sifa
from integration.ruling_flow import decided_case, ok, people
from realdeps import require_tool


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=60)


def check_signature(folder: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return run(
        folder, "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", "SHA256SUMS.p7s", "-content", "SHA256SUMS", "-CAfile", str(root),
        "-out", "/dev/null",
    )  # fmt: skip


def check_files(folder: Path) -> subprocess.CompletedProcess[str]:
    return run(folder, "sha256sum", "--strict", "-c", "SHA256SUMS")


def flip_one_byte(path: Path, at: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


async def test_the_bundle_is_signed_by_its_court_and_every_byte_is_covered(
    sifa: Sifa, tmp_path: Path
) -> None:
    require_tool("openssl")
    require_tool("sha256sum")
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    response = await clerk.get(f"/api/cases/{case_id}/bundle.zip")
    assert response.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    pristine = tmp_path / "pristine"
    archive.extractall(pristine)
    root = sifa.settings.certs_dir / "dev-root-ca.pem"

    listed = [line.split("  ", 1)[1] for line in (pristine / "SHA256SUMS").read_text().splitlines()]
    assert "manifest.json" in listed and "ruling.pdf" in listed and "audit.jsonl" in listed
    assert set(archive.namelist()) == {*listed, "SHA256SUMS", "SHA256SUMS.p7s"}
    manifest = json.loads((pristine / "manifest.json").read_text())
    # The signer is the certificate that signed the ruling, and the chain travels with it.
    certs = pkcs7.load_der_pkcs7_certificates((pristine / "SHA256SUMS.p7s").read_bytes())
    fingerprints = {c.fingerprint(hashes.SHA256()).hex() for c in certs}
    assert issued["signer_cert_sha256"] in fingerprints
    assert manifest["signature"]["signer_cert_sha256"] == issued["signer_cert_sha256"]
    assert x509.load_pem_x509_certificate(root.read_bytes()) in certs
    trail = [json.loads(x) for x in (pristine / "audit.jsonl").read_text().splitlines()]
    assert manifest["audit_head"] == {"seq": trail[-1]["seq"], "link": trail[-1]["hash"]}
    assert trail[-1]["action"] == "bundle.downloaded"

    signed, files = check_signature(pristine, root), check_files(pristine)
    assert signed.returncode == 0 and "Verification successful" in signed.stderr, signed.stderr
    assert files.returncode == 0 and "manifest.json: OK" in files.stdout, (
        files.stdout + files.stderr
    )

    for name in ("manifest.json", "ruling.pdf", "audit.jsonl"):
        copy = tmp_path / f"changed-{name.replace('/', '-')}"
        shutil.copytree(pristine, copy)
        flip_one_byte(copy / name)
        caught = check_files(copy)
        assert caught.returncode == 1 and f"{name}: FAILED" in caught.stdout, caught.stdout
        assert check_signature(copy, root).returncode == 0  # the list itself is untouched

    # Changing a file and writing its new hash into SHA256SUMS: the signature no longer holds.
    relisted = tmp_path / "relisted"
    shutil.copytree(pristine, relisted)
    flip_one_byte(relisted / "manifest.json")
    sums = run(relisted, "sha256sum", *listed).stdout
    (relisted / "SHA256SUMS").write_text(sums)
    assert check_files(relisted).returncode == 0
    forged = check_signature(relisted, root)
    assert forged.returncode != 0 and "Verification failure" in forged.stderr, forged.stderr

    for name in ("SHA256SUMS", "SHA256SUMS.p7s"):
        copy = tmp_path / f"changed-{name}"
        shutil.copytree(pristine, copy)
        flip_one_byte(copy / name, at=-40)
        assert check_signature(copy, root).returncode != 0
