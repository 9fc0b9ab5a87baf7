"""HTTPS off localhost, in real Chromium with hall.test resolving to 127.0.0.1.

- over plain http the kiosk explains that the camera needs HTTPS, in Chinese then English;
- `sifa serve` serving TLS itself (SIFA_TLS_CERT/KEY, the certificate from `sifa init
  --server-cert`), the development root trusted through NSS: the camera works and a whole
  session ends in a signed ruling, over wss signaling, with HSTS and Secure cookies;
- HAProxy terminating TLS (deploy/haproxy-tls.cfg) in front of a plain-http node: the same
  browser-facing guarantees, the kiosk reaching the lobby over wss through the balancer.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from cluster.cluster_support import Installation, free_port

from app.ruling.pki import read_certificates
from app.ruling.verify import verify_pdf
from app.web.tls import HSTS

from e2e.conftest import chromium_present, live_server, screenshot_path
from e2e.https_support import (
    HOST,
    LB_SOURCE,
    api_session,
    api_token,
    chromium,
    client_ssl,
    haproxy_tls,
    https_installation,
    node,
    nss_home,
    root_pem,
    running,
    server_cert,
)
from e2e.session_helpers import (
    kiosk_into_lobby,
    login,
)
from e2e.test_ruling_pages import booked_case
from e2e.test_session_flow import hearing_to_ruling
from integration.ruling_flow import scheduled_case
from realdeps import require, require_tool

pytestmark = [pytest.mark.browser]
__all__ = ["live_server"]

NOTICE_ZH = "摄像头无法使用：本页面未通过 HTTPS 安全连接打开"
NOTICE_EN = "The camera cannot be used: this page was not opened over HTTPS"


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """One Sifa on SQLite (`sifa init`, `sifa demo`) and its development server certificate."""
    require(chromium_present(), "Debian's chromium at /usr/bin/chromium")
    return https_installation(tmp_path_factory.mktemp("https"))


@pytest.fixture(scope="module")
def trusting_home(installation: Installation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("certutil")
    return nss_home(tmp_path_factory.mktemp("home"), root_pem(installation))


@pytest.fixture
def tls_node(installation: Installation) -> Iterator[int]:
    """`sifa serve` with SIFA_TLS_CERT/KEY and no SIFA_PUBLIC_URL: it serves https itself and
    its default public address says so."""
    cert, key = server_cert(installation)
    port = free_port()
    env = {"SIFA_PORT": str(port), "SIFA_TLS_CERT": str(cert), "SIFA_TLS_KEY": str(key)}
    process = node(installation, "tls-node", env)
    with running(process, f"https://127.0.0.1:{port}/healthz", client_ssl(installation)):
        assert f"Sifa serving on https://127.0.0.1:{port}" in process.logs()
        yield port


@pytest.fixture
def balancer(installation: Installation) -> Iterator[tuple[int, int]]:
    """A plain-http node behind HAProxy terminating TLS: (https port, http port)."""
    haproxy = require_tool("haproxy")
    cert, key = server_cert(installation)
    node_port = free_port()
    lb, https_port, http_port = haproxy_tls(
        installation, haproxy, [("node-a", f"127.0.0.1:{node_port}")], cert, key
    )
    env = {
        "SIFA_PORT": str(node_port),
        "SIFA_PUBLIC_URL": f"https://{HOST}:{https_port}",
        "SIFA_TRUSTED_PROXIES": LB_SOURCE,
    }
    with running(node(installation, "node-a", env), f"http://127.0.0.1:{node_port}/healthz"):
        url = f"https://127.0.0.1:{https_port}/healthz"
        with running(lb, url, client_ssl(installation)):
            yield https_port, http_port


async def test_over_plain_http_the_kiosk_explains_that_the_camera_needs_https(
    live_server: TestServer,
) -> None:
    port = live_server.port
    case_id = await booked_case(f"http://127.0.0.1:{port}")
    base = f"http://{HOST}:{port}"
    async with chromium() as browser:
        kiosk = await login(browser, base, "kiosk1")
        assert await kiosk.evaluate("window.isSecureContext") is False
        # The idle page says it at once, before anyone starts a session.
        await kiosk.goto(f"{base}/kiosk")
        await kiosk.get_by_role("heading", name=NOTICE_ZH).wait_for()
        await kiosk.goto(f"{base}/kiosk/session/{case_id}")
        notice = kiosk.get_by_role("alert").filter(has_text=NOTICE_ZH)
        await notice.wait_for()
        text = await notice.inner_text()
        assert text.index(NOTICE_ZH) < text.index(NOTICE_EN), text
        assert f"{base}/kiosk/session/{case_id}" in text  # the address it was opened at
        assert f"https://{HOST}/kiosk/session/{case_id}" in text  # the address to use
        assert "信息技术人员" in text and "IT staff" in text
        # The self-test names HTTPS as the reason, not the camera, and check-in stays shut.
        await kiosk.wait_for_selector("#check-camera[data-state='fail']")
        assert "HTTPS" in await kiosk.inner_text("#check-camera")
        assert await kiosk.is_disabled("#checkin")
        assert await kiosk.is_hidden("#guidance")
        for width, height in ((1280, 800), (1920, 1080)):
            await kiosk.set_viewport_size({"width": width, "height": height})
            shot = screenshot_path(f"https-kiosk-needs-https-{width}x{height}")
            await kiosk.screenshot(path=shot)
            box = await notice.bounding_box()
            assert box is not None and box["y"] + 80 < height  # its heading is on screen
        assert not kiosk.errors, kiosk.errors


@pytest.mark.slow
async def test_tls_on_the_node_camera_works_and_the_session_ends_signed(
    installation: Installation, trusting_home: Path, tls_node: int
) -> None:
    api = f"https://127.0.0.1:{tls_node}"
    context = client_ssl(installation)
    base = f"https://{HOST}:{tls_node}"
    async with (
        api_session(api, context, await api_token(api, context, "mediator")) as mediator,
        api_session(api, context, await api_token(api, context, "clerk")) as clerk,
    ):
        case_id = await scheduled_case(mediator, clerk)
        async with chromium(trusting_home) as browser:
            kiosk = await login(browser, base, "kiosk1")
            judge = await login(browser, base, "judge")
            response = await kiosk.goto(f"{base}/kiosk")
            assert response.headers["strict-transport-security"] == HSTS
            assert await kiosk.evaluate("window.isSecureContext") is True
            cookies = {c["name"]: c for c in await kiosk.context.cookies()}
            assert cookies["sifa_session"]["secure"] and cookies["sifa_session"]["httpOnly"]
            await kiosk_into_lobby(kiosk, base, case_id, "https")
            assert await kiosk.is_hidden("#secure-context")
            await kiosk.wait_for_selector("#lobby[data-state='lobby']", state="attached")
            assert await kiosk.evaluate("window.sifaCall.wsUrl") == f"wss://{HOST}:{tls_node}/ws"
            await hearing_to_ruling(judge, kiosk, base, case_id, "https")
            verify = await kiosk.get_attribute("#ruling-text .rt-qr a", "href")
            assert verify and verify.startswith(f"https://127.0.0.1:{tls_node}/verify/"), verify
            for page in (kiosk, judge):
                assert not page.errors, page.errors
        async with clerk.get(f"/api/cases/{case_id}/ruling.pdf") as r:
            assert r.status == 200
            pdf = await r.read()
    roots = read_certificates([root_pem(installation)])
    result = await asyncio.to_thread(verify_pdf, pdf, roots)
    assert result.ok, result.problems


def plain_get(url: str) -> tuple[int, str]:
    """Status and Location of one request, redirects not followed."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with urllib.request.build_opener(Stay).open(url, timeout=5) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


@pytest.mark.slow
async def test_tls_on_the_balancer_pages_cookies_and_wss_through_haproxy(
    installation: Installation, trusting_home: Path, balancer: tuple[int, int]
) -> None:
    https_port, http_port = balancer
    api = f"https://127.0.0.1:{https_port}"
    context = client_ssl(installation)
    base = f"https://{HOST}:{https_port}"
    # Plain HTTP on the balancer only sends browsers to HTTPS.
    status, location = plain_get(f"http://127.0.0.1:{http_port}/kiosk")
    assert status == 301 and location.startswith("https://"), (status, location)
    async with (
        api_session(api, context, await api_token(api, context, "mediator")) as mediator,
        api_session(api, context, await api_token(api, context, "clerk")) as clerk,
    ):
        case_id = await scheduled_case(mediator, clerk)
        async with api_session(api, context) as anonymous, anonymous.get("/login") as r:
            assert r.headers["Strict-Transport-Security"] == HSTS
        async with chromium(trusting_home) as browser:
            # The login form posts with Origin https://hall.test:PORT: the node, hearing http
            # from HAProxy, must still take it for its own origin.
            kiosk = await login(browser, base, "kiosk1")
            assert kiosk.url == f"{base}/kiosk", kiosk.url
            cookies = {c["name"]: c for c in await kiosk.context.cookies()}
            assert cookies["sifa_session"]["secure"], cookies
            await kiosk.goto(f"{base}/lang?to=en&next=/kiosk")
            cookies = {c["name"]: c for c in await kiosk.context.cookies()}
            assert cookies["sifa_lang"]["secure"], cookies
            await kiosk_into_lobby(kiosk, base, case_id, "https-lb")
            await kiosk.wait_for_selector("#lobby[data-state='lobby']", state="attached")
            assert await kiosk.evaluate("window.sifaCall.wsUrl") == f"wss://{HOST}:{https_port}/ws"
            assert await kiosk.is_hidden("#secure-context")
            assert not kiosk.errors, kiosk.errors
