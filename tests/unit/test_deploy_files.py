"""The example deployment files in deploy/ (systemd units, the environment file) agree with the
CLI and the settings they drive: no systemd runs here, so what can be checked is checked."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from app.cli import parser
from app.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONFIG = Path(__file__).resolve().parents[2] / "app" / "config.py"
README = Path(__file__).resolve().parents[2] / "README.md"


def unit(path: Path) -> dict[str, list[str]]:
    """A systemd unit's `Key=value` lines (a key may repeat), sections flattened."""
    found: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def environment(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_every_command_a_unit_runs_is_one_the_cli_accepts(path: Path) -> None:
    lines = unit(path)
    commands = [v for k, vs in lines.items() if k.startswith("Exec") for v in vs]
    assert commands, f"{path.name} runs nothing"
    for command in commands:
        program, *args = shlex.split(command.lstrip("-"))
        assert program.endswith("/.venv/bin/sifa"), command
        try:
            parser().parse_args(args)
        except SystemExit:
            pytest.fail(f"{path.name}: `sifa {' '.join(args)}` is not a command the CLI accepts")


def test_the_stop_timeout_outlasts_a_hearing_finishing_and_a_drain() -> None:
    service = unit(DEPLOY / "systemd" / "sifa@.service")
    env = environment(DEPLOY / "sifa.env.example")
    (timeout,) = service["TimeoutStopSec"]
    assert service["KillSignal"] == ["SIGTERM"]
    settings = Settings.from_env(env)
    assert int(timeout) > settings.finish_seconds + settings.drain_seconds + 30
    assert "/etc/sifa/sifa.env" in service["EnvironmentFile"]


def test_the_example_environment_is_read_without_complaint() -> None:
    env = environment(DEPLOY / "sifa.env.example")
    read_by_settings = set(re.findall(r'"(SIFA_[A-Z0-9_]+)"', CONFIG.read_text()))
    assert set(env) <= read_by_settings, set(env) - read_by_settings
    settings = Settings.from_env(env)
    assert settings.redis_url and settings.public_url == "https://sifa.court.example"
    assert settings.log_format == "json" and settings.turn_urls


def test_every_setting_is_in_the_readme() -> None:
    documented = set(re.findall(r"SIFA_[A-Z0-9_]+", README.read_text()))
    read_by_settings = set(re.findall(r'"(SIFA_[A-Z0-9_]+)"', CONFIG.read_text()))
    assert read_by_settings <= documented, sorted(read_by_settings - documented)
