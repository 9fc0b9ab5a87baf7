"""Requests over real HTTP on a small app: sessions, cookies, CSRF, Origin, login throttling,
request bodies, health and the API document.

These need only a court, a committee and three accounts, so they use a lighter app than the
full demo data (three password hashes instead of twelve).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app.domain.clock import court_date
from app.domain.roles import Role
from app.keyring import FieldCipher
from app.keys import SERVICES
from app.main import create_app
from app.services import accounts, cases
from app.services.demo import sample_application, with_check_digit
from app.store.db import Database
from app.store.migrate import upgrade
from app.store.models import AuditEvent, Committee, Court, Hall, Room

from integration import conftest as integration_conftest
from integration.api_support import ID_SHAPED, error_of, make_pdf


@pytest.fixture
async def sifa(tmp_path: Path, clock: Any, aiohttp_client: Callable[..., Any]) -> Any:
    """Like the `sifa` fixture of conftest.py, with one court, committee and room, the accounts
    mediator, clerk and judge (password "demo"), and one draft case."""
    helpers = integration_conftest
    settings = helpers.make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    db = Database(settings.database_url)
    await upgrade(db.engine)
    async with db.transaction() as session:
        court = Court(name="深圳市光明区人民法院", code="粤0311")
        session.add(court)
        await session.flush()
        committee = Committee(name="光明街道人民调解委员会", court_id=court.id)
        session.add(committee)
        await session.flush()
        hall = Hall(name="光明社区", committee_id=committee.id)
        session.add(hall)
        await session.flush()
        session.add(Room(name="光明社区在线司法确认室", hall_id=hall.id))
        made = {}
        for username, role in (
            ("mediator", Role.MEDIATOR),
            ("clerk", Role.CLERK),
            ("judge", Role.JUDGE),
        ):
            made[username] = await accounts.add_account(
                session,
                username=username,
                password="demo",
                role=role,
                display_name=username,
                binding=accounts.Binding(court="粤0311", committee="光明街道人民调解委员会"),
                now=clock.now,
                check_strength=False,
            )
        await cases.create_case(
            session,
            accounts.actor_of(made["mediator"]),
            sample_application(court_date(clock.now)),
            cipher=FieldCipher.from_certs(settings.certs_dir),
            now=clock.now,
        )
    await db.close()
    app = create_app(settings, clock=clock)
    return helpers.Sifa(app, settings, clock, aiohttp_client)


async def upload(client: TestClient, case_id: int, data: bytes) -> aiohttp.ClientResponse:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("category", "agreement")
    form.add_field("file", data, filename="调解协议.pdf", content_type="application/pdf")
    return await client.post(f"/api/cases/{case_id}/materials", data=form)


async def new_case(mediator: TestClient, today: dt.date) -> dict[str, Any]:
    response = await mediator.post("/api/cases", json=sample_application(today))
    assert response.status == 201, await response.text()
    return await response.json()


async def test_cookie_sessions_need_the_csrf_token_and_our_origin(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    login = await client.post("/api/login", json={"username": "mediator", "password": "demo"})
    assert login.status == 200
    body = await login.json()
    cookies = [c for c in login.headers.getall("Set-Cookie") if c.startswith("sifa_session=")]
    assert len(cookies) == 1
    attributes = {
        part.strip().split("=")[0].lower(): part.strip() for part in cookies[0].split(";")
    }
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/"
    assert body["token"] in cookies[0] and body["user"]["role"] == "mediator"

    me = await client.get("/api/me")  # the cookie alone identifies the caller on reads
    assert me.status == 200 and (await me.json())["username"] == "mediator"
    application = sample_application(court_date(sifa.clock.now))
    before = len((await (await client.get("/api/cases")).json())["cases"])

    error = await error_of(await client.post("/api/cases", json=application), 403, "forbidden")
    assert "CSRF" in error["message"]
    await error_of(
        await client.post("/api/cases", json=application, headers={"X-CSRF-Token": "guess"}),
        403,
        "forbidden",
    )
    own_origin = f"http://{client.host}:{client.port}"
    foreign = await client.post(
        "/api/cases",
        json=application,
        headers={"X-CSRF-Token": body["csrf_token"], "Origin": "https://evil.example"},
    )
    await error_of(foreign, 403, "forbidden")
    assert len((await (await client.get("/api/cases")).json())["cases"]) == before

    created = await client.post(
        "/api/cases",
        json=application,
        headers={"X-CSRF-Token": body["csrf_token"], "Origin": own_origin},
    )
    assert created.status == 201
    assert len((await (await client.get("/api/cases")).json())["cases"]) == before + 1

    # a bearer token needs no CSRF token, but a foreign Origin is refused all the same
    bearer = {"Authorization": f"Bearer {body['token']}"}
    other = await sifa.make_client(sifa.app)
    assert (await other.post("/api/cases", json=application, headers=bearer)).status == 201
    await error_of(
        await other.post(
            "/api/cases",
            json=application,
            headers={**bearer, "Origin": "http://127.0.0.1.evil.example"},
        ),
        403,
        "forbidden",
    )


async def test_a_cookie_session_may_send_the_csrf_token_as_a_form_field(sifa: Any) -> None:
    """Browsers posting a multipart form cannot set headers; the token rides in the form."""
    client = await sifa.make_client(sifa.app)
    login = await (
        await client.post("/api/login", json={"username": "mediator", "password": "demo"})
    ).json()
    case_id = (await (await client.get("/api/cases")).json())["cases"][0]["id"]
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("csrf_token", login["csrf_token"])
    form.add_field("category", "agreement")
    form.add_field(
        "file", b"%PDF-1.4\n%%EOF\n", filename="协议.pdf", content_type="application/pdf"
    )
    response = await client.post(f"/api/cases/{case_id}/materials", data=form)
    assert response.status == 201, await response.text()
    detail = await (await client.get(f"/api/cases/{case_id}")).json()
    assert [m["filename"] for m in detail["materials"]] == ["协议.pdf"]


async def test_logging_in_again_while_a_cookie_session_is_live(sifa: Any) -> None:
    """A browser that still holds a session cookie can log in (e.g. as another user)."""
    client = await sifa.make_client(sifa.app)
    first = await client.post("/api/login", json={"username": "mediator", "password": "demo"})
    assert first.status == 200
    second = await client.post("/api/login", json={"username": "clerk", "password": "demo"})
    assert second.status == 200, await second.text()
    assert (await (await client.get("/api/me")).json())["username"] == "clerk"


async def test_failed_logins_are_slowed_down_and_logout_ends_the_session(sifa: Any) -> None:
    # sessions end by themselves after SIFA_SESSION_HOURS
    clerk = await sifa.as_user("clerk")
    assert (await clerk.get("/api/me")).status == 200
    sifa.clock.now += dt.timedelta(hours=sifa.settings.session_hours)
    await error_of(await clerk.get("/api/me"), 401, "unauthenticated")

    client = await sifa.make_client(sifa.app)

    async def login(password: str) -> aiohttp.ClientResponse:
        return await client.post("/api/login", json={"username": "judge", "password": password})

    for _ in range(4):
        await error_of(await login("wrong"), 401, "unauthenticated")
    started = sifa.clock.now
    locked = await login("demo")  # the right password, but too soon
    await error_of(locked, 429, "too_many_attempts")
    retry_after = int(locked.headers["Retry-After"])
    assert 2 <= retry_after <= 3  # the fourth failure in a row locks for 2 s
    sifa.clock.now = started + dt.timedelta(seconds=1)
    still = await login("demo")
    await error_of(still, 429, "too_many_attempts")
    assert 1 <= int(still.headers["Retry-After"]) < retry_after
    sifa.clock.now = started + dt.timedelta(seconds=retry_after)
    allowed = await login("demo")
    assert allowed.status == 200
    token = (await allowed.json())["token"]

    async with sifa.app[SERVICES].db.transaction() as session:
        failures = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        )
    assert len(failures) == 4 and {e.actor for e in failures} == {"judge"}

    fresh = await sifa.make_client(sifa.app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await fresh.get("/api/me", headers=bearer)).status == 200
    assert (await fresh.post("/api/logout", headers=bearer)).status == 200
    await error_of(await fresh.get("/api/me", headers=bearer), 401, "unauthenticated")
    await error_of(await fresh.get("/api/cases", headers=bearer), 401, "unauthenticated")
    await error_of(await fresh.post("/api/logout", headers=bearer), 401, "unauthenticated")
    # an unknown user is refused the same way as a wrong password
    other = await client.post("/api/login", json={"username": "nobody", "password": "demo"})
    await error_of(other, 401, "unauthenticated")
    await error_of(
        await client.post("/api/login", json={"username": "judge"}), 422, "validation_failed"
    )


async def test_health_and_the_api_document(sifa: Any) -> None:
    client = await sifa.make_client(sifa.app)
    health = await client.get("/healthz")
    assert health.status == 200
    # One node: no Redis, and the node's name (the host's, by default).
    assert await health.json() == {
        "status": "ok",
        "node": sifa.settings.node_name,
        "redis": "off",
        "rooms": 0,
    }
    # HTTP-level refusals on the API keep the JSON error shape
    await error_of(await client.get("/api/no-such-thing"), 404, "not_found")
    await error_of(await client.post("/api/me"), 405, "method_not_allowed")

    document = await (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    registered = {
        (route.resource.canonical, route.method.lower())
        for route in sifa.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    assert len(registered) >= 15
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert registered - documented == set(), "routes missing from /api/openapi.json"
    assert documented - registered == set(), "documented routes that do not exist"
    for path, method in documented:
        operation = document["paths"][path][method]
        assert operation["summary"] and "4XX" in operation["responses"], (path, method)
    # responses carry the security headers
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors" in health.headers["Content-Security-Policy"]


async def test_an_upload_whose_digest_looks_like_an_id_number_is_stored(sifa: Any) -> None:
    """The audit log refuses ID-shaped text; a SHA-256 hex digest can contain 18 digits in a row.

    About one file in 700 has such a digest; it must upload like any other.
    """
    mediator = await sifa.as_user("mediator")
    case_id = (await (await mediator.get("/api/cases")).json())["cases"][0]["id"]
    base = make_pdf()
    data = next(
        candidate
        for i in itertools.count()
        if ID_SHAPED.search(hashlib.sha256(candidate := base + f"%{i}\n".encode()).hexdigest())
    )
    response = await upload(mediator, case_id, data)
    assert response.status == 201, await response.text()
    assert (await response.json())["sha256"] == hashlib.sha256(data).hexdigest()


async def test_application_bodies_are_checked(sifa: Any) -> None:
    mediator = await sifa.as_user("mediator")
    headers = {"Content-Type": "application/json"}
    before = len((await (await mediator.get("/api/cases")).json())["cases"])

    await error_of(
        await mediator.post("/api/cases", data=b'{"terms": [', headers=headers), 400, "bad_json"
    )
    await error_of(
        await mediator.post("/api/cases", data=b"\xff\xfe{}", headers=headers), 400, "bad_json"
    )
    await error_of(await mediator.post("/api/cases", json=[1, 2]), 400, "bad_json")
    await error_of(await mediator.post("/api/cases", json="draft"), 400, "bad_json")
    big = {"dispute_type": "纠纷", "terms": ["款" * (90 * 1024)]}  # about 270 KiB in UTF-8
    await error_of(await mediator.post("/api/cases", json=big), 413, "too_large")

    error = await error_of(
        await mediator.post("/api/cases", json={"applicants": []}), 422, "validation_failed"
    )
    assert {"dispute_type", "agreement_date", "terms", "applicants"} <= {
        f["field"] for f in error["fields"]
    }
    after = len((await (await mediator.get("/api/cases")).json())["cases"])
    assert after == before

    # CPL 205: 30 days from the agreement
    today = court_date(sifa.clock.now)
    data = sample_application(today)
    data["agreement_date"] = (today - dt.timedelta(days=31)).isoformat()
    error = await error_of(
        await mediator.post("/api/cases", json=data), 422, "application_window_closed"
    )
    assert (today - dt.timedelta(days=1)).isoformat() in error["message"]
    data["agreement_date"] = (today - dt.timedelta(days=30)).isoformat()
    assert (await mediator.post("/api/cases", json=data)).status == 201

    # a draft that waits too long can no longer be submitted
    case = await new_case(mediator, today)
    assert (await upload(mediator, case["id"], make_pdf())).status == 201
    sifa.clock.now += dt.timedelta(days=28)
    mediator = await sifa.as_user("mediator")  # the old session has expired meanwhile
    error = await error_of(
        await mediator.post(f"/api/cases/{case['id']}/submit"), 422, "application_window_closed"
    )
    assert case["agreement_date"] in error["message"]
    assert with_check_digit("44031119800512001") not in error["message"]


async def test_a_json_body_arriving_in_pieces_is_read_whole(sifa: Any) -> None:
    """A body with a Content-Length may reach the server in several TCP reads; all must be read.

    Sent by hand over a socket: the headers and the first half, a pause, then the rest.
    """
    mediator = await sifa.as_user("mediator")
    body = json.dumps(sample_application(court_date(sifa.clock.now)), ensure_ascii=False).encode()
    head = (
        f"POST /api/cases HTTP/1.1\r\nHost: {mediator.host}:{mediator.port}\r\n"
        f"Authorization: {mediator.session.headers['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(mediator.host, mediator.port)
    try:
        writer.write(head + body[: len(body) // 2])
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.write(body[len(body) // 2 :])
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    status_line = answer.split(b"\r\n", 1)[0].decode()
    assert status_line == "HTTP/1.1 201 Created", answer.decode(errors="replace")

    # the same for a body too large: refused as too large, not as broken JSON
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is found reading
        for _ in range(40):
            yield b" " * 8192
            await asyncio.sleep(0.005)

    too_big = await mediator.post(
        "/api/cases", data=chunks(), headers={"Content-Type": "application/json"}
    )
    await error_of(too_big, 413, "too_large")
