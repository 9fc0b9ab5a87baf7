"""The ICE transport policy from the environment to the ICE settings browsers and the recorder
get, and coturn's REST-style credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from aiortc import RTCIceTransportPolicy

from app.config import Settings
from app.recording.ice import rtc_configuration
from app.web.signaling_setup import ice_settings
from signaling.ice import IceSettings, ice_servers_for

TURN = "turn:turn.court.example:3478?transport=udp"


def test_relay_only_reaches_the_ice_settings_and_the_recorder(tmp_path: Path) -> None:
    env = {
        "SIFA_TURN_URLS": TURN,
        "SIFA_TURN_SECRET": "s3cret",
        "SIFA_ICE_TRANSPORT_POLICY": "Relay",
    }
    ice = ice_settings(Settings.from_env(env, base=tmp_path))
    assert ice.transport_policy == "relay"
    config = rtc_configuration(ice, 1_000.0)
    assert config.iceTransportPolicy is RTCIceTransportPolicy.RELAY
    assert [s.urls for s in config.iceServers or []] == [[TURN]]


def test_all_is_the_default(tmp_path: Path) -> None:
    ice = ice_settings(Settings.from_env({}, base=tmp_path))
    assert ice.transport_policy == "all"
    config = rtc_configuration(ice, 1_000.0)
    assert config.iceTransportPolicy is RTCIceTransportPolicy.ALL and config.iceServers == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"transport_policy": "relay"}, "relay needs TURN urls"),
        ({"transport_policy": "none", "turn_urls": (TURN,), "turn_secret": b"x"}, "all or relay"),
    ],
)
def test_a_policy_that_cannot_work_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IceSettings(**fields)  # type: ignore[arg-type]


def test_credentials_are_coturns_rest_style() -> None:
    ice = IceSettings(turn_urls=(TURN,), turn_secret=b"s3cret", turn_ttl_seconds=600)
    (server,) = ice_servers_for(ice, "kiosk-3", 1_000.9)
    assert server["username"] == "1600:kiosk-3"
    expected = hmac.new(b"s3cret", b"1600:kiosk-3", hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(expected).decode()
