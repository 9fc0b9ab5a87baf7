"""A service voucher verified on its own public page, in real Chromium, by someone holding it:
the page scanned from the voucher's QR code says what the voucher proves at every screen size,
takes the genuine file as identical, and a copy with one byte changed as altered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from e2e.session_helpers import api_headers, base_of, screenshot_path, session_server
from e2e.test_party_device import heard_and_issued

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]

SIZES = {
    "kiosk-1280": {"width": 1280, "height": 800},
    "kiosk-1920": {"width": 1920, "height": 1080},
    "judge-1366": {"width": 1366, "height": 768},
    "phone-390": {"width": 390, "height": 844},
}


async def served_voucher(base: str, case_id: int) -> tuple[str, bytes]:
    """Party 0 agrees to electronic service and signs at the kiosk: its voucher's page and
    bytes."""
    async with aiohttp.ClientSession() as s:
        kiosk = await api_headers(s, base, "kiosk1")
        url = f"{base}/api/cases/{case_id}"
        choice = {"party": 0, "electronic": True}
        async with s.post(f"{url}/service/choice", json=choice, headers=kiosk) as r:
            assert r.status == 200, await r.text()
        async with s.post(f"{url}/receipts", json={"party": 0}, headers=kiosk) as r:
            assert r.status == 201, await r.text()
            receipt = await r.json()
        clerk = await api_headers(s, base, "clerk")
        async with s.get(f"{url}/vouchers/0.pdf", headers=clerk) as r:
            pdf = await r.read()
    path = "/" + str(receipt["verify_url"]).split("://", 1)[1].split("/", 1)[1]
    return path, pdf


async def test_a_voucher_checked_on_its_own_page(
    browser: Any, session_server: Any, tmp_path: Path
) -> None:
    base = base_of(session_server)
    case_id = await heard_and_issued(base)
    path, pdf = await served_voucher(base, case_id)
    genuine = tmp_path / "voucher.pdf"
    genuine.write_bytes(pdf)
    altered = tmp_path / "altered.pdf"
    at = pdf.index(b"/Producer") if b"/Producer" in pdf else len(pdf) // 3
    altered.write_bytes(pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :])

    for name, size in SIZES.items():
        context = await browser.new_context(locale="zh-CN", viewport=size)
        page = await context.new_page()
        await page.goto(base + path)
        await page.get_by_text("电子送达凭证").first.wait_for()
        await page.screenshot(path=screenshot_path(f"verify-voucher-{name}"), full_page=True)
        if name == "phone-390":
            await page.get_by_label("选择 PDF 文件").set_input_files(str(genuine))
            await page.get_by_role("button", name="核验").click()
            await page.get_by_text("与本院出具的送达凭证原件完全一致").wait_for()
            await page.screenshot(path=screenshot_path("verify-voucher-genuine"), full_page=True)
            await page.goto(base + path)
            await page.get_by_label("选择 PDF 文件").set_input_files(str(altered))
            await page.get_by_role("button", name="核验").click()
            await page.get_by_text("原件不一致").wait_for()
        await context.close()
