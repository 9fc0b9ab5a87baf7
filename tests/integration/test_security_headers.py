"""Security headers on every response (404s, errors and redirects included), a CSP that lets
scripts connect to our own origin only, and Origin: null refused like any foreign origin."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from integration.api_support import error_of

HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options")


def assert_secured(response: aiohttp.ClientResponse, client: TestClient) -> None:
    where = f"{response.method} {response.url} {response.status}"
    for name in (*HEADERS, "Referrer-Policy"):
        assert name in response.headers, (where, name)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["object-src"] == "'none'", where
    assert directives["connect-src"] == f"'self' ws://{client.host}:{client.port}", where


async def test_every_response_carries_the_security_headers(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    answers = [
        await client.get("/", allow_redirects=False),  # the anonymous 303 to the login
        await client.get("/no-such-page"),
        await client.get("/api/no-such-thing"),
        await client.get("/static/no-such-file.js"),
        await client.post("/api/me"),  # 405
        await client.get("/api/cases"),  # 401
        await client.get("/cases/1", allow_redirects=False),
        await client.post("/api/login", data=b"x", headers={"Content-Type": "text/plain"}),
        await client.post(
            "/api/login", data=b"[" * 100, headers={"Content-Type": "application/json"}
        ),
        await client.get("/login"),
        await client.get("/healthz"),
    ]
    statuses = {response.status for response in answers}
    assert {303, 404, 405, 401, 415, 400, 200} <= statuses, statuses
    for response in answers:
        assert_secured(response, client)
    judge = await sifa.as_user("judge")
    assert_secured(await judge.get("/api/cases/99999999999999999999"), judge)


async def test_server_errors_carry_the_security_headers_too(sifa: Any) -> None:
    """A handler that fails unexpectedly (a route added for the test) still answers with the
    headers, on a page and on the API."""

    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("an unexpected failure")

    sifa.app.router.add_get("/boom", boom)
    sifa.app.router.add_get("/api/boom", boom)
    client = await sifa.make_client(sifa.app)
    page = await client.get("/boom")
    assert page.status == 500
    assert_secured(page, client)
    api = await client.get("/api/boom")
    error = await error_of(api, 500, "internal_error")
    assert " / " in error["message"]
    assert_secured(api, client)


async def test_origin_null_is_refused_on_changes_and_on_the_websocket(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    null = {"Origin": "null"}
    login = await client.post(
        "/api/login", json={"username": "judge", "password": "demo"}, headers=null
    )
    await error_of(login, 403, "forbidden")
    judge = await sifa.as_user("judge")
    await error_of(await judge.post("/api/logout", headers=null), 403, "forbidden")
    assert (await judge.get("/api/me", headers=null)).status == 200  # reads are not changes
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers=null)
    assert refused.value.status == 403
    own = f"http://{client.host}:{client.port}"
    socket = await client.ws_connect("/ws", headers={"Origin": own})
    await socket.close()
