"""An application on a real, migrated database (SQLite file or a fresh PostgreSQL database)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.config import Settings
from app.keyring import FieldCipher
from app.main import create_app
from app.ruling.pki import ensure_dev_pki
from app.services import demo
from app.store.db import Database
from app.store.migrate import upgrade
from signaling.server import SERVER_KEY

from integration.demo_template import prepared, sqlite_file
from realdeps import require

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _postgres_available() -> bool:
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()
        return True
    except Exception:
        return False


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async for url in fresh_postgres():
        yield url


async def fresh_postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    import asyncpg

    require(await _postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    name = f"sifa_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@functools.cache
def _shared_pki() -> Path:
    """One development PKI per test process: RSA key generation costs about a second."""
    folder = Path(tempfile.mkdtemp(prefix="sifa-test-pki-"))
    ensure_dev_pki(folder, "深圳市光明区人民法院", "粤0311")
    return folder


def make_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    certs = tmp / "certs"
    if not certs.exists():
        shutil.copytree(_shared_pki(), certs)
    env = {
        "SIFA_DATABASE_URL": database_url,
        "SIFA_CERTS_DIR": str(tmp / "certs"),
        "SIFA_RULINGS_DIR": str(tmp / "rulings"),
        "SIFA_MATERIALS_DIR": str(tmp / "materials"),
        **overrides,
    }
    return Settings.from_env(env, base=tmp)


@dataclass
class Clock:
    """The app's clock, movable by tests (the application window, schedules)."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now


async def prepare(settings: Settings, now: dt.datetime) -> None:
    """The migrated database with the demo data (see demo_template for why it is copied)."""
    database = sqlite_file(settings.database_url)
    real = functools.partial(prepare_for_real, settings, now)
    if database is None:
        await real()
    else:
        await prepared(database, settings.certs_dir, now, real)


async def prepare_for_real(settings: Settings, now: dt.datetime) -> None:
    db = Database(settings.database_url)
    await upgrade(db.engine)
    async with db.transaction() as session:
        await demo.load(
            session, password="demo", now=now, cipher=FieldCipher.from_certs(settings.certs_dir)
        )
    await db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Both backends: storage tests take this fixture to run on each."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}"
    else:
        async for url in fresh_postgres():
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Sifa:
    """A running app with the demo data, and helpers to act as each demo account."""

    app: web.Application
    settings: Settings
    clock: Clock
    make_client: Callable[..., Any]
    clients: dict[str, TestClient] = field(default_factory=dict)

    async def as_user(self, username: str, password: str = "demo") -> TestClient:
        """A client logged in with a bearer token (no cookie jar, so no CSRF needed)."""
        client: TestClient = await self.make_client(self.app)
        response = await client.post(
            "/api/login", json={"username": username, "password": password}
        )
        assert response.status == 200, await response.text()
        token = (await response.json())["token"]
        client.session.cookie_jar.clear()
        client.session.headers["Authorization"] = f"Bearer {token}"
        return client


@pytest.fixture
async def sifa(
    tmp_path: Path, sqlite_url: str, clock: Clock, aiohttp_client: Callable[..., Any]
) -> AsyncIterator[Sifa]:
    settings = make_settings(tmp_path, sqlite_url)
    await prepare(settings, clock.now)
    app = create_app(settings, clock=clock)
    yield Sifa(app, settings, clock, aiohttp_client)
    # Before aiohttp_client closes the clients and the server: seats leave while both are up.
    from integration.ruling_flow import leave_all_rooms

    await leave_all_rooms()


async def signaling_settled(app: web.Application, case_id: int) -> None:
    """The case's recorder (started with the session) has its seat, and signaling's audit
    queue is written: what the room records reaches the log in the background, so a test
    comparing the log before and after something must let it land first."""
    server = app[SERVER_KEY]
    for _ in range(200):
        live = server.rooms.get(case_id)
        if live is not None and any(s.role == "recorder" for s in live.room.seats.values()):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the recorder of case {case_id} never took its seat")
    await server.audit_flushed()


@pytest.fixture(autouse=True)
async def seats_left_after_each_test() -> AsyncIterator[None]:
    """Seats that ruling_flow keeps in video rooms leave when the test ends."""
    yield
    from integration.ruling_flow import leave_all_rooms

    await leave_all_rooms()


@asynccontextmanager
async def on_a_real_port(tmp_path: Path, clock: Clock) -> AsyncIterator[Sifa]:
    """The app with the demo data on a real port, so WebSocket and HTTP clients (and aiortc
    peers) reach the same server; its clients are made on that server."""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    await prepare(settings, clock.now)
    app = create_app(settings, clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    async def client(_app: Any) -> TestClient[Any, Any]:
        test_client: TestClient[Any, Any] = TestClient(server)
        await test_client.start_server()
        return test_client

    try:
        yield Sifa(app, settings, clock, client)
    finally:
        await server.close()
