"""The recorder's ICE: which host addresses it offers, and its servers and transport policy."""

from __future__ import annotations

from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy

from app.recording.peer import RECORDER_ID
from signaling.ice import IceSettings, ice_servers_for


def offer_host_addresses(addresses: tuple[str, ...]) -> None:
    """Limit the recorder's ICE host candidates to these addresses (SIFA_RECORDER_ADDRESSES).
    aioice has no per-connection option: its address lookup is replaced for the process,
    which holds only the recorder's connections."""
    if not addresses:
        return
    import aioice.ice

    ipv4 = [a for a in addresses if ":" not in a]
    ipv6 = [a for a in addresses if ":" in a]

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return (ipv4 if use_ipv4 else []) + (ipv6 if use_ipv6 else [])

    aioice.ice.get_host_addresses = host_addresses


def rtc_configuration(ice: IceSettings, now: float) -> RTCConfiguration:
    """The platform's own ICE servers (none by default), never a public STUN server."""
    servers = []
    for entry in ice_servers_for(ice, RECORDER_ID, now):
        urls = entry["urls"]
        username, credential = entry.get("username"), entry.get("credential")
        servers.append(
            RTCIceServer(
                urls=[str(u) for u in urls] if isinstance(urls, list) else str(urls),
                username=None if username is None else str(username),
                credential=None if credential is None else str(credential),
            )
        )
    # aiortc 1.16 hands the policy to aioice, which then gathers only TURN relay candidates
    # (no host or srflx, and the relay candidate's related address hidden).
    policy = RTCIceTransportPolicy(ice.transport_policy)
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)
