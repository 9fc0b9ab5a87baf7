"""The signaling limits a court sets (SIFA_WS_*) are the ones its server enforces."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.main import create_app
from signaling.server import SERVER_KEY

from integration.conftest import Clock, make_settings


def test_the_app_builds_signaling_with_the_settings_limits(tmp_path: Path, clock: Clock) -> None:
    settings = dataclasses.replace(
        make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}"),
        ws_rate_burst=7,
        ws_rate_per_second=3,
        ws_flood_strikes=9,
        ws_replay_mb=2,
    )
    config = create_app(settings, clock=clock)[SERVER_KEY].config
    assert (config.rate_burst, config.rate_per_second, config.flood_strikes) == (7, 3.0, 9)
    assert config.replay.node_chars == 2 * 1024 * 1024
