"""Backup and restore of 100 served cases with recordings: time and size.

    .venv/bin/python bench/backup.py [--cases 100] [--postgres]

Builds a fresh installation, takes each case through the real app (application, materials,
acceptance, session, decision, signed ruling and transcript, both parties served) and gives it
a small real recording (a few seconds of H.264/AAC through the recorder's writer); then runs
`sifa backup` and `sifa restore` as processes and prints their time and the backup's size.
It takes a few minutes: it is a bench, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from app.keys import SERVICES  # noqa: E402
from app.main import create_app  # noqa: E402

from integration.conftest import Clock, Sifa, make_settings, prepare  # noqa: E402
from integration.ruling_flow import decided_case, leave_room, ok, people, sign_for  # noqa: E402
from integration.test_backup_restore import add_recordings, cli_env, sifa_cli, wipe  # noqa: E402


async def build(root: Path, url: str, cases: int) -> tuple[object, float]:
    settings = make_settings(
        root, url, SIFA_RECORDINGS_DIR=str(root / "recordings"), SIFA_NODE_NAME="bench"
    )
    clock = Clock()
    await prepare(settings, clock.now)
    app = create_app(settings, clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    async def client(_app: object) -> TestClient:  # type: ignore[type-arg]
        c = TestClient(server)
        await c.start_server()
        return c

    sifa = Sifa(app, settings, clock, client)
    mediator, clerk, judge, kiosk = await people(sifa)
    started = time.monotonic()
    for n in range(cases):
        # Each booked an hour apart in one room, so no two sessions overlap.
        when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1 + n)
        # The app's clock follows the wall clock: room tokens are checked against real time.
        clock.now = dt.datetime.now(dt.UTC)
        case_id = await decided_case(
            mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk, at=when
        )
        await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
        for party in (0, 1):
            await ok(await sign_for(kiosk, case_id, party), 201)
        writer = await add_recordings(
            app[SERVICES].db, case_id, settings.recordings_dir, settings.node_name
        )
        await asyncio.wrap_future(writer.close())
        await leave_room(judge, case_id)  # the hearing is over: its seats leave
        if (n + 1) % 10 == 0:
            print(f"  {n + 1} cases served", flush=True)
    for c in (mediator, clerk, judge, kiosk):
        await c.close()
    await server.close()
    return settings, time.monotonic() - started


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


async def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--cases", type=int, default=100)
    args.add_argument("--postgres", action="store_true")
    options = args.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sifa-bench-backup-"))
    url = f"sqlite+aiosqlite:///{root / 'site' / 'sifa.db'}"
    if options.postgres:
        import asyncpg  # type: ignore[import-untyped]

        name = f"sifa_bench_{secrets.token_hex(4)}"
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    settings, served = await build(root / "site", url, options.cases)
    env = cli_env(settings)  # type: ignore[arg-type]
    t0 = time.monotonic()
    backup = sifa_cli(env, "backup", str(root / "backups"))
    backup_s = time.monotonic() - t0
    assert backup.returncode == 0, backup.stderr
    (made,) = list((root / "backups").iterdir())
    manifest = json.loads((made / "manifest.json").read_text())
    await wipe(settings, keys=False)  # type: ignore[arg-type]
    t0 = time.monotonic()
    restore = sifa_cli(env, "restore", str(made))
    restore_s = time.monotonic() - t0
    assert restore.returncode == 0, restore.stderr
    verify = sifa_cli(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout
    figures = {
        "database": manifest["dialect"],
        "cases": options.cases,
        "serving_seconds": round(served, 1),
        "backup_seconds": round(backup_s, 2),
        "restore_seconds": round(restore_s, 2),
        "backup_mb": round(size_of(made) / 1e6, 2),
        "database_dump_mb": round(manifest["entries"][0]["size"] / 1e6, 2),
        "files": len(manifest["entries"]) - 1,
        "audit": verify.stdout.strip(),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if options.postgres:
        import asyncpg

        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        await conn.close()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
