"""Passwords per ASVS L2 chapter 2: new ones are at least 12 characters and not common or
breached; failed logins are throttled per account and address together, and per address, so
nobody can lock a known judge out from another address."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from app.main import create_app

from integration import conftest as integration_conftest
from integration.api_support import error_of

COMMON = ["12345678", "password1234", "qwerty123456", "1qaz2wsx3edc", "123456789012"]
STRONG = "violet lantern river 42"


@pytest.fixture
async def behind_proxy(
    tmp_path: Path, clock: Any, aiohttp_client: Callable[..., Any]
) -> AsyncIterator[Any]:
    """The demo app behind a trusted balancer on loopback: X-Forwarded-For names the client."""
    helpers = integration_conftest
    settings = helpers.make_settings(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}", SIFA_TRUSTED_PROXIES="127.0.0.1"
    )
    await helpers.prepare(settings, clock.now)
    yield helpers.Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)


async def test_new_passwords_are_long_and_uncommon(sifa: Any) -> None:
    admin = await sifa.as_user("admin")
    body = {"username": "judge_new", "role": "judge", "court": "粤0311", "display_name": "新法官"}
    for password in [*COMMON, "short pass", "judge_new2026"]:
        error = await error_of(
            await admin.post("/api/admin/accounts", json={**body, "password": password}),
            422,
            "validation_failed",
        )
        assert [f["field"] for f in error["fields"]] == ["password"], (password, error)
        zh, _, en = error["fields"][0]["problem"].partition(" / ")
        assert zh and en.isascii(), error
    created = await admin.post("/api/admin/accounts", json={**body, "password": STRONG})
    assert created.status == 201, await created.text()
    account_id = (await created.json())["id"]

    reset = f"/api/admin/accounts/{account_id}/password"
    for password in COMMON:
        await error_of(
            await admin.post(reset, json={"password": password}), 422, "validation_failed"
        )
    assert (await admin.post(reset, json={"password": "长城 lantern 雨伞 river"})).status == 200

    judge = await sifa.as_user("judge_new", "长城 lantern 雨伞 river")
    own = "/api/account/password"
    for password in COMMON:
        change = {"current_password": "长城 lantern 雨伞 river", "new_password": password}
        error = await error_of(await judge.post(own, json=change), 422, "validation_failed")
        assert [f["field"] for f in error["fields"]] == ["new_password"]
    # seeded demo accounts keep their password: it was never chosen through the policy
    assert (
        await (await sifa.make_client(sifa.app)).post(
            "/api/login", json={"username": "clerk", "password": "demo"}
        )
    ).status == 200


async def test_wrong_passwords_from_one_address_do_not_lock_the_judge_out_elsewhere(
    behind_proxy: Any,
) -> None:
    sifa = behind_proxy
    client = await sifa.make_client(sifa.app)

    async def login(address: str, password: str, username: str = "judge") -> int:
        response = await client.post(
            "/api/login",
            json={"username": username, "password": password},
            headers={"X-Forwarded-For": address},
        )
        return response.status

    attacker, court = "203.0.113.66", "198.51.100.20"
    for _ in range(6):
        assert await login(attacker, "guess") in (401, 429)
    assert await login(attacker, "demo") == 429  # the guesser is slowed down
    assert await login(court, "demo") == 200  # the judge, from the court, is not
    sifa.clock.now += dt.timedelta(minutes=16)
    assert await login(attacker, "demo") == 200

    # the address's own counter stays: one address guessing many names is slowed too
    sweeper = "203.0.113.99"
    statuses = [await login(sweeper, "guess", f"name{i}") for i in range(25)]
    assert statuses[:20] == [401] * 20 and 429 in statuses[20:], statuses
    assert await login(sweeper, "demo") == 429
    assert await login(court, "demo") == 200
