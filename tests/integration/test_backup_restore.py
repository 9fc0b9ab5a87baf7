"""Backup while serving, wipe, restore: the restored installation proves what the old one did.

Run with the real CLI (`python -m app backup|restore|audit verify`), on SQLite and PostgreSQL,
with a ruling issued and served, a transcript, a closed recording and one still being written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fractions
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import av
import pytest
from sqlalchemy import select

from app.config import Settings
from app.domain.clock import COURT_TZ
from app.keys import SERVICES
from app.main import create_app
from app.recording.writer import SegmentWriter
from app.services.demo import sample_application
from app.store.db import Database
from app.store.models import (
    Material,
    RecordingRun,
    RecordingSegment,
    Ruling,
    ServiceReceipt,
    Transcript,
)

from integration.conftest import PG_ADMIN_DSN, Clock, Sifa, make_settings, prepare
from integration.ruling_flow import decided_case, ok, people, sign_for, small_pdf
from integration.test_rulings_issue import _upload
from realdeps import require_tool

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"


def cli_env(settings: Settings, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIFA_")}
    env.update(
        SIFA_DATABASE_URL=settings.database_url,
        SIFA_CERTS_DIR=str(settings.certs_dir),
        SIFA_RULINGS_DIR=str(settings.rulings_dir),
        SIFA_MATERIALS_DIR=str(settings.materials_dir),
        SIFA_RECORDINGS_DIR=str(settings.recordings_dir),
        SIFA_NODE_NAME=settings.node_name,
        SIFA_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **more,
    )
    return env


def sifa_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def feed(writer: SegmentWriter, seconds: float, fps: int = 15) -> None:
    """Synthetic camera frames and silence, in time order, as the recorder hands them over."""
    for i in range(int(seconds * 50)):  # 20 ms audio frames
        audio = av.AudioFrame(format="s16", layout="stereo", samples=960)
        audio.planes[0].update(bytes(3840))
        audio.sample_rate, audio.pts = 48000, i * 960
        audio.time_base = fractions.Fraction(1, 48000)
        writer.push_audio(audio, i * 0.02)
        if i % (50 // fps + 1) == 0:
            frame = av.VideoFrame(160, 120, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 7) % 256]) * plane.buffer_size)
            writer.push_video(frame, i * 0.02)


async def add_recordings(db: Database, case_id: int, folder: Path, node: str) -> SegmentWriter:
    """A closed segment of a finished run, and a segment still being written in a live run
    (the writer is returned open). The rows are the recorder's (app/recording/service.py)."""
    now = dt.datetime.now(dt.UTC)
    async with db.transaction() as session:
        done = RecordingRun(
            case_id=case_id, state="stopped", started_at=now, started_by="judge", node=node
        )
        session.add(done)
        # Opening the session started the recorder's run (no media in it so far): its live run.
        live = await session.scalar(
            select(RecordingRun).where(
                RecordingRun.case_id == case_id, RecordingRun.state == "recording"
            )
        )
        if live is None:
            live = RecordingRun(
                case_id=case_id, state="recording", started_at=now, started_by="judge", node=node
            )
            session.add(live)
        await session.flush()
        runs = (done.id, live.id)
    closed_name = f"case-{case_id}/run-{runs[0]}/judge-1.mp4"
    live_name = f"case-{case_id}/run-{runs[1]}/judge-1.mp4"
    for name in (closed_name, live_name):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
    writer = SegmentWriter(folder / closed_name)
    feed(writer, 4)
    written = await asyncio.wrap_future(writer.close())
    os.chmod(written.path, 0o444)
    growing = SegmentWriter(folder / live_name)
    feed(growing, 6)
    for _ in range(200):  # the encoder thread catches up; fragments reach the disk
        path = folder / live_name
        if growing.queued == 0 and path.exists() and path.stat().st_size > 5_000:
            break
        await asyncio.sleep(0.05)
    async with db.transaction() as session:
        common = {"case_id": case_id, "participant_id": "judge", "role": "judge"}
        session.add_all(
            [
                RecordingSegment(
                    run_id=runs[0],
                    display_name="王法官",
                    number=1,
                    storage_name=closed_name,
                    state="closed",
                    started_at=now,
                    ended_at=now + dt.timedelta(seconds=written.duration_seconds),
                    duration_seconds=written.duration_seconds,
                    sha256=written.sha256,
                    size_bytes=written.size_bytes,
                    has_video=True,
                    video_frames=written.video_frames,
                    **common,
                ),
                RecordingSegment(
                    run_id=runs[1],
                    display_name="王法官",
                    number=1,
                    storage_name=live_name,
                    state="recording",
                    started_at=now,
                    **common,
                ),
            ]
        )
    return growing


async def keep_uploading(mediator: Any, stop: asyncio.Event) -> int:
    """Writes while the backup runs: a draft case gets material after material."""
    payload = sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = (await ok(await mediator.post("/api/cases", json=payload), 201))["id"]
    count = 0
    while not stop.is_set():
        form = aiohttp.FormData()
        form.add_field("category", "agreement")
        form.add_field("file", small_pdf(f"page {count}"), filename="a.pdf")
        await ok(await mediator.post(f"/api/cases/{case_id}/materials", data=form), 201)
        count += 1
    return count


async def wipe(settings: Settings, *, keys: bool) -> None:
    folders = [settings.rulings_dir, settings.materials_dir, settings.recordings_dir]
    for folder in [*folders, *([settings.certs_dir] if keys else [])]:
        shutil.rmtree(folder, ignore_errors=True)
    if settings.database_url.startswith("sqlite"):
        path = settings.database_url.split(":///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)  # noqa: ASYNC240
    else:
        name = settings.database_url.rsplit("/", 1)[1]
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()


def playable(path: Path) -> int:
    """Video frames ffprobe decodes."""
    out = subprocess.run(
        [require_tool("ffprobe"), "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


@pytest.mark.slow
async def test_backup_while_serving_wipe_and_restore(
    database_url: str, tmp_path: Path, aiohttp_client: Callable[..., Any]
) -> None:
    with_keys = database_url.startswith("sqlite")  # one backend each way: keys in, keys kept
    settings = make_settings(
        tmp_path / "site",
        database_url,
        SIFA_RECORDINGS_DIR=str(tmp_path / "site" / "recordings"),
        SIFA_NODE_NAME="node-backup",
    )
    clock = Clock()
    await prepare(settings, clock.now)
    sifa = Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, {"decision": "confirm"}, kiosk=kiosk)
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    await ok(await sign_for(kiosk, case_id, 0), 201)
    growing = await add_recordings(
        sifa.app[SERVICES].db, case_id, settings.recordings_dir, settings.node_name
    )

    env = cli_env(settings, SIFA_BACKUP_PASSPHRASE=PASSPHRASE)
    dest = tmp_path / "backups"
    stop = asyncio.Event()
    writes = asyncio.ensure_future(keep_uploading(mediator, stop))
    args = ["backup", str(dest), *(["--with-keys"] if with_keys else [])]
    backup = await asyncio.to_thread(sifa_cli, env, *args)
    stop.set()
    uploads = await writes
    growing.close()
    assert backup.returncode == 0, backup.stderr
    assert uploads > 0  # the server really was writing during the backup
    (made,) = list(dest.iterdir())  # no ".partial" left beside it
    assert made.name.startswith("sifa-backup-")
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["schema_revision"] and manifest["audit_hash"]
    assert [e["live"] for e in manifest["entries"]].count(True) == 1
    assert (manifest["keys"] is not None) is with_keys
    dump = (made / manifest["database"]).read_bytes()
    # ID numbers are in the dump only encrypted (sample_application's, in any encoding).
    numbers = _id_numbers()
    assert numbers
    for number in numbers:
        assert number.encode() not in dump and number.encode("utf-16-le") not in dump
    for client in (mediator, clerk, judge, kiosk):
        await client.close()

    await wipe(settings, keys=with_keys)
    if with_keys:
        wrong = sifa_cli(cli_env(settings, SIFA_BACKUP_PASSPHRASE="not the passphrase"),
                         "restore", str(made))  # fmt: skip
        assert wrong.returncode == 1 and "口令错误" in wrong.stderr, wrong.stderr
        assert not settings.certs_dir.exists() and not settings.rulings_dir.exists()
    restored = sifa_cli(env, "restore", str(made))
    assert restored.returncode == 0, restored.stderr
    verified = sifa_cli(env, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout
    again = sifa_cli(env, "restore", str(made))  # now the installation is not empty
    assert again.returncode == 1 and "--force" in again.stderr

    await _check_restored(settings, aiohttp_client, case_id, issued)


def _id_numbers() -> list[str]:
    payload = sample_application(dt.date.today())
    return [p["id_number"] for p in payload["applicants"] if p.get("id_number")]


async def _check_restored(
    settings: Settings, aiohttp_client: Callable[..., Any], case_id: int, issued: dict[str, Any]
) -> None:
    clock = Clock()
    sifa = Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)
    clerk = await sifa.as_user("clerk")  # starting the app runs the recording sweep
    mediator = await sifa.as_user("mediator")
    db = sifa.app[SERVICES].db
    async with db.transaction() as session:
        documents = [
            *[(r.storage_name, r.sha256) for r in await session.scalars(select(Ruling))],
            *[(t.storage_name, t.sha256) for t in await session.scalars(select(Transcript))],
            *[
                (v.voucher_storage_name, v.voucher_sha256)
                for v in await session.scalars(select(ServiceReceipt))
            ],
        ]
        materials = list(await session.scalars(select(Material)))
        segments = list(await session.scalars(select(RecordingSegment)))
    assert len(documents) == 3  # ruling, transcript, one voucher
    for name, digest in documents:
        assert hashlib.sha256((settings.rulings_dir / name).read_bytes()).hexdigest() == digest
    for material in materials:  # every uploaded file the restored database names opens
        response = await mediator.get(f"/api/cases/{material.case_id}/materials/{material.id}")
        assert response.status == 200, await response.text()
        assert hashlib.sha256(await response.read()).hexdigest() == material.sha256
    assert sorted(s.state for s in segments) == ["closed", "recovered"]
    for segment in segments:
        assert playable(settings.recordings_dir / segment.storage_name) > 10

    token = issued["verify_url"].split("/verify/", 1)[1]
    public = await sifa.make_client(sifa.app)
    page = await public.get(f"/verify/{token}", headers={"Accept-Language": "zh-CN"})
    assert page.status == 200
    pdf = await (await clerk.get(f"/api/cases/{case_id}/ruling.pdf")).read()
    verdict = await _upload(public, f"verify/{token}", pdf)
    assert "完全一致" in verdict and "电子签名有效" in verdict
    bundle = await clerk.get(f"/api/cases/{case_id}/bundle.zip")
    assert bundle.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await bundle.read()))
    assert hashlib.sha256(archive.read("ruling.pdf")).hexdigest() == issued["sha256"]
    assert sum(n.startswith("recordings/") for n in archive.namelist()) == 2


DAMAGES: dict[str, Callable[[Path, dict[str, Any]], str]] = {}


def damage(kind: str) -> Callable[..., Any]:
    def register(fn: Callable[[Path, dict[str, Any]], str]) -> Callable[..., Any]:
        DAMAGES[kind] = fn
        return fn

    return register


def _first_file(manifest: dict[str, Any]) -> str:
    return next(e["path"] for e in manifest["entries"] if e["path"].startswith("files/"))


@damage("changed")
def _changed(backup: Path, manifest: dict[str, Any]) -> str:
    path = backup / _first_file(manifest)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    return f"已改动 changed: {_first_file(manifest)}"


@damage("missing")
def _missing(backup: Path, manifest: dict[str, Any]) -> str:
    (backup / _first_file(manifest)).unlink()
    return f"缺失 missing: {_first_file(manifest)}"


@damage("extra")
def _extra(backup: Path, manifest: dict[str, Any]) -> str:
    (backup / "files" / "rulings" / "planted.pdf").write_bytes(b"%PDF-1.7 not ours")
    return "多余 extra: files/rulings/planted.pdf"


@damage("bad dump")
def _bad_dump(backup: Path, manifest: dict[str, Any]) -> str:
    path = backup / manifest["database"]
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff\xff\xff\xff")
    return f"数据库转储 database dump, 已改动 changed: {manifest['database']}"


@damage("manifest")
def _manifest(backup: Path, manifest: dict[str, Any]) -> str:
    raw = (backup / "manifest.json").read_bytes()
    (backup / "manifest.json").write_bytes(raw[: len(raw) // 2])
    return "已改动 changed"


@damage("wrong passphrase")
def _wrong_passphrase(backup: Path, manifest: dict[str, Any]) -> str:
    os.environ["SIFA_BACKUP_PASSPHRASE"] = "a different passphrase"
    return "密钥口令错误"


def test_a_damaged_backup_is_refused_naming_the_damage_and_nothing_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.backup.command import run
    from app.backup.take import take_backup
    from app.cli import parser

    source = make_settings(tmp_path / "source", f"sqlite+aiosqlite:///{tmp_path}/source/s.db")
    asyncio.run(prepare(source, dt.datetime.now(dt.UTC)))
    (source.rulings_dir / "2026").mkdir(parents=True)
    old = small_pdf("kept from before")
    (source.rulings_dir / "2026" / "old.pdf").write_bytes(old)
    taken = asyncio.run(
        take_backup(
            source, tmp_path / "backups", passphrase=PASSPHRASE, now=dt.datetime.now(dt.UTC)
        )
    )
    manifest = json.loads((taken.path / "manifest.json").read_text())
    # An empty installation with the same keys: only the damage can stop the restore.
    target = make_settings(tmp_path / "target", f"sqlite+aiosqlite:///{tmp_path}/target/t.db")
    for name, env in cli_env(target).items():
        monkeypatch.setenv(name, env)
    for kind, spoil in DAMAGES.items():
        monkeypatch.setenv("SIFA_BACKUP_PASSPHRASE", PASSPHRASE)
        copy = tmp_path / f"copy-{kind.replace(' ', '-')}"
        shutil.copytree(taken.path, copy)
        expected = spoil(copy, manifest)
        code = run(target, parser().parse_args(["restore", str(copy)]))
        err = capsys.readouterr().err
        assert code == 1, kind
        assert expected in err, (kind, err)
        assert err.index("未作任何更改") < err.index("nothing was changed"), err  # Chinese first
        assert not Path(f"{tmp_path}/target/t.db").exists(), kind
        assert not target.rulings_dir.exists() and not target.materials_dir.exists(), kind
    # The undamaged backup restores into the same place.
    monkeypatch.setenv("SIFA_BACKUP_PASSPHRASE", PASSPHRASE)
    assert run(target, parser().parse_args(["restore", str(taken.path)])) == 0
    assert (target.rulings_dir / "2026" / "old.pdf").read_bytes() == old
