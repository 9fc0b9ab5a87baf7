"""HTTPS as the browser sees it: served by the node itself (SIFA_TLS_CERT/KEY) or by a balancer
in front (X-Forwarded-Proto from a trusted proxy), and what follows from it: HSTS, Secure
cookies, wss:// signaling. The rules are pure; the last functions read them off a request.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import ssl
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from app.config import Settings
from app.keys import services

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# A year, without includeSubDomains: the court's other hosts under the same domain may still
# be plain HTTP, and one header must not lock browsers out of them.
HSTS = "max-age=31536000"


def is_https(url: str) -> bool:
    return urlsplit(url).scheme.lower() == "https"


def wants_hsts(*, secure: bool, public_url: str) -> bool:
    """A response carries HSTS when the browser reached us over HTTPS, or when the public
    address is https (browsers ignore the header on plain HTTP, so it costs nothing there)."""
    return secure or is_https(public_url)


def secure_cookies(*, secure: bool, public_url: str) -> bool:
    """Cookies are Secure whenever browsers reach the site over HTTPS: the public address says
    so (TLS on the balancer), or this request came over TLS (TLS on the node). The same rule
    as HSTS, named for its other use."""
    return wants_hsts(secure=secure, public_url=public_url)


def forwarded_https(peer: str | None, proto: Sequence[str], proxies: Sequence[Network]) -> bool:
    """Pure: a trusted balancer (SIFA_TRUSTED_PROXIES) said the client spoke HTTPS to it.
    Anyone else's X-Forwarded-Proto is the client's own claim and proves nothing."""
    if not proto or peer is None or not proxies:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if not any(address in network for network in proxies):
        return False
    # A chain of proxies lists the client-facing hop first.
    return proto[0].split(",", 1)[0].strip().lower() == "https"


def public_url_for(public_url: str, *, configured: bool, tls: bool) -> str:
    """The default public address is http://HOST:PORT; a node serving TLS itself is https."""
    if configured or not tls or not public_url.startswith("http://"):
        return public_url
    return "https://" + public_url.removeprefix("http://")


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2 and up, HTTP/1.1 (aiohttp speaks no h2). Raises ssl.SSLError or OSError with
    the file's problem: a key that does not match its certificate fails here, at start-up."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


class TlsFilesUnusable(Exception):
    def __init__(self, cert: Path, key: Path, problem: str) -> None:
        super().__init__(
            f"SIFA_TLS_CERT/SIFA_TLS_KEY：无法使用证书 {cert} 和私钥 {key}（{problem}） / "
            f"cannot use the certificate {cert} with the key {key}: {problem}"
        )


def serving_tls(settings: Settings) -> tuple[ssl.SSLContext | None, Settings]:
    """For `sifa serve`: the TLS context when SIFA_TLS_CERT/KEY are set (else None), and the
    settings with an https default public address to match."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None, settings
    try:
        context = server_ssl_context(settings.tls_cert, settings.tls_key)
    except (ssl.SSLError, OSError) as error:
        raise TlsFilesUnusable(settings.tls_cert, settings.tls_key, str(error)) from error
    url = public_url_for(settings.public_url, configured=settings.public_url_configured, tls=True)
    return context, dataclasses.replace(settings, public_url=url)


def as_seen_by_browser(request: web.Request) -> web.Request:
    """The request with the scheme the browser used: behind a balancer terminating TLS the
    node hears http, yet Origin checks, wss:// URLs and cookies must follow the browser."""
    if request.secure:
        return request
    proxies = services(request).settings.trusted_proxies
    if forwarded_https(request.remote, request.headers.getall(hdrs.X_FORWARDED_PROTO, []), proxies):
        return request.clone(scheme="https")
    return request


def request_wants_hsts(request: web.Request) -> bool:
    return wants_hsts(secure=request.secure, public_url=services(request).settings.public_url)


def cookies_secure(request: web.Request) -> bool:
    return secure_cookies(secure=request.secure, public_url=services(request).settings.public_url)
