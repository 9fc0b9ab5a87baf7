"""The `sifa` command: init, serve, demo, user add, audit verify, ruling verify, recordings."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.config import ConfigError, Settings
from app.domain.errors import ValidationError
from app.domain.roles import Role
from app.keyring import FieldCipher, app_secret
from app.ruling.court_keys import Court, ensure_court_certificate
from app.ruling.pki import ensure_dev_pki
from app.ruling.verify import run_verify_command
from app.services import accounts, audit, demo
from app.store.db import Database
from app.store.migrate import upgrade
from app.store.models import Court as CourtRow

if TYPE_CHECKING:
    from aiohttp import web


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _init(settings: Settings) -> None:
    for folder in (settings.certs_dir, settings.rulings_dir, settings.materials_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if settings.database_url.startswith("sqlite"):
        path = settings.database_url.split(":///", 1)[1]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    app_secret(settings.certs_dir, settings.secret_key)
    FieldCipher.from_certs(settings.certs_dir)
    development = settings.signing_p12 is None and settings.signing_p12_dir is None
    if development:
        pki = ensure_dev_pki(settings.certs_dir, settings.court_name, settings.court_code)
        print(f"development signing certificate: {pki.signing_cert} (root {pki.root_cert})")
    db = Database(settings.database_url)
    try:
        await upgrade(db.engine)
        if development:
            await _court_certificates(db, settings)
    finally:
        await db.close()
    print(f"database ready: {_safe_url(settings.database_url)}")
    print(f"keys ready under {settings.certs_dir}")


async def _court_certificates(db: Database, settings: Settings) -> None:
    """Every other court's development certificate too: each court signs its own documents
    (a court added later gets its certificate when it first signs)."""
    async with db.transaction() as session:
        courts = [Court(c.code, c.name) for c in await session.scalars(select(CourtRow))]
    for court in courts:
        if court.code != settings.court_code:
            paths = ensure_court_certificate(settings.certs_dir, court)
            print(f"development signing certificate of {court.name}: {paths.signing_cert}")


def _safe_url(url: str) -> str:
    """The URL without a password, for printing."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


async def _demo(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            logins = await demo.load(
                session,
                password=settings.demo_password,
                now=_now(),
                cipher=FieldCipher.from_certs(settings.certs_dir),
            )
    finally:
        await db.close()
    print(f"Demo logins (password from SIFA_DEMO_PASSWORD, default 'demo'), {settings.public_url}")
    for login in logins:
        print(f"  {login.username:<10} {login.role:<9} {login.display_name}  [{login.bound_to}]")


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Repeat: ") != first:
            raise SystemExit("passwords do not match")
        return first
    return sys.stdin.readline().rstrip("\n")


async def _user_add(settings: Settings, args: argparse.Namespace) -> None:
    password = _read_password(f"Password for {args.username}: ")
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            await accounts.add_account(
                session,
                username=args.username,
                password=password,
                role=Role(args.role),
                display_name=args.name or args.username,
                binding=accounts.Binding(
                    court=args.court, committee=args.committee, room=args.room
                ),
                now=_now(),
            )
    finally:
        await db.close()
    print(f"added {args.role} {args.username}")


async def _audit_verify(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            report = await audit.verify(session)
    finally:
        await db.close()
    if report.intact:
        print(f"audit log intact: {report.checked} events checked")
        return 0
    print(
        f"audit log BROKEN at event {report.broken_at}: {report.reason} "
        f"({report.checked} events before it are intact)"
    )
    return 1


async def _purge_recordings(settings: Settings) -> None:
    from app.recording.settings import recording_config
    from app.recording.sweep import purge_expired

    config = recording_config(
        settings.recordings_dir, settings.recordings_retention_days, settings.node_name
    )
    db = Database(settings.database_url)
    try:
        purged = await purge_expired(db, config, _now())
    finally:
        await db.close()
    print(
        f"recordings: media of {len(purged)} segments older than "
        f"{settings.recordings_retention_days} days deleted (records kept)"
    )


def drain_on_sigterm(seconds: int) -> Callable[[web.Application], Awaitable[None]]:
    """With several nodes, SIGTERM first drains: /healthz answers 503 and no room is placed
    here, for `seconds`, so the balancer takes the node out before it hands its rooms on and
    sends their clients to reconnect (through the balancer, to the other nodes). A second
    SIGTERM stops at once."""
    import signal

    from aiohttp.web_runner import GracefulExit

    from signaling.server import SERVER_KEY

    def stop() -> None:
        raise GracefulExit()

    async def install(app: web.Application) -> None:
        cluster = app[SERVER_KEY].cluster
        if cluster is None:
            return
        loop = asyncio.get_running_loop()

        def begin() -> None:
            if cluster.draining:
                stop()
            print(f"draining for {seconds} s, then handing rooms on", file=sys.stderr, flush=True)
            cluster.begin_drain()
            loop.call_later(seconds, stop)

        # Replaces aiohttp's own SIGTERM handler, installed before start-up signals run.
        loop.add_signal_handler(signal.SIGTERM, begin)

    return install


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from app.main import create_app
    from app.web.signaling_setup import ClusterUnavailable
    from signaling.collector import settle_collector

    app = create_app(settings)

    async def settle(_: web.Application) -> None:
        settle_collector()

    app.on_startup.append(settle)
    app.on_startup.append(drain_on_sigterm(settings.drain_seconds))
    mode = f"node {settings.node_name}, Redis" if settings.redis_url else "one node"
    print(f"Sifa serving on {settings.public_url} ({mode})", flush=True)
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except ClusterUnavailable as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="sifa",
        description="Sifa: online judicial confirmation of people's mediation agreements. "
        "Settings come from SIFA_* environment variables (see README).",
    )
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="migrate the database and create keys and development certificates")
    sub.add_parser("serve", help="serve pages, API and signaling on SIFA_HOST:SIFA_PORT")
    sub.add_parser("demo", help="load the demo court, rooms and accounts (idempotent)")
    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser(
        "add",
        help="add an account; the password is prompted for, or read from standard input "
        "when it is not a terminal",
    )
    add.add_argument("username")
    add.add_argument(
        "--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM]
    )
    add.add_argument("--name", help="display name, e.g. 王明")
    add.add_argument("--court", help="court code for judges and clerks, e.g. 粤0311")
    add.add_argument("--committee", help="committee name for mediators")
    add.add_argument("--room", help="room name for kiosks")
    audit_cmd = sub.add_parser("audit", help="the audit log")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain; report the first broken link")
    recordings = sub.add_parser("recordings", help="hearing recordings")
    recordings_sub = recordings.add_subparsers(dest="recordings_command", required=True)
    recordings_sub.add_parser(
        "purge", help="delete media older than SIFA_RECORDINGS_RETENTION_DAYS (records are kept)"
    )
    ruling = sub.add_parser("ruling", help="signed rulings")
    ruling_sub = ruling.add_subparsers(dest="ruling_command", required=True)
    check = ruling_sub.add_parser(
        "verify", help="check a ruling PDF's signature offline (exit 0 valid, 1 invalid)"
    )
    check.add_argument("file", type=Path)
    check.add_argument(
        "--root",
        type=Path,
        action="append",
        default=[],
        help="trusted root certificate (PEM); default: the development root in SIFA_CERTS_DIR",
    )
    check.add_argument("--sha256", help="the issued file's SHA-256, to check byte identity")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        if args.command == "init":
            asyncio.run(_init(settings))
        elif args.command == "serve":
            return _serve(settings)
        elif args.command == "demo":
            asyncio.run(_demo(settings))
        elif args.command == "user":
            asyncio.run(_user_add(settings, args))
        elif args.command == "audit":
            return asyncio.run(_audit_verify(settings))
        elif args.command == "recordings":
            asyncio.run(_purge_recordings(settings))
        elif args.command == "ruling":
            roots = args.root or [settings.certs_dir / "dev-root-ca.pem"]
            return run_verify_command(args.file, roots, sys.stdout, expected_sha256=args.sha256)
    except ValidationError as error:
        for field, problem in error.problems:
            print(f"error: {field}: {problem}", file=sys.stderr)
        return 2
    return 0
