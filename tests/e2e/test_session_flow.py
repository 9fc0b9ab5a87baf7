"""The live confirmation session in real Chromium: kiosk and judge in separate browser contexts,
video both ways, records through the pages, the ruling served at the kiosk."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.ruling.pki import read_certificates
from app.ruling.verify import verify_pdf

from e2e.intake_flow import file_and_book
from e2e.media_watch import tracks_all_stopped, watch_tracks
from e2e.screen_fit import KIOSK_SIZES, smallest_text, way_forward
from e2e.session_helpers import (
    api_headers,
    assert_ruling_masked_on_screen,
    assert_video_plays,
    at_step,
    base_of,
    judge_admits,
    kiosk_confirms_transcript,
    kiosk_consents,
    kiosk_into_lobby,
    login,
    record_answers,
    screenshot_path,
    serve_electronically,
    session_server,
    text_has,
    verify_identities,
)
from e2e.taps import count_taps, taps
from e2e.test_ruling_pages import booked_case
from realdeps import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["session_server"]


async def review_all_absent(judge: Any) -> None:
    await judge.click("#review-form button[type=submit]")
    await text_has(judge, "#review-status", "✓")


async def hearing_to_ruling(judge: Any, kiosk: Any, base: str, case_id: int, shot: str) -> None:
    """From the kiosk waiting in the lobby to a served ruling, the straight way through: what
    the deployment tests run (through a balancer, over TLS) around their own checks."""
    await judge_admits(judge, base, case_id, shot)
    await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
    await assert_video_plays(kiosk, "#remote-video")
    await verify_identities(judge)
    await kiosk_consents(kiosk)
    await record_answers(judge)
    await review_all_absent(judge)
    await judge.click("#decide")
    await issue_and_serve(judge, kiosk, shot, ("调解协议有效",))


async def issue_and_serve(
    judge: Any, kiosk: Any, shot: str, words: tuple[str, ...], parties: int = 2
) -> None:
    await judge.wait_for_selector("#issue:not(.hidden)")
    # The parties review the transcript first; the judge sees them settle, then may issue.
    await judge.wait_for_selector("#transcript-review:not(.hidden)")
    await kiosk_confirms_transcript(kiosk, parties, shot)
    await judge.wait_for_selector("#transcript-review .transcript-ready:not(.hidden)")
    # Before signing, the judge reads the full text the ruling will have.
    await judge.wait_for_selector("#ruling-draft .rt-title")
    draft = await judge.inner_text("#ruling-draft")
    assert all(w in draft for w in words), draft
    await assert_ruling_masked_on_screen(judge, parties, "#ruling-draft")
    assert await judge.locator("#ruling-draft .rt-qr a").count() == 0  # drawn at issue
    await judge.screenshot(path=screenshot_path(f"{shot}-judge-4-decided"), full_page=True)
    await judge.click("#issue")
    await judge.wait_for_selector("#ruling-box:not(.hidden)", timeout=20_000)
    await kiosk.wait_for_selector("#ruling-box:not(.hidden)", timeout=10_000)
    # Each party first answers, in its own tap, whether it agrees to electronic service.
    await kiosk.wait_for_selector(".receipt button.choose")
    # The kiosk brings the ruling's text on screen by itself.
    await kiosk.wait_for_selector("#ruling-text .rt-title")
    await kiosk.wait_for_function(
        """() => { const r = document.getElementById('ruling-text').getBoundingClientRect();
                   return r.top >= 0 && r.top < window.innerHeight; }""",
        timeout=5000,
    )
    await assert_ruling_masked_on_screen(kiosk, parties)
    verify = await kiosk.get_attribute("#ruling-text .rt-qr a", "href")
    assert verify and "/verify/" in verify, verify
    # The QR code the caption asks to scan is drawn, and scans to the same verify address.
    code = kiosk.get_by_role("img", name="扫描二维码核验裁定书真伪")
    png = screenshot_path(f"{shot}-kiosk-4-qr")
    await code.screenshot(path=png)
    zbarimg = await asyncio.create_subprocess_exec(
        require_tool("zbarimg"), "--raw", "-q", png, stdout=asyncio.subprocess.PIPE
    )
    decoded, _ = await zbarimg.communicate()
    assert decoded.decode().split() == [verify]
    # The signed original waits, out of sight, for the print button.
    assert (await kiosk.get_attribute("#print-frame", "src") or "").endswith("/ruling.pdf")
    await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-4-ruling"), full_page=True)
    for p in range(parties):
        await serve_electronically(kiosk, p)
    await kiosk.wait_for_selector("#all-served:not(.hidden)")
    await at_step(kiosk, "closed")
    await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-5-served"), full_page=True)


IN_VIEW = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"""


async def judge_watches(judge: Any, party: int, shot: str) -> None:
    """At 1366x768, with the party's answers form scrolled to, the kiosk's picture is still on
    screen, and both the party's card and that picture say who is being questioned."""
    form = judge.locator(f".answers-form[data-party='{party}']")
    await form.scroll_into_view_if_needed()
    await form.locator("input[name=note]").focus()
    tile = "#tiles figure[data-role=kiosk]"
    assert await judge.evaluate(IN_VIEW, f"{tile} video")
    assert await judge.evaluate(IN_VIEW, f".answers-form[data-party='{party}'] button")
    await judge.wait_for_selector(f".party-card.questioned[data-party='{party}']")
    await judge.wait_for_selector(f"{tile}.questioned")
    name = await judge.inner_text(f".party-card[data-party='{party}'] h2")
    asking = await judge.inner_text(f"{tile} .asking")
    assert asking.startswith("正在询问") and asking.split("：")[1] in name, (asking, name)
    assert await judge.locator(".party-card.questioned").count() == 1
    await judge.screenshot(path=screenshot_path(f"{shot}-judge-2-questioning-{party}-1366x768"))


async def kiosk_screens_fit(kiosk: Any, target: str, shot: str) -> None:
    """At the kiosk's two sizes: the way forward on screen (or 继续), no text under 20 px."""
    for size in KIOSK_SIZES:
        await way_forward(kiosk, target, shot, size)
        smallest = await smallest_text(kiosk)
        assert smallest[0] >= 20, (size, smallest)
    await kiosk.set_viewport_size({"width": 1366, "height": 900})


async def hearing_ends(judge: Any, kiosk: Any, shot: str) -> None:
    """Served: both pages hang up by themselves and every track they held is stopped (the
    camera light goes off); the kiosk says so and counts down to its idle screen, the judge's
    console raises no alarm about a recorder that stopped as it should."""
    for page in (kiosk, judge):
        await tracks_all_stopped(page)
        assert await page.evaluate("window.sifaCall") is None
    over = kiosk.get_by_role("status").filter(has_text="本次司法确认已结束")
    await over.wait_for()
    await text_has(kiosk, "#over-countdown", "秒后返回待机画面")
    await kiosk.get_by_role("link", name="立即返回待机画面").wait_for()
    for width, height in ((1280, 800), (1920, 1080)):
        await kiosk.set_viewport_size({"width": width, "height": height})
        await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-6-over-{width}x{height}"))
    await text_has(judge, "#conn-state", "庭审已结束")
    assert "连接失败" not in await judge.inner_text("body")
    assert await judge.is_hidden("#join-room")
    await judge.set_viewport_size({"width": 1366, "height": 768})
    await judge.screenshot(path=screenshot_path(f"{shot}-judge-6-over-1366x768"))


async def clerk_ruling_validates(server: Any, base: str, case_id: int, clerk: Any) -> None:
    """The clerk finds the case on the rulings page and downloads the ruling and the bundle
    with the browser's own session; the ruling's signature validates."""
    await clerk.goto(f"{base}/rulings")
    link = clerk.locator(f"a[href='/api/cases/{case_id}/ruling.pdf']")
    response = await clerk.request.get(base + str(await link.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = await response.body()
    roots = read_certificates([server.certs_dir / "dev-root-ca.pem"])
    result = await asyncio.to_thread(verify_pdf, pdf, roots)
    assert result.ok, result.problems
    # 下载 downloads: the list stays in its tab.
    async with clerk.expect_download() as saved:
        await link.click()
    assert (await saved.value).suggested_filename == f"ruling-{case_id}.pdf"
    assert clerk.url.endswith("/rulings")
    assert (await clerk.request.get(f"{base}/favicon.ico")).status == 200
    bundle = clerk.locator(f"a[href='/api/cases/{case_id}/bundle.zip']")
    archive = await clerk.request.get(base + str(await bundle.get_attribute("href")))
    names = zipfile.ZipFile(io.BytesIO(await archive.body())).namelist()
    assert {"ruling.pdf", "transcript.pdf", "SHA256SUMS"} <= set(names), names


async def test_confirmation_end_to_end(browser: Any, session_server: Any, tmp_path: Path) -> None:
    """Every user in their own browser context, from the mediator's application to the clerk's
    validated download."""
    base = base_of(session_server)
    mediator = await login(browser, base, "mediator")
    clerk = await login(browser, base, "clerk")
    case_id = await file_and_book(mediator, clerk, base, tmp_path)
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await watch_tracks(kiosk)
    await watch_tracks(judge)
    await kiosk.goto(f"{base}/kiosk/session/{case_id}")
    await kiosk.wait_for_selector("#checkin:not([disabled])", timeout=15_000)
    await kiosk_screens_fit(kiosk, "#checkin", "confirm-kiosk-1-selftest")
    # One series of steps: the device check is the first, and the current one.
    assert await kiosk.get_attribute("#steps li.current", "data-step") == "selftest"
    assert "毫秒" in await kiosk.inner_text("#check-network")
    assert await kiosk.locator("#clock").count() == 0  # no judge's target clock for parties
    await kiosk.click("#checkin")
    await kiosk.wait_for_selector("#lobby:not(.hidden)")
    await kiosk.screenshot(path=screenshot_path("confirm-kiosk-2-lobby"), full_page=True)
    await judge_admits(judge, base, case_id, "confirm", before_admitting=count_taps)

    await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
    await assert_video_plays(kiosk, "#remote-video")
    await kiosk.wait_for_selector("#lobby[data-state='admitted']", state="attached")

    await verify_identities(judge)
    await kiosk.wait_for_selector(".party-box[data-party='1'] .status.ok")
    await kiosk.screenshot(path=screenshot_path("confirm-kiosk-3-warning"), full_page=True)
    await kiosk_screens_fit(
        kiosk, ".party-box[data-party='1'] button.consent", "confirm-kiosk-3-warning"
    )
    warning = await kiosk.evaluate(
        "() => [parseFloat(getComputedStyle(document.querySelector('.warning-text p')).fontSize),"
        " parseFloat(getComputedStyle(document.body).fontSize)]"
    )
    assert warning[0] >= max(20, warning[1]), warning
    await count_taps(kiosk)  # the parties' taps from here (the screen checks above tap 继续)
    await kiosk_consents(kiosk)
    await at_step(kiosk, "inquiry")
    await kiosk.screenshot(path=screenshot_path("confirm-kiosk-3-consented"), full_page=True)
    await judge.set_viewport_size({"width": 1366, "height": 768})
    await judge_watches(judge, 0, "confirm")
    await record_answers(judge, parties=1)
    await judge_watches(judge, 1, "confirm")
    await record_answers(judge, first=1)
    await at_step(judge, "review")
    await judge.screenshot(path=screenshot_path("confirm-judge-2-before-review"), full_page=True)
    assert await judge.is_visible("#missing")  # the review is still missing
    await review_all_absent(judge)
    await judge.wait_for_selector("#missing.hidden", state="attached")
    await judge.screenshot(path=screenshot_path("confirm-judge-3-ready"), full_page=True)
    await judge.click("#decide")
    await issue_and_serve(judge, kiosk, "confirm", ("调解协议有效", "第二百零六条"))
    # From admission to the issued ruling the judge clicked at most 8 times; each party
    # tapped at most 3 times at the kiosk, and once more for electronic service.
    (judge_clicks, judge_log), (kiosk_taps, kiosk_log) = await taps(judge), await taps(kiosk)
    assert judge_clicks.total() <= 8, judge_log
    assert kiosk_taps["0"] <= 4 and kiosk_taps["1"] <= 4 and not kiosk_taps["-"], kiosk_log
    await text_has(judge, "#receipt-status", "赵六")
    await judge.screenshot(path=screenshot_path("confirm-judge-5-issued"), full_page=True)
    # The records' step is over: their forms are closed, and say so, rather than be refused.
    for form in (".identity-form[data-party='0']", ".answers-form[data-party='1']", "#review-form"):
        assert await judge.locator(f"{form} button[type=submit]").is_disabled()
        assert "本环节已结束" in await judge.inner_text(form)
    assert await kiosk.evaluate("window.sifaBeeps || 0") >= 1  # the judge's arrival was heard
    await hearing_ends(judge, kiosk, "confirm")
    await clerk_ruling_validates(session_server, base, case_id, clerk)

    await clerk.goto(f"{base}/board")
    await clerk.wait_for_selector("#board tr[data-step='closed']")
    await clerk.screenshot(path=screenshot_path("clerk-board"), full_page=True)
    await clerk.goto(f"{base}/figures")
    assert "svg" in await clerk.inner_html("#halls + .charts")
    # Weeks read as dates, not ISO week codes.
    week = await clerk.inner_text("#weeks tbody tr td:first-child")
    assert re.fullmatch(r"\d+月\d+日–\d+月\d+日", week), week
    assert "-W" not in await clerk.inner_text("main")
    await clerk.screenshot(path=screenshot_path("clerk-figures"), full_page=True)
    await clerk.goto(f"{base}/cases/{case_id}/timeline")
    assert "当事人确认" in await clerk.inner_text("#timeline")
    await clerk.screenshot(path=screenshot_path("clerk-timeline"), full_page=True)
    # Meanwhile the kiosk's countdown ran out: it is back on its idle screen.
    await kiosk.wait_for_url(f"{base}/kiosk", timeout=25_000)
    for page in (mediator, kiosk, judge, clerk):
        assert not page.errors, page.errors


async def test_rejection_path(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "reject")
    await judge_admits(judge, base, case_id, "reject")
    # The judge sees the kiosk before checking anyone's identity: a record needs the kiosk's
    # media to reach the server (presence), as the video playing shows.
    await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
    await verify_identities(judge)
    # Party 0 confirms at the kiosk; party 1 does not, and tells the judge the agreement was
    # not voluntary.
    await kiosk_consents(kiosk, parties=1)
    await record_answers(judge, refuse=1)
    form = "#review-form tr[data-ground='not_voluntary']"
    await judge.check(f"{form} input[value=yes]")
    await judge.fill(f"{form} input[name='note-not_voluntary']", "申请人赵六称系受胁迫签字")
    await judge.click("#review-form button[type=submit]")
    await text_has(judge, "#review-status", "✓")
    await judge.check("#decision-form input[value=reject]")
    await judge.select_option("#decision-form select[name=ground]", "not_voluntary")
    await judge.fill(
        "#decision-form textarea[name=reasons]", "申请人赵六表示协议并非其真实意思表示。"
    )
    await judge.click("#decide")
    await text_has(kiosk, "#decision-text", "驳回")
    await issue_and_serve(judge, kiosk, "reject", ("驳回", "申请人赵六表示协议并非其真实意思表示"))
    async with aiohttp.ClientSession() as s:
        clerk = await api_headers(s, base, "clerk")
        async with s.get(f"{base}/api/cases/{case_id}", headers=clerk) as r:
            assert (await r.json())["state"] == "served"
    await clerk_ruling_validates(session_server, base, case_id, await login(browser, base, "clerk"))


async def test_kiosk_reload_continues_from_the_same_step(browser: Any, session_server: Any) -> None:
    base = base_of(session_server)
    case_id = await booked_case(base)
    kiosk = await login(browser, base, "kiosk1")
    judge = await login(browser, base, "judge")
    await kiosk_into_lobby(kiosk, base, case_id, "reload")
    await judge_admits(judge, base, case_id, "reload")
    await verify_identities(judge)
    await kiosk_consents(kiosk, parties=1)
    await kiosk.reload()
    # Straight back: no self-test, the same step, party 0 already confirmed, party 1 not.
    await kiosk.wait_for_selector(".party-box[data-party='0'] .consented")
    assert await kiosk.is_hidden("#selftest")
    assert await kiosk.evaluate("document.body.dataset.step") == "inquiry"
    assert await kiosk.get_attribute("#steps li.current", "data-step") == "inquiry"
    await kiosk.screenshot(path=screenshot_path("reload-kiosk-after-reload"), full_page=True)
    # The kiosk rejoins the room (lobby again, since it is a new seat after the drop? no: the
    # same participant id takes its seat over and keeps its admission).
    await assert_video_plays(kiosk, "#remote-video")
    await kiosk_consents_rest(kiosk)
    await record_answers(judge)
    await review_all_absent(judge)
    await judge.click("#decide")
    await issue_and_serve(judge, kiosk, "reload", ("调解协议有效",))


async def kiosk_consents_rest(kiosk: Any) -> None:
    await kiosk.wait_for_selector(".party-box[data-party='1'] button.consent:not([disabled])")
    await kiosk.click(".party-box[data-party='1'] button.consent")
    await kiosk.wait_for_selector(".party-box[data-party='1'] .consented")
