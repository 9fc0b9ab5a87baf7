"""The app signs with a timestamp (PAdES B-T) when a TSA is configured, and with a PKCS#12 key."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from app.main import create_app
from app.ruling.devtsa import running_tsa
from app.ruling.pki import (
    PkiPaths,
    ensure_dev_pki,
    ensure_dev_tsa,
    load_dev_identity,
    read_certificates,
    write_pkcs12,
)
from app.ruling.verify import verify_pdf

from integration.conftest import Clock, Sifa, make_settings, prepare
from integration.ruling_flow import decided_case, ok


async def _issue_one(sifa: Sifa) -> tuple[dict[str, Any], bytes]:
    mediator = await sifa.as_user("mediator")
    clerk = await sifa.as_user("clerk")
    judge = await sifa.as_user("judge")
    kiosk = await sifa.as_user("kiosk1")
    case_id = await decided_case(mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling"), 201)
    pdf = await (await clerk.get(f"/api/cases/{case_id}/ruling.pdf")).read()
    return issued, pdf


async def _app(tmp: Path, aiohttp_client: Callable[..., Any], **env: str) -> Sifa:
    clock = Clock()
    settings = make_settings(tmp, f"sqlite+aiosqlite:///{tmp / 'sifa.db'}", **env)
    await prepare(settings, clock.now)
    return Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)


def _pki(certs: Path) -> PkiPaths:
    return ensure_dev_pki(certs, "深圳市光明区人民法院", "粤0311")


async def test_timestamped_ruling_when_a_tsa_is_configured(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    tsa_dir = tmp_path / "tsa"
    pki = _pki(tsa_dir)
    async with running_tsa(ensure_dev_tsa(tsa_dir, pki)) as url:
        sifa = await _app(tmp_path / "app", aiohttp_client, SIFA_TSA_URL=url)
        issued, pdf = await _issue_one(sifa)
    assert issued["signature_level"] == "B-T"
    roots = read_certificates([sifa.settings.certs_dir / "dev-root-ca.pem", pki.root_cert])
    result = await asyncio.to_thread(
        verify_pdf, pdf, roots, issued["sha256"], require_timestamp=True
    )
    assert result.ok, result.problems
    stamp = result.signatures[0].timestamp
    assert stamp is not None and stamp.ok


async def test_production_key_from_pkcs12(
    tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    elsewhere = tmp_path / "issuer"
    pki = _pki(elsewhere)
    p12 = tmp_path / "court.p12"
    write_pkcs12(p12, load_dev_identity(pki), b"s3cret-pass")
    sifa = await _app(
        tmp_path / "app",
        aiohttp_client,
        SIFA_SIGNING_P12=str(p12),
        SIFA_SIGNING_P12_PASSWORD="s3cret-pass",
    )
    issued, pdf = await _issue_one(sifa)
    # Signed by the key from the PKCS#12 file, not by the development key of the certs folder.
    from_p12 = hashlib.sha256(
        load_dev_identity(pki).cert.public_bytes(serialization.Encoding.DER)
    ).hexdigest()
    assert issued["signer_cert_sha256"] == from_p12
    assert await result_ok(pdf, [pki.root_cert], issued["sha256"])
    assert not await result_ok(pdf, [sifa.settings.certs_dir / "dev-root-ca.pem"], issued["sha256"])


async def result_ok(pdf: bytes, roots: list[Path], sha256: str) -> bool:
    result = await asyncio.to_thread(verify_pdf, pdf, read_certificates(roots), sha256)
    return result.ok
