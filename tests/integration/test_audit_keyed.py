"""The keyed audit chain on SQLite and PostgreSQL, checked by the real `sifa audit verify`.

The intruder here has the database and not certs/audit.key: they edit an event, recompute
every later link with plain SHA-256 over the same canonical bytes and move the head, which
fooled the chain before it was keyed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import audit_key
from app.domain.audit_chain import GENESIS, SEAL_ACTION, link_hash
from app.services import audit
from app.store.db import Database
from app.store.migrate import upgrade
from app.store.models import AuditEvent

from integration.conftest import _shared_pki
from integration.test_cli_commands import in_process

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def env_for(tmp_path: Path, database_url: str) -> dict[str, str]:
    certs = tmp_path / "certs"
    if not certs.exists():
        shutil.copytree(_shared_pki(), certs)  # no RSA key generation in the test
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIFA_")}
    env.update(
        SIFA_DATABASE_URL=database_url,
        SIFA_CERTS_DIR=str(certs),
        SIFA_RULINGS_DIR=str(tmp_path / "rulings"),
        SIFA_MATERIALS_DIR=str(tmp_path / "materials"),
        SIFA_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


async def cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    *args: str,
) -> tuple[int, str, str]:
    """`sifa ARGS` in this process (quicker than a new interpreter), off the event loop."""
    return await asyncio.to_thread(in_process, monkeypatch, capsys, env, *args)


def verify_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "audit", "verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def rewrite_without_the_key(database_url: str, seq: int, details: str) -> None:
    """Edit event `seq` and recompute every link from it on with plain SHA-256, head included."""
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            if db.dialect == "sqlite":
                await conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            else:
                await conn.execute(
                    text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
                )
        async with db.transaction() as session:
            rows = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
            prev = rows[seq - 2].hash if seq > 1 else GENESIS
            changes = []
            for row in rows[seq - 1 :]:
                body = details if row.seq == seq else row.details
                digest = link_hash(row.seq, row.at, row.actor, row.action, row.case_id, body, prev)
                changes.append({"s": row.seq, "d": body, "p": prev, "h": digest})
                prev = digest
        async with db.engine.begin() as conn:
            for change in changes:
                await conn.execute(
                    text("UPDATE audit_events SET details = :d, prev_hash = :p, hash = :h "
                         "WHERE seq = :s"),
                    change,
                )  # fmt: skip
            await conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    finally:
        await db.close()


async def test_an_edited_and_recomputed_chain_is_caught_by_sifa_audit_verify(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = env_for(tmp_path, database_url)
    code, out, err = await cli(monkeypatch, capsys, env, "init")
    assert code == 0, err
    key_file = tmp_path / "certs" / "audit.key"
    secret = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "audit chain sealed with audit key" in out and "at event 1" in out
    assert secret not in out + err
    assert (await cli(monkeypatch, capsys, env, "demo"))[0] == 0

    intact = verify_cli(env)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact" in intact.stdout and "keyed with audit key" in intact.stdout
    assert secret not in intact.stdout + intact.stderr

    await rewrite_without_the_key(database_url, 5, '{"tampered":1}')
    caught = verify_cli(env)
    assert caught.returncode == 1, caught.stdout
    assert "BROKEN at event 5" in caught.stdout and "4 events before it" in caught.stdout

    key_file.write_text(secrets.token_hex(32) + "\n")  # another installation's key
    code, out, _ = await cli(monkeypatch, capsys, env, "audit", "verify")
    assert code == 1 and "BROKEN at event 1" in out and "keyed link does not hold" in out

    key_file.unlink()
    code, out, err = await cli(monkeypatch, capsys, env, "audit", "verify")
    assert code == 2 and "intact" not in out
    assert "审计密钥不可用" in err and "audit key is unavailable" in err and "audit.key" in err


async def test_an_existing_chain_is_sealed_once_with_its_count_and_head(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A database from before keying: `sifa init` migrates it and seals its chain as it stands;
    an unkeyed event edited afterwards, recomputed, breaks the seal."""
    db = Database(database_url)
    try:
        await upgrade(db.engine, "0011")  # the schema before the audit key
        prev = GENESIS
        async with db.transaction() as session:
            for seq in range(1, 5):  # as the code before keying wrote them
                at = NOW + dt.timedelta(minutes=seq)
                details = f'{{"n":{seq}}}'
                digest = link_hash(seq, at, "clerk", "case.accept", seq, details, prev)
                row = AuditEvent(
                    seq=seq,
                    at=at,
                    actor="clerk",
                    action="case.accept",
                    case_id=seq,
                    details=details,
                    prev_hash=prev,
                    hash=digest,
                )
                session.add(row)
                prev = digest
            await session.flush()
            await session.execute(
                text("UPDATE audit_head SET seq = 4, hash = :h WHERE id = 1"), {"h": prev}
            )
    finally:
        await db.close()
    env = env_for(tmp_path, database_url)

    code, out, err = await cli(monkeypatch, capsys, env, "init")
    assert code == 0, err
    assert "audit chain sealed with audit key" in out and "at event 5" in out
    code, out, _ = await cli(monkeypatch, capsys, env, "init")
    assert code == 0 and "already sealed" in out and "at event 5" in out
    key = audit_key.load(tmp_path / "certs")
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            seal = await session.get(AuditEvent, 5)
            assert seal is not None and seal.action == SEAL_ACTION and seal.actor == "system"
            assert seal.details == (
                f'{{"key_id":"{key.key_id}","legacy_events":4,"legacy_head":"{prev}"}}'
            )
            assert await session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())) == 5
    finally:
        await db.close()
    code, out, _ = await cli(monkeypatch, capsys, env, "audit", "verify")
    assert code == 0 and "intact: 5 events" in out
    assert "events 1-4 were written before keying" in out and "seal at event 5" in out

    await rewrite_without_the_key(database_url, 2, '{"n":-2}')
    caught = verify_cli(env)
    assert caught.returncode == 1 and "BROKEN at event 5" in caught.stdout, caught.stdout


async def test_concurrent_keyed_appends_stay_one_gapless_line_sealed_once(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    key = audit_key.ensure(tmp_path / "certs")
    audit_key.attach(db.engine, key)
    try:
        await upgrade(db.engine)

        async def one(i: int) -> None:
            async with db.transaction() as session:
                await audit.append(session, actor="clerk", action="test.event", case_id=i,
                                   details={"i": i}, now=NOW + dt.timedelta(seconds=i))  # fmt: skip

        await asyncio.gather(*(one(i) for i in range(24)))
        async with db.transaction() as session:
            rows = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
            report = await audit.verify(session)
        assert [r.seq for r in rows] == list(range(1, 26))
        assert [r.action for r in rows].count(SEAL_ACTION) == 1 and rows[0].action == SEAL_ACTION
        assert report.intact and report.checked == 25 and report.sealed_at == 1
        wrong = audit_key.AuditKey(secrets.token_bytes(32))
        async with db.transaction() as session:
            assert (await audit.verify(session, wrong)).broken_at == 1
    finally:
        await db.close()


async def test_without_the_key_a_sealed_chain_takes_no_unkeyed_event(
    sqlite_url: str, tmp_path: Path
) -> None:
    keyed, bare = Database(sqlite_url), Database(sqlite_url)
    audit_key.attach(keyed.engine, audit_key.ensure(tmp_path / "certs"))
    try:
        await upgrade(keyed.engine)
        async with keyed.transaction() as session:
            await audit.append(session, actor="clerk", action="test.event", case_id=None,
                               details={}, now=NOW)  # fmt: skip
        with pytest.raises(audit_key.AuditKeyUnavailable, match="审计密钥不可用"):
            async with bare.transaction() as session:
                await audit.append(session, actor="clerk", action="test.event", case_id=None,
                                   details={}, now=NOW)  # fmt: skip
    finally:
        await keyed.close()
        await bare.close()
