"""A party who is not at the hall joins by video from their own device, in real Chromium: the
mediator issues a one-time code, a phone-sized browser redeems it, tests its camera and
microphone, waits in the lobby, the judge admits it, video flows both ways, the judge checks the
party's identity, the party confirms on their own screen, and once the ruling is issued reads
it and signs for it there.

Also the kiosk's sound and printing, which only a browser can show: a beep when the judge
arrives, and the print button handing the ruling to the printer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from app.keys import SERVICES
from app.services import audit
from app.store.models import ServiceReceipt

from e2e.screen_fit import PHONE, way_forward
from e2e.session_helpers import (
    api_headers,
    assert_ruling_masked_on_screen,
    assert_video_plays,
    at_step,
    base_of,
    judge_admits,
    kiosk_into_lobby,
    login,
    screenshot_path,
    serve_electronically,
    session_server,
    text_has,
)
from e2e.test_ruling_pages import Api, api_login, booked_case
from integration.ruling_flow import ALL_ABSENT, PASSED, Seat, record_session, review_transcript

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]

# Counted in every frame, so a call made inside the ruling's frame is seen by the page too.
COUNT_OSCILLATORS = """(() => {
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function (...args) {
    window.sifaOscillators = (window.sifaOscillators || 0) + 1;
    return make.apply(this, args);
  };
})();"""
COUNT_PRINTS = """(() => {
  // Headless Chromium has no printer: count the request, and note which document asked.
  window.print = () => {
    const top = window.top;
    top.sifaPrints = (top.sifaPrints || 0) + 1;
    top.sifaPrinted = [...(top.sifaPrinted || []), location.pathname];
  };
})();"""


async def own_device(browser: Any, script: str = COUNT_OSCILLATORS) -> Any:
    """A phone-sized browser with nobody logged in: the party's own device."""
    context = await browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 900})
    await context.add_init_script(script)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


async def issue_code(browser: Any, base: str, case_id: int, party: int) -> str:
    mediator = await login(browser, base, "mediator")
    await mediator.goto(f"{base}/cases/{case_id}/codes")
    await mediator.click(f"button.issue-code[data-party='{party}']")
    await text_has(mediator, f"#code-{party}", "-")  # XXXXX-XXXXX
    await mediator.screenshot(path=screenshot_path("remote-party-1-mediator-code"), full_page=True)
    code: str = await mediator.inner_text(f"#code-{party}")
    await mediator.context.close()
    return code


async def oscillators(page: Any) -> int:
    count: int = await page.evaluate("window.sifaOscillators || 0")
    return count


async def test_a_remote_party_joins_by_video_and_confirms(
    browser: Any, session_server: Any
) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    pid = f"party-{case_id}-1"
    judge = await login(browser, base, "judge")
    await judge.goto(f"{base}/judge/session/{case_id}")
    await judge.click("#open-session")
    await judge.wait_for_selector("#open-session.hidden", state="attached")
    code = await issue_code(browser, base, case_id, 1)

    phone = await own_device(browser)
    await phone.goto(f"{base}/join")
    assert "摄像头" in await phone.inner_text("main")  # told what comes after the code
    await phone.fill("#code", code)
    await phone.click("#join-form button")
    await phone.wait_for_url(f"**/party/session/{case_id}")
    # The same self-test as the kiosk's, before anyone sees the party.
    await phone.wait_for_selector("#checkin:not([disabled])", timeout=45_000)
    for check in ("camera", "microphone", "network"):
        assert await phone.get_attribute(f"#check-{check}", "data-state") in ("ok", "warn")
    assert "赵六" in await phone.inner_text("#party-who")
    await phone.screenshot(path=screenshot_path("remote-party-2-selftest"), full_page=True)
    # On a 390x844 phone the way forward is on screen, or the large 继续 brings it there.
    await way_forward(phone, "#checkin", "remote-party-2-selftest", PHONE)
    await phone.click("#checkin")
    await phone.wait_for_selector("#lobby[data-state='lobby']", state="attached", timeout=45_000)
    await text_has(phone, "#lobby-text", "等待审判员")
    await phone.screenshot(path=screenshot_path("remote-party-3-lobby"), full_page=True)
    assert await oscillators(phone) == 0  # nothing to announce while waiting

    # The judge sees the party waiting, by name, and lets them in like anyone else.
    admit = f"button.admit[data-participant='{pid}']"
    await judge.wait_for_selector(admit, timeout=45_000)
    assert "赵六" in await judge.inner_text("#lobby")
    await judge.screenshot(path=screenshot_path("remote-party-4-judge-lobby"), full_page=True)
    await judge.click(admit)
    await at_step(judge, "identity")
    await phone.wait_for_selector("#lobby[data-state='admitted']", state="attached")

    await assert_video_plays(judge, "#tiles figure[data-role=party] video")
    await assert_video_plays(phone, "#remote-video")
    await assert_video_plays(phone, "#self-video")
    await text_has(judge, "#tiles figure[data-role=party] figcaption", "赵六")
    await text_has(phone, "#remote-name", "审判员")
    await phone.wait_for_function("() => (window.sifaOscillators || 0) >= 1")  # the judge was heard
    await phone.screenshot(path=screenshot_path("remote-party-5-admitted"), full_page=True)

    # The judge checks the remote party's identity on camera, recorded as for anyone.
    await judge.click(".identity-form[data-party='1'] button[type=submit]")
    await judge.wait_for_selector(
        ".party-card[data-party='1'] .identity-status[data-result='passed']"
    )
    await phone.wait_for_selector(".party-box[data-party='1'] .status.ok", timeout=10_000)
    assert await phone.locator(".party-box").count() == 1  # only this party's buttons

    # The party confirms on their own device.
    await phone.wait_for_selector(
        ".party-box[data-party='1'] button.consent:not([disabled])", timeout=10_000
    )
    await phone.click(".party-box[data-party='1'] button.consent")
    await phone.wait_for_selector(".party-box[data-party='1'] .consented")
    await phone.screenshot(path=screenshot_path("remote-party-6-confirmed"), full_page=True)
    await judge.wait_for_selector(
        ".party-card[data-party='1'] .consent-status[data-done='yes']", timeout=10_000
    )
    # Where it was given, as recorded: not "at the kiosk" for a party who was never there.
    consent = await judge.inner_text(".party-card[data-party='1'] .consent-status")
    assert "已在本人设备确认" in consent and "终端" not in consent, consent
    await judge.screenshot(path=screenshot_path("remote-party-7-judge"), full_page=True)

    # The records: who joined from where, with which device check, and who verified them.
    async with session_server.app[SERVICES].db.transaction() as session:
        events = await audit.events_for_case(session, case_id)
    mine = {e.action: json.loads(e.details) for e in events if e.actor == pid}
    assert mine["room.token_issued"]["self_test"] == {
        "camera": True,
        "microphone": True,
        "network": True,
    }
    assert mine["room.token_issued"]["device"] == "own_device"
    assert mine["room.join"]["role"] == "party" and "room.admit" in mine
    assert mine["session.consent"]["device"] == "own_device"
    identity = next(e for e in events if e.action == "session.identity")
    assert json.loads(identity.details)["party"] == 1 and identity.actor == "judge"

    issued = await finish_with_hall_party(base, case_id, judge, phone)
    await party_signs_on_phone(phone, base, case_id, issued["sha256"])
    async with session_server.app[SERVICES].db.transaction() as session:
        rows = await session.scalars(
            select(ServiceReceipt).where(ServiceReceipt.case_id == case_id)
        )
        devices = {r.party_position: (r.device, r.method) for r in rows}
    assert devices[1][0] == "受送达人本人设备" and "本人设备确认签收" in devices[1][1]
    # The hall's device is named by its room, never by its account.
    assert devices[0][0] == "光明社区在线司法确认室一" and "kiosk" not in devices[0][0]
    for page in (phone, judge):
        assert not page.errors, page.errors


async def phone_confirms_transcript(phone: Any) -> None:
    """The party reads the transcript on its phone and confirms it, in its own hand."""
    box = phone.locator("#transcript-box .transcript-party[data-party='1']")
    await box.get_by_role("button", name="笔录无误，确认签名").click(timeout=45_000)
    await box.locator(".transcript-confirmed").wait_for()
    await phone.screenshot(path=screenshot_path("remote-party-7-transcript"), full_page=True)


async def finish_with_hall_party(
    base: str, case_id: int, judge_page: Any, phone: Any
) -> dict[str, Any]:
    """The rest of the hearing through the API: the other party in the hall at the kiosk (a
    light signaling client the judge's page admits: records need the kiosk in the room), the
    answers, the review, the decision and the ruling."""
    async with aiohttp.ClientSession() as s:
        judge = await api_headers(s, base, "judge")
        kiosk = await api_headers(s, base, "kiosk1")
        seat = await Seat(Api(s, base, kiosk), case_id).join()  # type: ignore[arg-type]
        await judge_page.click("button.admit")
        await asyncio.wait_for(seat.admitted.wait(), 15)
        await seat.report()
        url = f"{base}/api/cases/{case_id}"
        steps: list[tuple[str, dict[str, Any], dict[str, str]]] = [
            ("session/identity", {"party": 0, **PASSED}, judge),
            ("session/warning-ack", {"party": 0}, kiosk),
            ("session/consent", {"party": 0}, kiosk),
            *[
                (
                    "session/answers",
                    {"party": party, "agreed_freely": True, "understands": True},
                    judge,
                )
                for party in (0, 1)
            ],
            ("session/review", ALL_ABSENT, judge),
            ("decision", {"decision": "confirm"}, judge),
        ]
        for path, body, headers in steps:
            async with s.post(f"{url}/{path}", json=body, headers=headers) as r:
                assert r.status == 200, (path, await r.text())
        # The transcript: the hall's party confirms at the kiosk, the other on the phone.
        await review_transcript(Api(s, base, kiosk), case_id, (0,))  # type: ignore[arg-type]
        await phone_confirms_transcript(phone)
        async with s.post(f"{url}/ruling", json={}, headers=judge) as r:
            assert r.status == 201, await r.text()
            issued: dict[str, Any] = await r.json()
    return issued


async def party_signs_on_phone(phone: Any, base: str, case_id: int, sha256: str) -> None:
    """The issued ruling on the party's phone: the very bytes that were signed, a button for
    this party only, no print button; then the hall's party signs at the kiosk."""
    await phone.wait_for_selector("#ruling-box:not(.hidden)", timeout=45_000)
    await phone.wait_for_function("() => Boolean(window.sifaRuling)", timeout=10_000)
    seen = await phone.evaluate(
        """async () => {
          const bytes = await window.sifaRuling.blob.arrayBuffer();
          const digest = await crypto.subtle.digest("SHA-256", bytes);
          const head = new TextDecoder().decode(bytes.slice(0, 5));
          const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"));
          return { head, sha: hex.join("") };
        }"""
    )
    assert seen == {"head": "%PDF-", "sha": sha256}
    assert await phone.get_attribute("#ruling-link", "href") == await phone.evaluate(
        "window.sifaRuling.url"
    )
    assert await phone.get_attribute("#ruling-save", "download") == f"ruling-{case_id}.pdf"
    assert await phone.is_visible("#ruling-save")
    # The phone shows the text itself, ID numbers masked; it has no printer to hand: the
    # original is opened or saved instead.
    await phone.wait_for_selector("#ruling-text .rt-title")
    await assert_ruling_masked_on_screen(phone, 2)
    assert await phone.is_hidden("#print")
    assert await phone.is_visible("#ruling-link")
    await phone.wait_for_selector(".receipt[data-party='1'] button.choose")
    assert await phone.locator(".receipt").count() == 1  # only this party's receipt
    await phone.screenshot(path=screenshot_path("remote-party-8-ruling"), full_page=True)

    await serve_electronically(phone, 1)
    await phone.wait_for_selector("#self-served:not(.hidden)")
    await phone.wait_for_selector("#voucher-link:not(.hidden)", timeout=10_000)
    assert await phone.is_hidden("#all-served")
    async with aiohttp.ClientSession() as s:
        kiosk = await api_headers(s, base, "kiosk1")
        receipts = f"{base}/api/cases/{case_id}/receipts"
        choice = {"party": 0, "electronic": True}
        async with s.post(f"{base}/api/cases/{case_id}/service/choice", json=choice, headers=kiosk):
            pass
        async with s.post(receipts, json={"party": 0}, headers=kiosk) as r:
            assert r.status == 201, await r.text()
        # The party has signed already: the kiosk cannot sign for them a second time.
        async with s.post(receipts, json={"party": 1}, headers=kiosk) as r:
            assert r.status == 409, await r.text()
    await phone.wait_for_selector("#all-served:not(.hidden)", timeout=10_000)
    assert await phone.is_hidden("#self-served")
    voucher = await phone.evaluate(
        """async () => {
          const link = document.getElementById("voucher-link");
          if (link.href !== window.sifaVoucher.url) return "another link";
          const bytes = await window.sifaVoucher.blob.arrayBuffer();
          return new TextDecoder().decode(bytes.slice(0, 5));
        }"""
    )
    assert voucher == "%PDF-"
    await phone.screenshot(path=screenshot_path("remote-party-9-served"), full_page=True)


async def test_hall_and_remote_party_see_each_other(browser: Any, session_server: Any) -> None:
    """One party at the hall's kiosk, the other at home: each side keeps the judge in the big
    picture and sees the other in a small one, with its own sound."""
    base = base_of(session_server)
    case_id = await booked_case(base)
    pid = f"party-{case_id}-1"
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "mixed")
    await judge_admits(judge, base, case_id, "mixed")
    await assert_video_plays(kiosk, "#remote-video")

    code = await issue_code(browser, base, case_id, 1)
    phone = await own_device(browser)
    await phone.goto(f"{base}/join")
    await phone.fill("#code", code)
    await phone.click("#join-form button")
    await phone.wait_for_selector("#checkin:not([disabled])", timeout=45_000)
    await phone.click("#checkin")
    await judge.wait_for_selector(f"button.admit[data-participant='{pid}']", timeout=45_000)
    await judge.click(f"button.admit[data-participant='{pid}']")

    await assert_video_plays(phone, "#remote-video")
    await assert_video_plays(phone, "#others figure[data-role=kiosk] video")
    await assert_video_plays(kiosk, "#others figure[data-role=party] video")
    await text_has(phone, "#remote-name", "审判员")  # the judge stays in the big picture
    await text_has(kiosk, "#remote-name", "审判员")
    await text_has(kiosk, "#others figure[data-role=party] figcaption", "赵六")
    # The hall's kiosk no longer taps for the party who takes part from their own device.
    await kiosk.wait_for_selector(".party-box[data-party='1'] .status.remote")
    assert await kiosk.locator(".party-box[data-party='1'] button").count() == 0
    assert await kiosk.locator(".party-box[data-party='0'] button.consent").count() == 1
    for page in (kiosk, phone):
        sounds = await page.evaluate(
            "[...document.querySelectorAll('#remote-audio, #others audio')]"
            ".filter((a) => a.srcObject).length"
        )
        assert sounds == 2, sounds  # the judge's voice and the other party's, side by side
    await kiosk.screenshot(path=screenshot_path("mixed-kiosk"), full_page=True)
    await phone.screenshot(path=screenshot_path("mixed-party"), full_page=True)

    # The judge ends the remote party's connection: its picture leaves the kiosk, and the
    # party's device says so instead of offering to reconnect.
    await judge.evaluate(f"window.sifaCall.remove('{pid}', 'test')")
    await kiosk.wait_for_selector("#others figure[data-role=party]", state="detached")
    await phone.wait_for_selector("#lobby[data-state='closed']", state="attached")
    await text_has(phone, "#lobby-text", "审判员已结束")
    assert await phone.is_hidden("#rejoin")
    # The hall takes over.
    await kiosk.wait_for_selector(".party-box[data-party='1'] button.consent")
    for page in (kiosk, phone, judge):
        assert not page.errors, page.errors


async def test_the_kiosk_beeps_when_the_judge_arrives(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1")
    await kiosk.context.add_init_script(COUNT_OSCILLATORS)
    await kiosk_into_lobby(kiosk, base, case_id, "beep")
    await kiosk.wait_for_selector("#lobby[data-state='lobby']", state="attached", timeout=45_000)
    await kiosk.wait_for_timeout(1000)
    assert await oscillators(kiosk) == 0  # the self-test's level meter makes no sound
    judge = await login(browser, base, "judge")
    await judge_admits(judge, base, case_id, "beep")
    await kiosk.wait_for_selector("#lobby[data-state='admitted']", state="attached")
    await kiosk.wait_for_function("() => (window.sifaOscillators || 0) >= 1", timeout=10_000)
    assert await kiosk.evaluate("window.sifaBeeps || 0") >= 1
    await kiosk.screenshot(path=screenshot_path("beep-kiosk-admitted"), full_page=True)
    assert not kiosk.errors, kiosk.errors


async def decided_in_the_hall(base: str) -> int:
    """A case heard with both parties at the kiosk and confirmed, all through the API."""
    case_id = await booked_case(base)
    async with aiohttp.ClientSession() as s:
        judge = Api(s, base, await api_login(s, base, "judge"))
        kiosk_api = Api(s, base, await api_login(s, base, "kiosk1"))
        opened = await judge.post(f"/api/cases/{case_id}/open-session", {})
        assert opened.status == 200, await opened.text()
        await record_session(judge, kiosk_api, case_id)  # type: ignore[arg-type]
        decided = await judge.post(f"/api/cases/{case_id}/decision", {"decision": "confirm"})
        assert decided.status == 200, await decided.text()
    return case_id


async def heard_and_issued(base: str) -> int:
    """A case heard with both parties at the kiosk, confirmed, the transcript confirmed and
    the ruling issued, all through the API."""
    case_id = await decided_in_the_hall(base)
    async with aiohttp.ClientSession() as s:
        judge = Api(s, base, await api_login(s, base, "judge"))
        kiosk_api = Api(s, base, await api_login(s, base, "kiosk1"))
        await review_transcript(kiosk_api, case_id)  # type: ignore[arg-type]
        issued = await judge.post(f"/api/cases/{case_id}/ruling", {})
        assert issued.status == 201, await issued.text()
    return case_id


async def test_the_kiosk_prints_the_ruling(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    # The hearing itself is driven through the API: this test is about the kiosk's ruling view.
    case_id = await heard_and_issued(base)

    kiosk = await login(browser, base, "kiosk1")
    await kiosk.context.add_init_script(COUNT_PRINTS)
    await kiosk.goto(f"{base}/kiosk/session/{case_id}")
    await kiosk.wait_for_selector("#ruling-box:not(.hidden)", timeout=45_000)
    await kiosk.wait_for_selector("#print")
    assert await kiosk.evaluate("window.sifaPrints || 0") == 0
    await kiosk.click("#print")
    await kiosk.wait_for_function("() => (window.sifaPrints || 0) >= 1", timeout=5_000)
    await kiosk.click("#print")
    await kiosk.wait_for_function("() => (window.sifaPrints || 0) >= 2", timeout=5_000)
    # The signed original goes to the printer, not the masked screen copy the page shows.
    ruling = f"/api/cases/{case_id}/ruling.pdf"
    assert await kiosk.evaluate("window.sifaPrinted") == [ruling, ruling]
    await assert_ruling_masked_on_screen(kiosk, 2)
    await kiosk.screenshot(path=screenshot_path("print-kiosk-ruling"), full_page=True)
    assert not kiosk.errors, kiosk.errors


async def test_a_party_who_left_before_signing_is_served_on_their_phone(
    browser: Any, session_server: Any
) -> None:
    """Both parties heard at the hall; 赵六 left before the ruling came. The mediator issues a
    code after the ruling: the phone skips the device check and the video, shows the ruling
    (ID numbers masked) and takes 赵六's receipt."""
    base = base_of(session_server)
    case_id = await heard_and_issued(base)

    code = await issue_code(browser, base, case_id, 1)
    phone = await own_device(browser)
    await phone.goto(f"{base}/join")
    await phone.fill("#code", code)
    await phone.click("#join-form button")
    await phone.wait_for_url(f"**/party/session/{case_id}")
    await phone.wait_for_selector("#ruling-text .rt-title", timeout=45_000)
    assert await phone.is_hidden("#selftest") and await phone.is_hidden("#video-area")
    await assert_ruling_masked_on_screen(phone, 2)
    # The receipts are drawn after the ruling's text arrives, from their own request.
    await phone.wait_for_selector(".receipt[data-party='1'] button.choose")
    assert await phone.locator(".receipt").count() == 1
    assert "已作出裁定" in await phone.inner_text("#party-who")
    await phone.screenshot(path=screenshot_path("late-party-1-ruling"), full_page=True)
    await serve_electronically(phone, 1)
    await phone.wait_for_selector("#self-served:not(.hidden)", timeout=10_000)
    await phone.wait_for_selector("#voucher-link:not(.hidden)", timeout=10_000)
    await phone.screenshot(path=screenshot_path("late-party-2-signed"), full_page=True)
    assert not phone.errors, phone.errors
