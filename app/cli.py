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

from app import audit_key, logs
from app.config import ConfigError, Settings
from app.domain.errors import ValidationError
from app.domain.roles import Role
from app.keyring import FieldCipher, app_secret
from app.ruling.committee_keys import Committee, ensure_committee_certificate
from app.ruling.court_keys import Court, ensure_court_certificate
from app.ruling.pki import ensure_dev_pki
from app.ruling.verify import run_verify_command
from app.services import accounts, audit, demo
from app.store.db import Database
from app.store.migrate import upgrade
from app.store.models import Committee as CommitteeRow
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
    key = audit_key.ensure(settings.certs_dir)
    development = settings.signing_p12 is None and settings.signing_p12_dir is None
    if development:
        pki = ensure_dev_pki(settings.certs_dir, settings.court_name, settings.court_code)
        print(f"development signing certificate: {pki.signing_cert} (root {pki.root_cert})")
    db = Database(settings.database_url)
    try:
        await upgrade(db.engine)
        async with db.transaction() as session:
            sealed_at, new = await audit.seal(session, key, _now())
        if development:
            await _court_certificates(db, settings, committees=settings.committee_p12_dir is None)
    finally:
        await db.close()
    print(f"database ready: {_safe_url(settings.database_url)}")
    done = "sealed" if new else "already sealed"
    print(f"audit chain {done} with audit key {key.key_id} at event {sealed_at}")
    print(f"keys ready under {settings.certs_dir}")


async def _court_certificates(db: Database, settings: Settings, *, committees: bool) -> None:
    """Every other court's development certificate too, and every mediation committee's: each
    signs its own documents (one added later gets its certificate when it first signs)."""
    async with db.transaction() as session:
        courts = [Court(c.code, c.name) for c in await session.scalars(select(CourtRow))]
        rows = await session.scalars(select(CommitteeRow)) if committees else ()
        sealing = [Committee(c.id, c.name) for c in rows]
    for court in courts:
        if court.code != settings.court_code:
            paths = ensure_court_certificate(settings.certs_dir, court)
            print(f"development signing certificate of {court.name}: {paths.signing_cert}")
    for committee in sealing:
        paths = ensure_committee_certificate(settings.certs_dir, committee)
        print(f"development seal certificate of {committee.name}: {paths.signing_cert}")


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
    try:
        key = audit_key.load(settings.certs_dir)
    except audit_key.AuditKeyUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            report = await audit.verify(session, key)
    finally:
        await db.close()
    print(audit.describe(report))
    return 0 if report.intact else 1


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


def drain_on_sigterm(
    drain_seconds: int, finish_seconds: int
) -> Callable[[web.Application], Awaitable[None]]:
    """SIGTERM stops the node without losing a hearing, and a second SIGTERM stops it at once.

    Several nodes: /readyz answers 503 and no room is placed here for `drain_seconds`, so the
    balancer takes the node out; then it hands its rooms on and sends their clients to
    reconnect (through the balancer, to the other nodes).
    One node: nowhere to hand a room to, so no new room opens (clients are told to try again)
    while the hearings under way go on, for up to `finish_seconds`; it stops when the last
    room empties."""
    import signal

    from aiohttp.web_runner import GracefulExit

    from signaling.server import SERVER_KEY

    def stop() -> None:
        raise GracefulExit()

    async def install(app: web.Application) -> None:
        server = app[SERVER_KEY]
        cluster = server.cluster
        loop = asyncio.get_running_loop()

        def stop_when_finished(deadline: float) -> None:
            if not server.rooms or loop.time() >= deadline:
                stop()
            else:
                loop.call_later(0.5, stop_when_finished, deadline)

        def begin() -> None:
            if server.stopping or (cluster is not None and cluster.draining):
                stop()
            elif cluster is not None:
                say(f"draining for {drain_seconds} s, then handing rooms on")
                cluster.begin_drain()
                loop.call_later(drain_seconds, stop)
            else:
                server.stopping = True
                say(
                    f"stopping: {len(server.rooms)} hearings may go on for up to "
                    f"{finish_seconds} s; no new one starts"
                )
                stop_when_finished(loop.time() + finish_seconds)

        # Replaces aiohttp's own SIGTERM handler, installed before start-up signals run.
        loop.add_signal_handler(signal.SIGTERM, begin)

    return install


def say(line: str) -> None:
    logging.getLogger("app.cli").warning("%s", line)


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """uvloop carries signaling's relay with about a fifth less CPU than the standard loop
    (bench/signaling.py); "asyncio" is there for a platform without it."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from app.main import create_app
    from app.web.signaling_setup import ClusterUnavailable
    from app.web.tls import TlsFilesUnusable, serving_tls
    from signaling.collector import settle_collector

    try:
        ssl_context, settings = serving_tls(settings)
    except TlsFilesUnusable as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    app = create_app(settings)

    async def settle(_: web.Application) -> None:
        settle_collector()

    app.on_startup.append(settle)
    app.on_startup.append(drain_on_sigterm(settings.drain_seconds, settings.finish_seconds))
    mode = f"node {settings.node_name}, Redis" if settings.redis_url else "one node"
    print(f"Sifa serving on {settings.public_url} ({mode})", flush=True)
    try:
        web.run_app(
            app,
            loop=new_event_loop(settings.event_loop),
            host=settings.host,
            port=settings.port,
            ssl_context=ssl_context,
            print=None,
            access_log_class=logs.AccessLogger,
        )
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
    init = sub.add_parser(
        "init", help="migrate the database and create keys and development certificates"
    )
    init.add_argument(
        "--server-cert",
        metavar="NAMES",
        help="also issue a development TLS server certificate (SIFA_CERTS_DIR/tls-server.pem, "
        "key tls-server.key) for these comma-separated host names and IP addresses, e.g. "
        "hall.test,10.0.0.5; an existing one that names other hosts is never overwritten",
    )
    init.add_argument(
        "--replace-server-cert",
        action="store_true",
        help="with --server-cert: issue a new certificate even where one exists",
    )
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
        "verify",
        help="check a ruling's or voucher's PDF offline: content altered, signature broken or "
        "signer untrusted, told apart (exit 0 valid, 1 invalid)",
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
    _add_backup_commands(sub)
    return top


def _add_backup_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.backup.command import add_parsers

    add_parsers(sub)


def _backup_command(settings: Settings, args: argparse.Namespace) -> int:
    from app.backup.command import run

    return run(settings, args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format)
    # Code that opens its own Database (restore, the recording sweep) keys the chain too.
    audit_key.serve_installation(settings.certs_dir)
    try:
        if args.command == "init":
            asyncio.run(_init(settings))
            if args.server_cert:
                from app.tls_certs import run_server_cert_command

                return run_server_cert_command(
                    settings.certs_dir,
                    args.server_cert,
                    replace=args.replace_server_cert,
                    out=sys.stdout,
                    err=sys.stderr,
                )
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
        elif args.command in ("backup", "restore"):
            return _backup_command(settings, args)
    except ValidationError as error:
        for field, problem in error.problems:
            print(f"error: {field}: {problem}", file=sys.stderr)
        return 2
    finally:
        audit_key.serve_installation(None)
    return 0
