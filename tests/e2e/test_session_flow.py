"""The live confirmation session in real Chromium: kiosk and judge in separate browser contexts,
video both ways, records through the pages, the ruling served at the kiosk."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.ruling.pki import read_certificates
from app.ruling.verify import verify_pdf

from e2e.intake_flow import file_and_book
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
from e2e.test_ruling_pages import booked_case

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
    # The signed original waits, out of sight, for the print button.
    assert (await kiosk.get_attribute("#print-frame", "src") or "").endswith("/ruling.pdf")
    await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-4-ruling"), full_page=True)
    for p in range(parties):
        await serve_electronically(kiosk, p)
    await kiosk.wait_for_selector("#all-served:not(.hidden)")
    await at_step(kiosk, "closed")
    await kiosk.screenshot(path=screenshot_path(f"{shot}-kiosk-5-served"), full_page=True)


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
    await kiosk_into_lobby(kiosk, base, case_id, "confirm")
    await kiosk.screenshot(path=screenshot_path("confirm-kiosk-2-lobby"), full_page=True)
    await judge_admits(judge, base, case_id, "confirm")

    await assert_video_plays(judge, "#tiles figure[data-role=kiosk] video")
    await assert_video_plays(kiosk, "#remote-video")
    await kiosk.wait_for_selector("#lobby[data-state='admitted']", state="attached")

    await verify_identities(judge)
    await kiosk.wait_for_selector(".party-box[data-party='1'] .status.ok")
    await kiosk.screenshot(path=screenshot_path("confirm-kiosk-3-warning"), full_page=True)
    await kiosk_consents(kiosk)
    await at_step(kiosk, "inquiry")
    await kiosk.screenshot(path=screenshot_path("confirm-kiosk-3-consented"), full_page=True)
    await record_answers(judge)
    await at_step(judge, "review")
    await judge.screenshot(path=screenshot_path("confirm-judge-2-before-review"), full_page=True)
    assert await judge.is_visible("#missing")  # the review is still missing
    await review_all_absent(judge)
    await judge.wait_for_selector("#missing.hidden", state="attached")
    await judge.screenshot(path=screenshot_path("confirm-judge-3-ready"), full_page=True)
    await judge.click("#decide")
    await issue_and_serve(judge, kiosk, "confirm", ("调解协议有效", "第二百零六条"))
    await text_has(judge, "#receipt-status", "赵六")
    await judge.screenshot(path=screenshot_path("confirm-judge-5-issued"), full_page=True)
    assert await kiosk.evaluate("window.sifaBeeps || 0") >= 1  # the judge's arrival was heard
    await clerk_ruling_validates(session_server, base, case_id, clerk)

    await clerk.goto(f"{base}/board")
    await clerk.wait_for_selector("#board tr[data-step='closed']")
    await clerk.screenshot(path=screenshot_path("clerk-board"), full_page=True)
    await clerk.goto(f"{base}/figures")
    assert "svg" in await clerk.inner_html("#halls + .charts")
    await clerk.screenshot(path=screenshot_path("clerk-figures"), full_page=True)
    await clerk.goto(f"{base}/cases/{case_id}/timeline")
    assert "当事人确认" in await clerk.inner_text("#timeline")
    await clerk.screenshot(path=screenshot_path("clerk-timeline"), full_page=True)
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
    # Party 0 confirms at the kiosk; party 1 acknowledges the warning, then tells the judge
    # the agreement was not voluntary.
    await kiosk_consents(kiosk, parties=1)
    await kiosk.click(".party-box[data-party='1'] button.ack")
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
    await kiosk.click(".party-box[data-party='1'] button.ack")
    await kiosk.wait_for_selector(".party-box[data-party='1'] button.consent:not([disabled])")
    await kiosk.click(".party-box[data-party='1'] button.consent")
    await kiosk.wait_for_selector(".party-box[data-party='1'] .consented")
