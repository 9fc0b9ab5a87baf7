"""The judge console with more than one person in the room, in real Chromium: the hall's kiosk
and a party on their own device each get a tile of their own (picture, sound, name and role),
the kiosk's first and largest; the lobby names roles in the page's language; the consent line
says where each party confirmed; and the kiosk's check-in is awaited only while some party is
not on their own device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from e2e.session_helpers import (
    LOCALE,
    assert_video_plays,
    base_of,
    judge_admits,
    kiosk_consents,
    kiosk_into_lobby,
    login,
    screenshot_path,
    session_server,
    text_has,
    verify_identities,
)
from e2e.test_party_device import issue_code, own_device
from e2e.test_ruling_pages import booked_case

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]

KIOSK_TILE = "#tiles figure.tile[data-role=kiosk]"
PARTY_TILE = "#tiles figure.tile[data-role=party]"
# Players with a live sound track that are actually playing, one per tile.
LIVE_SOUND = """() => [...document.querySelectorAll('#tiles audio')].filter((a) =>
  a.srcObject && !a.paused && a.srcObject.getAudioTracks().some((t) => t.readyState === 'live')
).length"""


@dataclass(frozen=True)
class Words:
    party: str  # the role of a party on their own device
    kiosk: str
    waiting: str
    consent_own: str
    consent_kiosk: str
    missing_own: str  # party 1 has not yet confirmed, on their own device
    checkin_ok: str


WORDS = {
    "zh-CN": Words(
        party="当事人（本人设备）",
        kiosk="确认室终端",
        waiting="候场中",
        consent_own="已在本人设备确认",
        consent_kiosk="已在终端确认",
        missing_own="申请人赵六尚未在本人设备确认",
        checkin_ok="终端自检通过",
    ),
    "en": Words(
        party="Party (own device)",
        kiosk="Room kiosk",
        waiting="waiting",
        consent_own="confirmed on own device",
        consent_kiosk="confirmed at the kiosk",
        missing_own="Applicant 赵六: not yet confirmed on own device",
        checkin_ok="Kiosk self-test passed",
    ),
}


async def phone_in_lobby(browser: Any, base: str, case_id: int, party: int) -> Any:
    """A party's own device: redeem a fresh code, pass the self-test, wait in the lobby."""
    code = await issue_code(browser, base, case_id, party)
    phone = await own_device(browser)
    await phone.goto(f"{base}/join")
    await phone.fill("#code", code)
    await phone.click("#join-form button")
    await phone.wait_for_selector("#checkin:not([disabled])", timeout=45_000)
    await phone.click("#checkin")
    await phone.wait_for_selector("#lobby[data-state='lobby']", state="attached", timeout=45_000)
    return phone


async def width(page: Any, selector: str) -> float:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["width"])


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_kiosk_and_remote_party_each_get_a_tile(
    browser: Any, session_server: Any, lang: str
) -> None:
    words = WORDS[lang]
    base = base_of(session_server)
    case_id = await booked_case(base)
    pid = f"party-{case_id}-1"
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge", locale=LOCALE[lang])
    await kiosk_into_lobby(kiosk, base, case_id, f"tiles-{lang}")
    await judge_admits(judge, base, case_id, f"tiles-{lang}")
    await judge.wait_for_selector(KIOSK_TILE)
    assert await judge.is_hidden("#nobody-in")

    # The party waits in the lobby under their name and their role, in the page's language.
    phone = await phone_in_lobby(browser, base, case_id, 1)
    waiting = f"#lobby li[data-participant='{pid}']"
    await judge.wait_for_selector(waiting, timeout=45_000)
    line = await judge.inner_text(waiting)
    assert "赵六" in line and words.party in line and words.waiting in line, line
    assert "(party)" not in line and "（party）" not in line, line
    await judge.screenshot(path=screenshot_path(f"tiles-{lang}-1-lobby"), full_page=True)

    await judge.click(f"button.admit[data-participant='{pid}']")
    await phone.wait_for_selector("#lobby[data-state='admitted']", state="attached")

    # Two tiles, both playing, each with its own sound: nobody replaces anybody.
    await judge.wait_for_selector(PARTY_TILE, timeout=45_000)
    assert await judge.locator("#tiles figure.tile").count() == 2
    await assert_video_plays(judge, f"{KIOSK_TILE} video")
    await assert_video_plays(judge, f"{PARTY_TILE} video")
    await judge.wait_for_function(f"() => ({LIVE_SOUND})() === 2", timeout=45_000)
    assert await judge.locator("#tiles audio").count() == 2
    # The hall's kiosk first and largest.
    first = await judge.get_attribute("#tiles figure.tile:first-child", "data-role")
    assert first == "kiosk"
    assert await width(judge, KIOSK_TILE) > 1.5 * await width(judge, PARTY_TILE)
    kiosk_caption = await judge.inner_text(f"{KIOSK_TILE} figcaption")
    assert words.kiosk in kiosk_caption and "终端" in kiosk_caption, kiosk_caption
    party_caption = await judge.inner_text(f"{PARTY_TILE} figcaption")
    assert "赵六" in party_caption and words.party in party_caption, party_caption
    await text_has(judge, "#checkin-status", words.checkin_ok)
    assert await judge.is_visible(".party-card[data-party='1'] .where")
    assert await judge.is_hidden(".party-card[data-party='0'] .where")
    await judge.screenshot(path=screenshot_path(f"tiles-{lang}-2-room"), full_page=True)

    # Identity first; then the missing list waits for party 1 on their own device, not at
    # the kiosk.
    await verify_identities(judge)
    await text_has(judge, "#missing", words.missing_own)
    await phone.wait_for_selector(
        ".party-box[data-party='1'] button.consent:not([disabled])", timeout=10_000
    )
    await phone.click(".party-box[data-party='1'] button.consent")
    await kiosk_consents(kiosk, parties=1)  # party 0 at the hall
    own = ".party-card[data-party='1'] .consent-status"
    await judge.wait_for_selector(f"{own}[data-device='own_device']", timeout=10_000)
    assert words.consent_own in await judge.inner_text(own)
    hall = ".party-card[data-party='0'] .consent-status"
    await judge.wait_for_selector(f"{hall}[data-device='kiosk']", timeout=10_000)
    assert words.consent_kiosk in await judge.inner_text(hall)
    await judge.screenshot(path=screenshot_path(f"tiles-{lang}-3-consented"), full_page=True)

    # The judge ends the party's connection: their tile goes, the kiosk's stays and plays;
    # the record of where they confirmed does not change.
    await judge.evaluate(f"window.sifaCall.remove('{pid}', 'test')")
    await judge.wait_for_selector(PARTY_TILE, state="detached", timeout=10_000)
    assert await judge.locator("#tiles figure.tile").count() == 1
    await assert_video_plays(judge, f"{KIOSK_TILE} video")
    await judge.wait_for_function(f"() => ({LIVE_SOUND})() === 1", timeout=10_000)
    await judge.wait_for_selector(".party-card[data-party='1'] .where", state="hidden")
    # A link closed on purpose reports no state of its own: the connection line forgets it.
    await judge.wait_for_function(
        "() => !document.getElementById('conn-state').textContent.includes('赵六')"
    )
    assert words.consent_own in await judge.inner_text(own)
    await judge.screenshot(path=screenshot_path(f"tiles-{lang}-4-removed"), full_page=True)
    for page in (judge, kiosk, phone):
        assert not page.errors, page.errors


async def test_no_kiosk_is_awaited_when_every_party_is_on_their_own_device(
    browser: Any, session_server: Any
) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    judge = await login(browser, base, "judge")
    await judge.goto(f"{base}/judge/session/{case_id}")
    await judge.click("#open-session")
    await judge.wait_for_selector("#open-session.hidden", state="attached")
    await judge.wait_for_function("() => window.sifaCall && window.sifaCall.state === 'admitted'")
    await judge.wait_for_selector("#checkin-status[data-status='awaited']", state="attached")
    assert await judge.is_visible("#nobody-in")

    # One party at home: the other is still expected at the hall, and so is its kiosk.
    first = await phone_in_lobby(browser, base, case_id, 1)
    await judge.wait_for_selector(f"button.admit[data-participant='party-{case_id}-1']")
    await judge.click(f"button.admit[data-participant='party-{case_id}-1']")
    await judge.wait_for_selector(PARTY_TILE, timeout=45_000)
    await judge.wait_for_selector("#checkin-status[data-status='awaited']", state="attached")
    assert "终端尚未自检签到" in await judge.inner_text("#checkin-status")

    # Both at home: nobody waits for a kiosk.
    second = await phone_in_lobby(browser, base, case_id, 0)
    await judge.wait_for_selector("#checkin-status[data-status='not-needed']", state="attached")
    await judge.click(f"button.admit[data-participant='party-{case_id}-0']")
    await judge.wait_for_function(
        "() => document.querySelectorAll('#tiles figure.tile[data-role=party]').length === 2",
        timeout=45_000,
    )
    line = await judge.inner_text("#checkin-status")
    assert "无需确认室终端" in line and "尚未自检" not in line, line
    # Without the kiosk, the parties come in their order: 张三 (0) first and largest.
    assert await judge.get_attribute("#tiles figure.tile:first-child", "data-participant") == (
        f"party-{case_id}-0"
    )
    await assert_video_plays(judge, "#tiles figure.tile:first-child video")
    await assert_video_plays(judge, "#tiles figure.tile:nth-child(2) video")
    await judge.wait_for_function(f"() => ({LIVE_SOUND})() === 2", timeout=45_000)
    await judge.screenshot(path=screenshot_path("tiles-zh-CN-5-remote-only"), full_page=True)
    for page in (judge, first, second):
        assert not page.errors, page.errors
