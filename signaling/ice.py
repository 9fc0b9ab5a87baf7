"""ICE servers handed to browsers; TURN credentials in coturn's REST (use-auth-secret) style."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

_STUN_SCHEMES = ("stun:", "stuns:")
_TURN_SCHEMES = ("turn:", "turns:")
# RTCIceTransportPolicy (W3C webrtc-pc), the same words in the browser and in aiortc.
TRANSPORT_POLICIES = ("all", "relay")


@dataclass(frozen=True, slots=True)
class IceSettings:
    # Empty by default on purpose: a court system must never leak candidate
    # addresses to a public STUN server nobody configured.
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: bytes = b""
    turn_ttl_seconds: int = 3600
    # "relay": every peer connection (browsers and the recorder) uses TURN relays only, for
    # halls whose firewall lets nothing but the TURN server's ports through.
    transport_policy: str = "all"

    def __post_init__(self) -> None:
        for url in self.stun_urls:
            if not url.startswith(_STUN_SCHEMES):
                raise ValueError(f"STUN url {url!r} must start with stun: or stuns:")
        for url in self.turn_urls:
            if not url.startswith(_TURN_SCHEMES):
                raise ValueError(f"TURN url {url!r} must start with turn: or turns:")
        if self.turn_urls and not self.turn_secret:
            raise ValueError("TURN urls are set but the TURN secret is empty")
        if self.turn_ttl_seconds <= 0:
            raise ValueError("turn_ttl_seconds must be positive")
        if self.transport_policy not in TRANSPORT_POLICIES:
            raise ValueError(
                f"transport_policy must be all or relay, got {self.transport_policy!r}"
            )
        if self.transport_policy == "relay" and not self.turn_urls:
            # Relay-only without a TURN server gathers no candidate at all: no call could connect.
            raise ValueError("transport_policy relay needs TURN urls")


def turn_credentials(secret: bytes, participant_id: str, expires_at: int) -> tuple[str, str]:
    username = f"{expires_at}:{participant_id}"
    digest = hmac.new(secret, username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers_for(
    settings: IceSettings, participant_id: str, now: float
) -> list[dict[str, object]]:
    servers: list[dict[str, object]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls:
        expires_at = int(now) + settings.turn_ttl_seconds
        username, credential = turn_credentials(settings.turn_secret, participant_id, expires_at)
        servers.append(
            {"urls": list(settings.turn_urls), "username": username, "credential": credential}
        )
    return servers
