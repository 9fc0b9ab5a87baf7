"""Wiring the signaling server into the app with its settings and the database authority."""

from __future__ import annotations

from aiohttp import web

from app.config import Settings
from app.keys import Services
from app.services.live import CaseRoomAuthority
from signaling.ice import IceSettings
from signaling.server import SignalingConfig, SignalingServer, setup_signaling

ICE_KEY = web.AppKey("ice_settings", IceSettings)


def ice_settings(settings: Settings) -> IceSettings:
    return IceSettings(
        stun_urls=settings.stun_urls,
        turn_urls=settings.turn_urls,
        turn_secret=settings.turn_secret.encode(),
    )


def attach_signaling(app: web.Application, svc: Services) -> SignalingServer:
    ice = ice_settings(svc.settings)
    app[ICE_KEY] = ice
    config = SignalingConfig(secret=svc.secret, ice=ice)
    return setup_signaling(app, config, CaseRoomAuthority(svc.db, svc.clock))
