"""Text the court's font cannot print is refused where it is typed, not at issue time."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.clock import court_date
from app.keys import SERVICES
from app.services.demo import sample_application
from app.store.models import Case, SessionEventRow
from app.web.printable import require_printable

from integration.api_support import error_of
from integration.conftest import Sifa
from integration.ruling_flow import ok, people, scheduled_case, seat_room

RARE = "𪚥"  # CJK Extension B: not in AR PL UMing
EMOJI = "🙂"


async def count(sifa: Sifa, table: type[Case] | type[SessionEventRow]) -> int:
    async with sifa.app[SERVICES].db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_an_application_with_an_unprintable_name_is_refused_and_nothing_is_stored(
    sifa: Sifa,
) -> None:
    mediator = await sifa.as_user("mediator")
    application = sample_application(court_date(sifa.clock.now))
    application["applicants"][0]["name"] = f"张{RARE}"  # type: ignore[index]
    application["terms"][1] = f"款项付清后双方握手言和{EMOJI}"  # type: ignore[index]
    before = await count(sifa, Case)
    error = await error_of(
        await mediator.post("/api/cases", json=application), 422, "validation_failed"
    )
    assert RARE in error["message"] and EMOJI in error["message"]
    assert "applicants[0].name" in error["message"] and "terms[1]" in error["message"]
    assert "无法在文书中印出" in error["message"] and "Cannot be printed" in error["message"]
    assert await count(sifa, Case) == before


async def test_an_unprintable_session_note_is_refused_and_not_recorded(sifa: Sifa) -> None:
    mediator, clerk, judge, kiosk = await people(sifa)
    case_id = await scheduled_case(mediator, clerk)
    await ok(await judge.post(f"/api/cases/{case_id}/open-session", json={}))
    await seat_room(judge, kiosk, case_id)
    before = await count(sifa, SessionEventRow)
    identity = {"party": 0, "method": "id_card_camera", "result": "passed", "note": f"好{EMOJI}"}
    error = await error_of(
        await judge.post(f"/api/cases/{case_id}/session/identity", json=identity),
        422,
        "validation_failed",
    )
    assert "note" in error["message"] and EMOJI in error["message"]
    assert await count(sifa, SessionEventRow) == before
    # The same record in printable characters goes through.
    identity["note"] = "核对身份证原件，人证一致。"
    await ok(await judge.post(f"/api/cases/{case_id}/session/identity", json=identity))
    assert await count(sifa, SessionEventRow) == before + 1


def test_every_text_field_is_checked_with_its_path_but_not_secrets(sifa: Sifa) -> None:
    missing = sifa.app[SERVICES].desk.missing_glyphs
    require_printable({"name": "䶮", "amount": 3, "terms": ["一", "二"]}, missing)  # all printable
    seen: list[str] = []

    def recording(text: str) -> str:
        seen.append(text)
        return missing(text)

    require_printable({"password": EMOJI, "csrf_token": EMOJI, "ok": "好"}, recording)
    assert seen == ["好"]
    try:
        require_printable({"a": [{"b": f"x{RARE}{RARE}"}]}, missing)
    except Exception as exc:  # ValidationError: one problem, the character named once
        assert exc.problems[0][0] == "a[0].b"
        assert exc.problems[0][1].count(RARE) == 2  # once per language
    else:
        raise AssertionError("an Extension B character passed")
