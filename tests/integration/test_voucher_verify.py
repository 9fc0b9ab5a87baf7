"""A service voucher verifies itself: its QR code carries its own token, its public page says
what it proves and checks an uploaded copy; the pages tell altered content, a broken signature
and an untrusted signer apart."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import aiohttp
from asn1crypto import cms
from sqlalchemy import select

from app.keys import SERVICES
from app.ruling.pki import ensure_dev_pki, load_dev_identity
from app.ruling.sign import PdfSigner
from app.store.models import ServiceReceipt

from integration.conftest import Sifa
from integration.ruling_flow import decided_case, ok, people, sign_for, small_pdf
from integration.test_rulings_issue import tool
from realdeps import require_tool

ROOM = "光明社区在线司法确认室一"
ZH = {"Accept-Language": "zh-CN"}


async def _upload(client: Any, path: str, data: bytes) -> str:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="file.pdf", content_type="application/pdf")
    response = await client.post(path, data=form, headers=ZH)
    assert response.status == 200, await response.text()
    return str(await response.text())


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _qr_codes(pdf: Path) -> set[str]:
    require_tool("zbarimg")
    tool("pdftoppm", "-r", "200", "-png", str(pdf), str(pdf.with_suffix("")))
    codes: set[str] = set()
    for page in pdf.parent.glob(f"{pdf.stem}*.png"):
        codes |= set(tool("zbarimg", "--raw", "-q", str(page)).stdout.split())
    return codes


def _damage_signature(pdf: bytes) -> bytes:
    """One byte of the RSA signature value flipped; the signed bytes stay as they were."""
    m = re.search(rb"/Contents <([0-9a-fA-F]+)>", pdf)
    assert m is not None
    der = bytes.fromhex(m.group(1).decode())
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    at = der.index(value) + len(value) // 2
    hexed = (der[:at] + bytes([der[at] ^ 0xFF]) + der[at + 1 :]).hex().encode()
    return pdf[: m.start(1)] + hexed + pdf[m.end(1) :]


async def test_voucher_has_its_own_page_and_qr(sifa: Sifa, tmp_path: Path) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    ruling_pdf = await (await clerk.get(f"/api/cases/{case_id}/ruling.pdf")).read()
    receipt = await ok(await sign_for(kiosk, case_id, 0), 201)

    # Named by its room, with its own token, unlike the ruling's.
    assert receipt["device"] == ROOM
    assert receipt["verify_url"] and receipt["verify_url"] != issued["verify_url"]
    async with sifa.app[SERVICES].db.transaction() as session:
        row = await session.scalar(select(ServiceReceipt).where(ServiceReceipt.case_id == case_id))
    assert row is not None and receipt["verify_url"].endswith(f"/verify/{row.verify_token}")
    listed = await ok(await clerk.get(f"/api/cases/{case_id}/receipts"))
    assert listed["receipts"][0]["verify_url"] == receipt["verify_url"]

    voucher = await (await clerk.get(f"/api/cases/{case_id}/vouchers/0.pdf")).read()
    assert hashlib.sha256(voucher).hexdigest() == receipt["voucher_sha256"]
    (tmp_path / "v").mkdir()
    saved = tmp_path / "v" / "voucher.pdf"
    saved.write_bytes(voucher)
    assert _qr_codes(saved) == {receipt["verify_url"]}
    text = "".join(tool("pdftotext", str(saved), "-").stdout.split())
    assert f"送达地点{ROOM}" in text and "kiosk" not in text and "扫描二维码核验送达凭证" in text

    # The page says what the voucher proves, masked.
    public = await sifa.make_client(sifa.app)
    page_path = _path(receipt["verify_url"])
    page = await (await public.get(page_path, headers=ZH)).text()
    assert "电子送达凭证核验" in page and "本凭证证明" in page
    assert issued["sha256"] in page and receipt["voucher_sha256"] in page
    assert ROOM in page and "张某" in page and "张三" not in page
    english = await (await public.get(page_path, headers={"Accept-Language": "en"})).text()
    assert "Verify an electronic service voucher" in english

    # The genuine voucher matches; the ruling is not this voucher; a changed byte is altered.
    genuine = await _upload(public, page_path, voucher)
    assert "与本院出具的送达凭证原件完全一致" in genuine and "电子签名有效" in genuine
    assert "data-finding" not in genuine
    other = await _upload(public, page_path, ruling_pdf)
    assert "与本院出具的送达凭证原件不一致" in other
    tampered = bytearray(voucher)
    tampered[len(tampered) // 4] ^= 0x01
    altered = await _upload(public, page_path, bytes(tampered))
    assert 'data-finding="content_altered"' in altered and "内容已被改动" in altered
    assert "签名人不受信任" not in altered and "签名已损坏" not in altered

    # The ruling's page still answers for the ruling, and tells the other two cases apart.
    ruling_path = _path(issued["verify_url"])
    assert "与本院出具的裁定书原件完全一致" in await _upload(public, ruling_path, ruling_pdf)
    broken = await _upload(public, ruling_path, _damage_signature(ruling_pdf))
    assert 'data-finding="signature_broken"' in broken and "签名已损坏" in broken
    assert 'data-finding="signer_untrusted"' not in broken
    # Signed by a self-made key in the court's name: a sound signature nobody should trust.
    court = "深圳市光明区人民法院"
    forger = PdfSigner(load_dev_identity(ensure_dev_pki(tmp_path / "forger", court, "粤0311")))
    forged = await forger.sign_async(small_pdf("民事裁定书"), reason="民事裁定书", location=court)
    untrusted = await _upload(public, ruling_path, forged)
    assert 'data-finding="signer_untrusted"' in untrusted and "签名人不受信任" in untrusted
    assert 'data-finding="signature_broken"' not in untrusted
