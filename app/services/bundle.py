"""The case bundle a clerk archives: ruling, transcript, vouchers, materials, audit trail and a
manifest.

SHA256SUMS lists every other file, manifest.json included, and SHA256SUMS.p7s is a detached
CMS signature over SHA256SUMS made with the key that signs the case's court's rulings, its
certificate chain inside. A reader checks the signature against the court's root (openssl
cms -verify), then every file against SHA256SUMS (sha256sum -c): README, "Checking a case
bundle offline". The manifest also names the audit chain's head at download time: the bundle
is a signed record, kept outside the database, of where the chain stood.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.errors import NotFound, NotPermitted
from app.domain.roles import Role
from app.keyring import FieldCipher
from app.recording.bundle import bundle_media
from app.ruling.court_keys import Court, CourtKeys
from app.ruling.pki import SigningIdentity
from app.services import audit, materials, sessions
from app.services.cases import load_case
from app.services.rulings import ruling_of
from app.services.serving import receipts_of
from app.store.models import Court as CourtRow

# Fixed timestamps inside the zip: the same case gives the same bytes, whenever it is built.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _add(archive: zipfile.ZipFile, name: str, data: bytes, sums: list[tuple[str, str]]) -> None:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
    sums.append((hashlib.sha256(data).hexdigest(), name))


async def build_bundle(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    *,
    rulings_dir: Path,
    materials_dir: Path,
    cipher: FieldCipher,
    keys: CourtKeys,
    now: dt.datetime,
    recordings_dir: Path | None = None,
    media_limit_bytes: int = 32 * 1024 * 1024,
) -> tuple[str, bytes]:
    """(file name, zip bytes). Clerks of the court only; the download itself is audited.

    The court's signer is found before anything is audited: a court without a key
    (NoSigningKey) gets no unsigned bundle."""
    if actor.role is not Role.CLERK:
        raise NotPermitted("只有书记员可以下载卷宗。 / Only clerks download case bundles.")
    case = await load_case(session, actor, case_id)
    ruling = await ruling_of(session, case.id)
    if ruling is None:
        raise NotFound("该案尚未出具裁定。 / No ruling has been issued in this case.")
    court = await session.get(CourtRow, case.court_id)
    if court is None or case.case_number is None:
        raise NotFound("该案没有受理法院。 / The case has no court.")
    identity = await _court_identity(keys, Court.of(court.name, case.case_number))
    downloaded = await audit.append(
        session,
        actor=actor.username,
        action="bundle.downloaded",
        case_id=case.id,
        details={},
        now=now,
    )
    events = await audit.events_for_case(session, case.id)
    receipts = await receipts_of(session, case.id)
    transcript = await sessions.transcript_of(session, case.id)
    # Hearing recordings: all listed by SHA-256; files up to the limit included.
    media = await bundle_media(session, case.id, recordings_dir, media_limit_bytes)
    sums: list[tuple[str, str]] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "ruling.pdf", (rulings_dir / ruling.storage_name).read_bytes(), sums)
        if transcript is not None:
            data = (rulings_dir / transcript.storage_name).read_bytes()
            _add(archive, "transcript.pdf", data, sums)
        for receipt in receipts:
            data = (rulings_dir / receipt.voucher_storage_name).read_bytes()
            _add(archive, f"vouchers/voucher-{receipt.party_position + 1}.pdf", data, sums)
        for material in case.materials:
            data = materials.read_material(material, materials_dir, cipher)
            suffix = materials.extension_of(material)
            _add(archive, f"materials/{material.id}-{material.category}.{suffix}", data, sums)
        trail = "".join(
            json.dumps(
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "details": json.loads(e.details),
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                },
                ensure_ascii=False,
            )
            + "\n"
            for e in events
        )
        _add(archive, "audit.jsonl", trail.encode(), sums)
        for item in media:
            if item.path is not None:
                info = zipfile.ZipInfo(item.name, _ZIP_TIME)  # video: stored, not deflated
                archive.writestr(info, item.path.read_bytes())
                sums.append((str(item.entry["sha256"]), item.name))
        manifest = {
            "case_number": case.case_number,
            "ruling_sha256": ruling.sha256,
            "signer_cert_sha256": ruling.signer_cert_sha256,
            # As recorded at issue: SHA256SUMS gives the bytes' own hash, to compare with it.
            "transcript_sha256": transcript.sha256 if transcript is not None else None,
            "files": [{"name": n, "sha256": h} for h, n in sums],
            "recordings": [item.entry for item in media],
            # The download's own event: the newest link when this bundle was made.
            "audit_head": {"seq": downloaded.seq, "link": downloaded.hash},
            "signature": {"file": "SHA256SUMS.p7s", "signer_cert_sha256": _sha256_cert(identity)},
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        _add(archive, "manifest.json", text, sums)
        listing = "".join(f"{h}  {n}\n" for h, n in sums).encode()
        archive.writestr(zipfile.ZipInfo("SHA256SUMS", _ZIP_TIME), listing)
        archive.writestr(
            zipfile.ZipInfo("SHA256SUMS.p7s", _ZIP_TIME), sign_detached(identity, listing)
        )
    name = f"case-{case.id}-bundle.zip"
    return name, buffer.getvalue()


async def _court_identity(keys: CourtKeys, court: Court) -> SigningIdentity:
    # A development court's first signature issues its certificate (key generation): not on
    # the event loop.
    signer = await asyncio.get_running_loop().run_in_executor(None, keys.signer, court)
    return signer.identity


def _sha256_cert(identity: SigningIdentity) -> str:
    return hashlib.sha256(identity.cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def sign_detached(identity: SigningIdentity, data: bytes) -> bytes:
    """A detached CMS SignedData (DER) over `data` as bytes (no S/MIME text canonicalisation),
    with the signer's certificate and its chain, as `openssl cms -verify -binary` checks it."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data)
    builder = builder.add_signer(identity.cert, identity.key, hashes.SHA256())
    for cert in identity.chain:
        if cert != identity.cert:
            builder = builder.add_certificate(cert)
    return builder.sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
    )
