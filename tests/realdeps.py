"""Real dependencies: skip with a visible reason where one is absent, fail under CI."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not available")
    pytest.skip(f"{what} is not available here")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"the command-line tool {name!r}")
    assert path is not None
    return path


CHROMIUM = "/usr/bin/chromium"
# Flags measured to work as root in headless Debian chromium (see shared/stack-notes.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
