"""Materials (ID copies, agreements) are encrypted at rest and bound to their case and content."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sqlalchemy import select, update

from app.domain.clock import court_date
from app.keys import SERVICES
from app.store.models import Material

from integration.api_support import error_of, make_pdf
from integration.conftest import Sifa
from integration.test_api_cases import new_case, upload


def stored_file(sifa: Sifa, material: dict[str, object]) -> Path:
    files = list((sifa.settings.materials_dir).rglob(f"{material['sha256']}*"))
    assert files, "the upload left no file"
    return files[0]


async def test_a_material_on_disk_is_sealed_and_reads_back_whole(sifa: Sifa) -> None:
    mediator = await sifa.as_user("mediator")
    case = await new_case(mediator, court_date(sifa.clock.now))
    pdf = make_pdf("scanned identity card")
    readable = b"ReportLab Generated PDF document"
    assert readable in pdf
    response = await upload(mediator, case["id"], pdf, category="identity")
    assert response.status == 201, await response.text()
    material = await response.json()

    on_disk = stored_file(sifa, material).read_bytes()
    assert on_disk != pdf and len(on_disk) == len(pdf) + 1 + 12 + 16  # format, nonce, tag
    assert readable not in on_disk and b"%PDF" not in on_disk

    download = await mediator.get(f"/api/cases/{case['id']}/materials/{material['id']}")
    assert download.status == 200 and await download.read() == pdf
    assert download.headers["Cache-Control"] == "no-store"


async def test_a_sealed_file_moved_to_another_case_or_altered_is_refused(sifa: Sifa) -> None:
    mediator = await sifa.as_user("mediator")
    today = court_date(sifa.clock.now)
    first, second = await new_case(mediator, today), await new_case(mediator, today)
    pdf = make_pdf("the same agreement filed twice")
    uploaded = [await (await upload(mediator, c["id"], pdf)).json() for c in (first, second)]
    paths = [sifa.settings.materials_dir / f"{c['id']}" for c in (first, second)]
    first_file, second_file = (next(p.iterdir()) for p in paths)

    # Same bytes, different case: the ciphertexts differ and one does not stand in for the other.
    assert first_file.read_bytes() != second_file.read_bytes()
    second_file.chmod(0o640)
    shutil.copyfile(first_file, second_file)
    moved = await mediator.get(f"/api/cases/{second['id']}/materials/{uploaded[1]['id']}")
    await error_of(moved, 500, "stored_file_damaged")

    altered = bytearray(first_file.read_bytes())
    altered[-1] ^= 0x01
    first_file.write_bytes(bytes(altered))
    broken = await mediator.get(f"/api/cases/{first['id']}/materials/{uploaded[0]['id']}")
    error = await error_of(broken, 500, "stored_file_damaged")
    assert "damaged" in error["message"]


async def test_a_file_stored_before_sealing_is_still_read_and_checked(sifa: Sifa) -> None:
    mediator = await sifa.as_user("mediator")
    case = await new_case(mediator, court_date(sifa.clock.now))
    pdf = make_pdf("filed before materials were sealed")
    material = await (await upload(mediator, case["id"], pdf)).json()
    legacy_name = f"{case['id']}/{material['sha256']}.pdf"
    (sifa.settings.materials_dir / legacy_name).write_bytes(pdf)
    async with sifa.app[SERVICES].db.transaction() as session:
        await session.execute(
            update(Material).where(Material.id == material["id"]).values(storage_name=legacy_name)
        )
    url = f"/api/cases/{case['id']}/materials/{material['id']}"
    assert await (await mediator.get(url)).read() == pdf

    (sifa.settings.materials_dir / legacy_name).write_bytes(pdf + b"appended")
    await error_of(await mediator.get(url), 500, "stored_file_damaged")
    async with sifa.app[SERVICES].db.transaction() as session:
        row = await session.scalar(select(Material).where(Material.id == material["id"]))
        assert row is not None and row.sha256 == hashlib.sha256(pdf).hexdigest()
