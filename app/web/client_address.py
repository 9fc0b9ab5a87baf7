"""The address a request comes from, seen through the balancers the installation trusts.

Behind HAProxy or nginx every request's peer is the balancer. Counting failed logins per peer
would then lock every user out at once, so when the peer is a trusted proxy
(SIFA_TRUSTED_PROXIES) the client is the last X-Forwarded-For hop that is not itself trusted:
hops to its left were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import hdrs, web

from app.keys import services

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(text: str, proxies: Sequence[Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in proxies)


def forwarded_client(peer: str, forwarded: Sequence[str], proxies: Sequence[Network]) -> str:
    """Pure: the client's address from the peer and the X-Forwarded-For header values."""
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            return peer  # a hop we cannot read: fall back to what we know
        if not _trusted(hop, proxies):
            return hop
    return peer


def client_address(request: web.Request) -> str:
    peer = request.remote or "unknown"
    proxies = services(request).settings.trusted_proxies
    return forwarded_client(peer, request.headers.getall(hdrs.X_FORWARDED_FOR, []), proxies)
