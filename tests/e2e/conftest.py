"""Real Chromium (Debian's build) driven by Playwright, against the app on a real port."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from app.main import create_app

from e2e.accessibility import Auditor
from integration.conftest import Clock, make_settings, prepare, seats_left_after_each_test
from realdeps import CHROMIUM, CHROMIUM_ARGS, require

__all__ = ["seats_left_after_each_test"]  # autouse here too: e2e tests seat API clients


def chromium_present() -> bool:
    return os.path.exists(CHROMIUM)


NAVIGATION_MS = 60_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    require(chromium_present(), "Debian's chromium at /usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        # axe-core audits every page the browser tests open (tests/e2e/accessibility.py).
        auditor = Auditor()
        new_context = instance.new_context

        async def audited_context(*args: Any, **kwargs: Any) -> Any:
            context = await new_context(*args, **kwargs)
            # A page load waits up to a minute, as the video waits do: a CI run on two busy
            # cores once took over 30 s (Playwright's default) to load a kiosk page, twice in a
            # row, that loads in under a second alone.
            context.set_default_navigation_timeout(NAVIGATION_MS)
            await auditor.watch(context)
            return context

        instance.new_context = audited_context
        yield instance
        await instance.close()
        assert not auditor.problems, "axe-core found:\n" + "\n".join(auditor.problems)


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[TestServer]:
    """The whole app with demo data on 127.0.0.1 (a secure context for the camera)."""
    clock = Clock()
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    await prepare(settings, clock.now)
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def screenshot_path(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
