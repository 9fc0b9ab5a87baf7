"""Wiring the signaling server into the app with its settings and the database authority."""

from __future__ import annotations

from aiohttp import web

from app.config import Settings
from app.keys import Services
from app.services.live import CaseRoomAuthority
from signaling.cluster import ClusterNode
from signaling.ice import IceSettings
from signaling.mailbox import ReplayLimits
from signaling.redis_bus import BusUnavailable
from signaling.server import SignalingConfig, SignalingServer, setup_signaling

ICE_KEY = web.AppKey("ice_settings", IceSettings)


def ice_settings(settings: Settings) -> IceSettings:
    return IceSettings(
        stun_urls=settings.stun_urls,
        turn_urls=settings.turn_urls,
        turn_secret=settings.turn_secret.encode(),
        transport_policy=settings.ice_transport_policy,
    )


def attach_signaling(app: web.Application, svc: Services) -> SignalingServer:
    settings = svc.settings
    ice = ice_settings(settings)
    app[ICE_KEY] = ice
    config = SignalingConfig(
        secret=svc.secret,
        ice=ice,
        rate_burst=settings.ws_rate_burst,
        rate_per_second=float(settings.ws_rate_per_second),
        flood_strikes=settings.ws_flood_strikes,
        replay=ReplayLimits(node_chars=settings.ws_replay_mb * 1024 * 1024),
    )
    server = setup_signaling(app, config, CaseRoomAuthority(svc.db, svc.clock))
    if settings.redis_url is not None:
        join_cluster(app, server, settings.redis_url, settings.redis_prefix, settings.node_name)
    return server


class ClusterUnavailable(Exception):
    """Redis did not answer at start-up: the node does not start (names SIFA_REDIS_URL)."""


def join_cluster(
    app: web.Application, server: SignalingServer, url: str, prefix: str, node: str
) -> ClusterNode:
    """Several nodes: rooms are hosted one node each, found through Redis."""
    cluster = server.cluster = ClusterNode(server, url=url, prefix=prefix, node=node)

    async def start(_app: web.Application) -> None:
        try:
            await cluster.start()
        except BusUnavailable as exc:
            raise ClusterUnavailable(f"SIFA_REDIS_URL: {exc}") from None

    app.on_startup.append(start)
    return cluster
