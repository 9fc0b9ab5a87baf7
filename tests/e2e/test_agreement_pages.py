"""The mediation agreement in Chromium, in separate contexts: the mediator drafts it at a desk
(1366x768) and the kiosk in the hall (1280x800, 1920x1080) shows the very text, amounts in
capitals; each party signs by hand with a code texted to their own phone; a change after one
signature is seen on the kiosk and voids it; the mediator signs last and seals, and the PDF's
committee signature is valid to pyHanko."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from app.keys import SERVICES
from app.services.demo import sample_application
from app.store.models import SmsOutbox

from e2e.conftest import screenshot_path
from e2e.session_helpers import login
from e2e.test_ruling_pages import api_login
from integration.test_mediation_api import dispute
from integration.test_rulings_per_court import checked

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KIOSK_SIZES = ({"width": 1280, "height": 800}, {"width": 1920, "height": 1080})


async def mediation_in_session(base: str) -> int:
    """Filed, accepted by the demo mediator, scheduled and started through the API."""
    async with aiohttp.ClientSession() as s:
        headers = await api_login(s, base, "mediator")
        today = dt.datetime.now(dt.UTC).date()
        async with s.post(f"{base}/api/mediations", json=dispute(today), headers=headers) as r:
            mediation_id = int((await r.json())["id"])
        one = f"{base}/api/mediations/{mediation_id}"
        async with s.get(f"{base}/api/me", headers=headers) as r:
            me = (await r.json())["id"]
        at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
        for step, body in (
            ("accept", {"mediator_id": me}),
            ("schedule", {"scheduled_at": at}),
            ("start", {}),
        ):
            async with s.post(f"{one}/{step}", json=body, headers=headers) as r:
                assert r.status == 200, await r.text()
    return mediation_id


async def texted_code(server: Any, phone: str) -> str:
    async with server.app[SERVICES].db.transaction() as session:
        body = await session.scalar(
            select(SmsOutbox.body).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc())
        )
    found = re.search(r"验证码为(\d{6})", body or "")
    assert found is not None, body
    return found.group(1)


async def sign_by_hand(page: Any, canvas: Any) -> None:
    """A name written with a finger: a few strokes across the box."""
    await canvas.scroll_into_view_if_needed()
    box = await canvas.bounding_box()
    for row in (0.3, 0.55, 0.8):
        await page.mouse.move(box["x"] + 20, box["y"] + box["height"] * row)
        await page.mouse.down()
        for step in range(1, 12):
            x = box["x"] + 20 + step * (box["width"] - 40) / 11
            y = box["y"] + box["height"] * (row + (0.12 if step % 2 else -0.12))
            await page.mouse.move(x, y)
        await page.mouse.up()


async def party_signs(kiosk: Any, server: Any, party: int, name: str) -> None:
    card = kiosk.locator(f".signer-card[data-party='{party}']")
    await card.get_by_role("button", name="发送验证码").click()
    await card.get_by_text("验证码已发送到").wait_for()
    phone = sample_application(dt.date.today())["applicants"][party]["phone"]
    await card.get_by_label("短信验证码（6 位数字）").fill(await texted_code(server, phone))
    await sign_by_hand(kiosk, card.locator("canvas"))
    await card.get_by_role("button", name="同意申请司法确认").click()
    await card.get_by_role("button", name="我已阅读协议全文，确认签名").click()
    await kiosk.get_by_text(f"✓ {name} 已签名").wait_for()


async def test_the_agreement_drafted_seen_signed_by_hand_and_sealed(
    browser: Any, live_server: Any
) -> None:
    base = str(live_server.make_url("")).rstrip("/")
    clock = live_server.app[SERVICES].clock
    mediation_id = await mediation_in_session(base)

    # The mediator drafts at a court desk.
    mediator = await login(browser, base, "mediator")
    await mediator.set_viewport_size({"width": 1366, "height": 768})
    await mediator.goto(f"{base}/mediations/{mediation_id}")
    desk = mediator.locator("#agreement")
    await desk.get_by_label("纠纷主要事实、争议事项").fill(
        "赵六驾驶电动车与张三发生碰撞，致张三受伤住院"
    )
    await desk.get_by_label("各方当事人的责任").fill("赵六负事故全部责任")
    await desk.get_by_label("条款内容").fill("赵六向张三赔偿医疗费、误工费等各项损失")
    await desk.get_by_label("金额（元，可不填）").fill("40000")
    await desk.get_by_label("履行期限（可不填）").fill("2026-12-31")
    await desk.get_by_label("履行方式和期限").fill("银行转账一次性支付")
    await desk.get_by_role("button", name="保存草稿").click()
    await desk.get_by_text("第 1 稿，起草中").wait_for()
    assert "肆万元整" in await desk.locator("#agreement-text").inner_text()
    await desk.get_by_role("button", name="定稿，交当事人签名").click()
    await desk.get_by_text("第 1 稿已定稿，等待签名").wait_for()
    await mediator.screenshot(path=screenshot_path("agreement-1-mediator-1366x768"), full_page=True)

    # The kiosk in the hall shows the same text, ID numbers masked.
    kiosk = await login(browser, base, "kiosk1")
    await kiosk.set_viewport_size(KIOSK_SIZES[0])
    # Its home page offers the agreement fixed for signing: one tap to it.
    to_sign = kiosk.get_by_role("link", name="签署调解协议 · 人身损害赔偿纠纷 · 张三、赵六")
    await to_sign.wait_for()
    for size in KIOSK_SIZES:
        await kiosk.set_viewport_size(size)
        await kiosk.screenshot(path=screenshot_path(f"agreement-0-kiosk-home-{size['width']}"))
    await kiosk.set_viewport_size(KIOSK_SIZES[0])
    await to_sign.click()
    await kiosk.wait_for_url(f"**/kiosk/mediation/{mediation_id}/agreement")
    text = kiosk.locator("#agreement-text")
    await kiosk.get_by_text("协议已定稿。请各方当事人逐一核对并签名。").wait_for()
    shown = await text.inner_text()
    assert "金额人民币40,000.00元（大写：肆万元整）" in shown and "银行转账一次性支付" in shown
    assert "440311" not in shown
    for size in KIOSK_SIZES:
        await kiosk.set_viewport_size(size)
        await kiosk.screenshot(
            path=screenshot_path(f"agreement-2-kiosk-{size['width']}"), full_page=True
        )
    await kiosk.set_viewport_size(KIOSK_SIZES[0])
    await party_signs(kiosk, live_server, 0, "张三")

    # The mediator changes a term after that signature: the kiosk shows the new text within a
    # couple of seconds, says the signature no longer counts, and asks again.
    await mediator.get_by_text("张三：已签名").wait_for()
    await desk.get_by_label("履行方式和期限").fill("银行转账分两期支付")
    await desk.get_by_role("button", name="保存草稿").click()
    await desk.get_by_text("第 2 稿，起草中").wait_for()
    await kiosk.get_by_text("协议内容已变更，之前的签名已作废").wait_for(timeout=5_000)
    assert "分两期支付" in await text.inner_text()
    await desk.get_by_role("button", name="定稿，交当事人签名").click()
    await kiosk.locator(".signer-card[data-party='0'] canvas").wait_for()
    await kiosk.screenshot(path=screenshot_path("agreement-3-kiosk-changed-1280"), full_page=True)

    clock.now += dt.timedelta(minutes=2)  # one code a minute per phone
    await party_signs(kiosk, live_server, 0, "张三")
    await party_signs(kiosk, live_server, 1, "赵六")
    await kiosk.screenshot(path=screenshot_path("agreement-4-kiosk-signed-1280"), full_page=True)

    # The mediator signs last, then seals for the committee.
    await sign_by_hand(mediator, mediator.locator("#mediator-pad"))
    await desk.get_by_role("button", name="调解员签名").click()
    await desk.get_by_role("button", name="加盖调解委员会印章，协议生效").click()
    await desk.get_by_text("已签章生效").wait_for()
    assert "调解成功" in await mediator.inner_text("h1")
    assert "修改前所签的签名 1 个，已作废" in await desk.locator("#signers").inner_text()
    await mediator.screenshot(path=screenshot_path("agreement-5-sealed-1366x768"), full_page=True)
    link = desk.get_by_role("link", name="已签章的调解协议（PDF）")
    response = await mediator.request.get(f"{base}{await link.get_attribute('href')}")
    pdf = await response.body()
    signature = await checked(pdf, live_server.app[SERVICES].settings.certs_dir / "dev-root-ca.pem")
    assert "光明街道人民调解委员会" in signature.signer_subject
    await kiosk.get_by_text("调解协议已签章生效。").wait_for()

    # One tap: the application for confirmation, filled in and submitted, with the sealed
    # agreement as its material.
    await desk.get_by_role("button", name="一键申请司法确认").click()
    await mediator.wait_for_url("**/cases/*")
    page = await mediator.inner_text("main")
    assert "人身损害赔偿纠纷" in page and "人民调解协议书（调" in page, page
    await mediator.screenshot(
        path=screenshot_path("agreement-6-application-1366x768"), full_page=True
    )
    assert not mediator.errors and not kiosk.errors, (mediator.errors, kiosk.errors)
