"""The session's transcript (笔录) archived with the ruling: one signed, read-only file and one
append-only record, served byte for byte, carried in the case bundle; checked by pyHanko and by
poppler, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.domain.clock import COURT_TZ
from app.keys import SERVICES
from app.main import create_app
from app.ruling.errors import GlyphError
from app.ruling.pki import build_nss_db
from app.services import accounts, presence, sessions
from app.services.demo import sample_application
from app.store.db import Database
from app.store.migrate import alembic_config, upgrade
from app.store.models import Account, AuditEvent, Ruling, Transcript
from signaling.server import SERVER_KEY

from integration.conftest import Clock, Sifa, make_settings, prepare
from integration.ruling_flow import (
    add_other_court_clerk,
    decided_case,
    ok,
    people,
    record_session,
    review_transcript,
    scheduled_case,
)
from realdeps import require_tool

CONFIRM = {"decision": "confirm"}
KIND = "X-Sifa-Transcript"
SHA = "X-Sifa-Transcript-SHA256"


@pytest.fixture
async def sifa_on(
    database_url: str, tmp_path: Path, clock: Clock, aiohttp_client: Callable[..., Any]
) -> Sifa:
    """The app with the demo data on each backend (the `sifa` fixture is SQLite only)."""
    settings = make_settings(tmp_path, database_url)
    await prepare(settings, clock.now)
    return Sifa(create_app(settings, clock=clock), settings, clock, aiohttp_client)


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool(args[0]), *args[1:]], capture_output=True, text=True, timeout=60
    )


def flat_text(pdf: Path) -> str:
    """pdftotext's output without whitespace: it breaks lines where the PDF does."""
    return "".join(tool("pdftotext", "-enc", "UTF-8", "-layout", str(pdf), "-").stdout.split())


async def stored(sifa: Sifa, case_id: int) -> tuple[Ruling, Transcript | None, int]:
    """The case's ruling, its transcript, and how many transcript rows the case has."""
    async with sifa.app[SERVICES].db.transaction() as session:
        ruling = await session.scalar(select(Ruling).where(Ruling.case_id == case_id))
        transcript = await session.scalar(select(Transcript).where(Transcript.case_id == case_id))
        count = await session.scalar(
            select(func.count()).select_from(Transcript).where(Transcript.case_id == case_id)
        )
    assert ruling is not None
    return ruling, transcript, int(count or 0)


async def test_the_transcript_is_archived_signed_and_served_byte_for_byte(
    sifa: Sifa, tmp_path: Path
) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    application = sample_application(dt.datetime.now(COURT_TZ).date())
    case_id = await decided_case(
        mediator, clerk, judge, CONFIRM, kiosk=kiosk, application=application
    )
    url = f"/api/cases/{case_id}/transcript.pdf"

    # Before the ruling: a signed draft, marked as one, rendered anew at each request.
    draft = await clerk.get(url)
    assert draft.status == 200 and draft.headers[KIND] == "draft"
    body = await draft.read()
    assert draft.headers[SHA] == hashlib.sha256(body).hexdigest()
    assert "draft" in draft.headers["Content-Disposition"]

    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    ruling, transcript, _ = await stored(sifa, case_id)
    assert transcript is not None and transcript.ruling_id == ruling.id
    assert issued["transcript"]["sha256"] == transcript.sha256
    assert transcript.signer_cert_sha256 == ruling.signer_cert_sha256
    assert transcript.session_no == 1 and transcript.created_at == ruling.issued_at

    # A read-only file next to the ruling, whose bytes are the recorded ones.
    folder = sifa.settings.rulings_dir
    path = folder / transcript.storage_name
    assert path.parent == (folder / ruling.storage_name).parent
    assert not stat.S_IMODE(os.stat(path).st_mode) & 0o222
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == transcript.sha256 and len(data) == transcript.size

    # Served as archived, the same bytes to the clerk, to the judge and to asking again.
    for client in (clerk, judge, clerk):
        response = await client.get(url)
        assert response.status == 200 and response.content_type == "application/pdf"
        assert response.headers[KIND] == "archived"
        assert response.headers[SHA] == transcript.sha256
        assert await response.read() == data

    # Issuing again: the same ruling, the same transcript, no second row or file.
    again = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 200)
    assert again["sha256"] == issued["sha256"] and again["transcript"] == issued["transcript"]
    assert (await stored(sifa, case_id))[2] == 1
    assert len(list(folder.rglob("*.pdf"))) == 2

    # pyHanko: signed by the court, intact, covering the whole file, matching the record.
    result = await sifa.app[SERVICES].desk.verify(data, transcript.sha256)
    assert result.ok and result.matches_expected, result.problems

    # poppler, independently: pdfsig trusting the development root; qpdf; the text.
    copy = tmp_path / "transcript.pdf"
    copy.write_bytes(data)
    nss = build_nss_db(tmp_path / "nss", sifa.settings.certs_dir / "dev-root-ca.pem")
    sig = tool("pdfsig", "-nssdir", nss, str(copy)).stdout
    assert "Signature is Valid." in sig and "Certificate is Trusted." in sig, sig
    assert "Total document signed" in sig
    assert tool("qpdf", "--check", str(copy)).returncode == 0
    flat = flat_text(copy)
    case = await ok(await clerk.get(f"/api/cases/{case_id}"))
    names = [a["name"] for a in application["applicants"]]  # type: ignore[union-attr]
    for needle in (
        "笔录",
        case["case_number"],
        *names,
        *(f"申请人{n}：以“当庭出示身份证件比对”方式核验身份，结果：通过" for n in names),
        *(f"申请人{n}答：是。" for n in names),
        "六、裁定",
        "裁定该调解协议有效",
    ):
        assert needle in flat, needle
    id_numbers = [a["id_number"] for a in application["applicants"]]  # type: ignore[union-attr]
    assert not [n for n in id_numbers if n in flat or n[:10] in flat]

    # The audit trail names the archived transcript by hash, and never an ID number.
    async with sifa.app[SERVICES].db.transaction() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
            )
        )
    issue = next(json.loads(e.details) for e in events if e.action == "case.issue_ruling")
    assert issue["transcript_sha256"] == transcript.sha256
    assert issue["transcript_file"] == transcript.storage_name
    served = [json.loads(e.details) for e in events if e.action == "session.transcript"]
    assert [s["archived"] for s in served] == [False, True, True, True]
    assert all(s["sha256"] == transcript.sha256 for s in served[1:])
    assert not [e for e in events for n in id_numbers if n in e.details]


async def test_the_bundle_and_the_pages_carry_the_transcript(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    _, transcript, _ = await stored(sifa, case_id)
    assert transcript is not None

    response = await clerk.get(f"/api/cases/{case_id}/bundle.zip")
    assert response.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    data = archive.read("transcript.pdf")
    assert hashlib.sha256(data).hexdigest() == transcript.sha256
    sums = dict(
        reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert sums["transcript.pdf"] == transcript.sha256
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["transcript_sha256"] == transcript.sha256
    assert {"name": "transcript.pdf", "sha256": transcript.sha256} in manifest["files"]

    # Found where rulings are: the case page and the list of rulings, in both languages.
    link = f'href="/api/cases/{case_id}/transcript.pdf"'
    for lang, label in (("zh-CN", "笔录"), ("en", "Transcript")):
        headers = {"Accept-Language": lang}
        for page in (f"/cases/{case_id}", "/rulings"):
            html = await (await clerk.get(page, headers=headers)).text()
            assert link in html and f">{label}</a>" in html, (page, lang)
    listed = await ok(await clerk.get("/api/rulings"))
    assert listed["rulings"][0]["transcript"]["sha256"] == transcript.sha256
    # The mediator sees the ruling but is not offered the transcript.
    assert link not in await (await mediator.get(f"/cases/{case_id}")).text()


async def test_who_may_fetch_the_transcript(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    other_clerk = await add_other_court_clerk(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    url = f"/api/cases/{case_id}/transcript.pdf"
    for client, status in ((kiosk, 403), (mediator, 403), (other_clerk, 404)):
        assert (await client.get(url)).status == status
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    for client, status in ((kiosk, 403), (mediator, 403), (other_clerk, 404)):
        response = await client.get(url)
        assert response.status == status and KIND not in response.headers
    async with sifa.app[SERVICES].db.transaction() as session:
        actors = set(
            await session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action == "session.transcript")
            )
        )
    assert actors == set()  # refusals serve and audit nothing


async def test_a_withdrawal_before_any_session_has_no_transcript(sifa: Sifa) -> None:
    mediator, clerk, judge, _ = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, {"decision": "withdraw"})
    issued = await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    assert issued["transcript"] is None
    assert (await stored(sifa, case_id))[1:] == (None, 0)
    assert (await clerk.get(f"/api/cases/{case_id}/transcript.pdf")).status == 409
    archive = zipfile.ZipFile(
        io.BytesIO(await (await clerk.get(f"/api/cases/{case_id}/bundle.zip")).read())
    )
    assert "transcript.pdf" not in archive.namelist()
    assert json.loads(archive.read("manifest.json"))["transcript_sha256"] is None
    assert "transcript.pdf" not in await (await clerk.get(f"/cases/{case_id}")).text()


async def test_a_transcript_that_cannot_be_rendered_issues_nothing(
    sifa: Sifa, caplog: pytest.LogCaptureFixture
) -> None:
    """A note the court's font cannot draw: the transcript is refused (GlyphError), and with it
    the ruling, which itself would render; no record, no file, the case still decided.
    Such a note is refused when it is typed; one stored before that check existed (written
    here through the service, as the web layer no longer lets it in) still cannot half-issue."""
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await record_session(judge, kiosk, case_id)
    identity = {"party": 0, "method": "id_card_camera", "result": "passed", "note": "核对无误🙂"}
    refused = await judge.post(f"/api/cases/{case_id}/session/identity", json=identity)
    assert refused.status == 422
    assert "🙂" in (await refused.json())["error"]["message"]
    db = sifa.app[SERVICES].db
    room = await presence.look(sifa.app[SERVER_KEY], case_id)
    async with db.transaction() as session:
        account = await session.scalar(select(Account).where(Account.username == "judge"))
        assert account is not None
        await sessions.record_identity(
            session, accounts.actor_of(account), case_id, identity, sifa.clock(), room=room
        )
    await ok(await judge.post(f"/api/cases/{case_id}/decision", json=CONFIRM))
    await review_transcript(kiosk, case_id)

    response = await judge.post(f"/api/cases/{case_id}/ruling", json={})
    assert response.status == 500
    assert any(r.exc_info and isinstance(r.exc_info[1], GlyphError) for r in caplog.records), (
        caplog.text
    )
    assert [p for p in sifa.settings.rulings_dir.rglob("*") if p.is_file()] == []
    async with sifa.app[SERVICES].db.transaction() as session:
        for table in (Ruling, Transcript):
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.case_id == case_id)
            )
            assert count == 0, table
        issued = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.action == "case.issue_ruling")
        )
        assert issued == 0
    assert (await ok(await clerk.get(f"/api/cases/{case_id}")))["state"] == "confirmed"


async def test_the_record_is_append_only_on_each_backend(sifa_on: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa_on)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    _, transcript, count = await stored(sifa_on, case_id)
    assert transcript is not None and count == 1
    db = sifa_on.app[SERVICES].db
    for statement in (
        "UPDATE transcripts SET sha256 = 'x'",
        "UPDATE transcripts SET storage_name = 'elsewhere.pdf'",
        "DELETE FROM transcripts",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as conn:
                await conn.execute(text(statement))
    after = (await stored(sifa_on, case_id))[1]
    assert after is not None and (after.sha256, after.storage_name) == (
        transcript.sha256,
        transcript.storage_name,
    )
    archived = await judge.get(f"/api/cases/{case_id}/transcript.pdf")
    assert archived.headers[KIND] == "archived" and archived.headers[SHA] == transcript.sha256


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_migration_0005_adds_and_removes_the_guarded_table(database_url: str) -> None:
    db = Database(database_url)

    async def tables() -> set[str]:
        async with db.engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    try:
        await upgrade(db.engine, "0004")
        assert "transcripts" not in await tables()
        await upgrade(db.engine)
        assert "transcripts" in await tables()
        async with db.engine.begin() as conn:
            await conn.run_sync(_downgrade, "0004")
        assert "transcripts" not in await tables()
        # Down and up again: the guard's triggers (and PostgreSQL's function) went with it.
        await upgrade(db.engine)
        assert "transcripts" in await tables()
    finally:
        await db.close()


async def test_an_altered_archive_is_refused_not_served(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await decided_case(mediator, clerk, judge, CONFIRM, kiosk=kiosk)
    await ok(await judge.post(f"/api/cases/{case_id}/ruling", json={}), 201)
    _, transcript, _ = await stored(sifa, case_id)
    assert transcript is not None
    # Someone with access to the disk changes a byte (read-only stops mistakes, not root).
    path = sifa.settings.rulings_dir / transcript.storage_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    response = await clerk.get(f"/api/cases/{case_id}/transcript.pdf")
    assert response.status == 500 and KIND not in response.headers
    assert (await response.json())["error"]["code"] == "stored_file_damaged"
