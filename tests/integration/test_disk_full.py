"""A full disk, for real (a 2 MB tmpfs): issuing a ruling and uploading a material are refused
with 507 and leave nothing behind; a backup onto a full destination removes what it began."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from app.backup.command import run
from app.cli import parser
from app.keys import SERVICES
from app.main import create_app
from app.store.models import AuditEvent, Case, Material, Ruling, Transcript

from integration.conftest import Clock, Sifa, make_settings, prepare, signaling_settled
from integration.ruling_flow import decided_case, ok, people, small_pdf
from realdeps import require


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    require(mounted.returncode == 0, "mounting a tmpfs (root, mount -t tmpfs)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(disk: Path) -> Path:
    """Write until the disk refuses: nothing more fits."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        for size in (65536, 4096, 1):  # to the last byte
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


async def count(sifa: Sifa, query: Any) -> int:
    async with sifa.app[SERVICES].db.transaction() as session:
        return int(await session.scalar(query) or 0)


async def test_a_full_disk_refuses_issue_and_upload_and_leaves_nothing_half_written(
    small_disk: Path, tmp_path: Path, aiohttp_client: object
) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}",
        SIFA_RULINGS_DIR=str(small_disk / "rulings"),
        SIFA_MATERIALS_DIR=str(small_disk / "materials"),
    )
    clock = Clock()
    await prepare(settings, clock.now)
    sifa = Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk)
    draft = await ok(await mediator.post("/api/cases", json=_application()), 201)
    before = leftovers(small_disk)
    await signaling_settled(sifa.app, case_id)
    events = await count(sifa, select(func.count()).select_from(AuditEvent))
    filler = fill(small_disk)

    response = await judge.post(f"/api/cases/{case_id}/ruling", json={})
    assert response.status == 507, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "insufficient_storage"
    assert error["message"].index("存储空间已满") < error["message"].index("storage is full")
    form = aiohttp.FormData()
    form.add_field("category", "agreement")
    form.add_field("file", small_pdf("x" * 4000), filename="a.pdf")
    response = await mediator.post(f"/api/cases/{draft['id']}/materials", data=form)
    assert response.status == 507, await response.text()
    assert (await response.json())["error"]["code"] == "insufficient_storage"

    # Nothing half-written: no file (not even a temporary one), no row, no audit event.
    assert leftovers(small_disk) == sorted([*before, "filler"])
    assert await count(sifa, select(func.count()).select_from(Ruling)) == 0
    assert await count(sifa, select(func.count()).select_from(Transcript)) == 0
    assert await count(sifa, select(func.count()).where(Material.case_id == draft["id"])) == 0
    assert await count(sifa, select(func.count()).select_from(AuditEvent)) == events
    assert (await ok(await clerk.get(f"/api/cases/{case_id}")))["state"] == "confirmed"

    # Space again: the same requests succeed, so it was the disk that refused.
    filler.unlink()
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    await ok(await mediator.post(f"/api/cases/{draft['id']}/materials", data=form), 201)


async def test_a_full_disk_under_the_database_refuses_the_change_and_keeps_the_rest(
    small_disk: Path, tmp_path: Path, aiohttp_client: object
) -> None:
    """SQLite on the full disk: a case cannot be filed (507, and no case), pages that only
    read still work, and once there is room the same filing succeeds."""
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{small_disk / 'sifa.db'}")
    clock = Clock()
    await prepare(settings, clock.now)
    sifa = Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)
    mediator = await sifa.as_user("mediator")
    cases = await count(sifa, select(func.count()).select_from(Case))
    filler = fill(small_disk)

    response = await mediator.post("/api/cases", json=_application())
    assert response.status == 507, await response.text()
    assert (await response.json())["error"]["code"] == "insufficient_storage"
    assert await count(sifa, select(func.count()).select_from(Case)) == cases
    assert (await mediator.get("/api/cases")).status == 200

    filler.unlink()
    await ok(await mediator.post("/api/cases", json=_application()), 201)
    assert await count(sifa, select(func.count()).select_from(Case)) == cases + 1


def _application() -> dict[str, object]:
    from app.domain.clock import COURT_TZ
    from app.services.demo import sample_application

    return sample_application(dt.datetime.now(COURT_TZ).date())


def test_a_backup_onto_a_full_disk_fails_cleanly(
    small_disk: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'sifa.db'}")
    asyncio.run(prepare(settings, dt.datetime.now(dt.UTC)))
    # More than the 2 MB destination holds.
    settings.rulings_dir.mkdir(parents=True)
    (settings.rulings_dir / "big.pdf").write_bytes(os.urandom(3 * 1024 * 1024))
    code = run(settings, parser().parse_args(["backup", str(small_disk)]))
    err = capsys.readouterr().err
    assert code == 1
    assert "备份目标磁盘已满" in err and "destination is full" in err, err
    assert list(small_disk.iterdir()) == []  # the unfinished backup was removed
