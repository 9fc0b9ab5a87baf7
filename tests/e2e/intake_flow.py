"""Filing, accepting and scheduling an application through the pages, as its users do it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from reportlab.pdfgen import canvas

from app.domain.clock import COURT_TZ
from app.services.demo import with_check_digit

from e2e.conftest import screenshot_path

PEOPLE = [
    ("张三", "male", "1980-05-12", with_check_digit("44031119800512001")),
    ("赵六", "female", "1975-09-03", with_check_digit("44031119750903002")),
]


def agreement_pdf(tmp: Path) -> Path:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, "Mediation agreement")
    page.save()
    path = tmp / "agreement.pdf"
    path.write_bytes(buffer.getvalue())
    return path


async def fill_application(mediator: Any, base: str) -> None:
    await mediator.goto(f"{base}/cases/new")
    today = dt.datetime.now(COURT_TZ).date()
    await mediator.fill("input[name=dispute_type]", "人身损害赔偿纠纷")
    await mediator.fill("input[name=agreement_date]", (today - dt.timedelta(days=2)).isoformat())
    await mediator.fill("textarea[name=terms]", "赵六赔偿张三人民币三万元。\n双方再无争议。")
    for i, (name, sex, born, number) in enumerate(PEOPLE):
        await mediator.fill(f"input[name=a{i}_name]", name)
        await mediator.select_option(f"select[name=a{i}_sex]", sex)
        await mediator.fill(f"input[name=a{i}_birth_date]", born)
        await mediator.fill(f"input[name=a{i}_ethnicity]", "汉族")
        await mediator.fill(f"input[name=a{i}_id_number]", number)
        await mediator.fill(f"input[name=a{i}_address]", "深圳市光明区光明街道")
        await mediator.fill(f"input[name=a{i}_phone]", f"1380000000{i}")


async def save_upload_submit(mediator: Any, tmp: Path) -> str:
    """Save the filled form, attach the agreement, submit; the case page's URL."""
    await mediator.click("button.primary.big")
    await mediator.wait_for_url("**/cases/*")
    case_url = str(mediator.url)
    await mediator.set_input_files("input[name=file]", str(agreement_pdf(tmp)))
    await mediator.click("form[action$='/materials'] button")
    await mediator.wait_for_load_state()
    assert "agreement.pdf" in await mediator.content()
    await mediator.click("form[action$='/submit'] button")
    await mediator.wait_for_load_state()
    assert "已提交" in await mediator.inner_text("h1")
    return case_url


async def accept_and_schedule(clerk: Any, case_url: str, when: dt.datetime) -> None:
    """Accept (the first judge of the court) and book the first room at `when`."""
    await clerk.goto(case_url)
    await clerk.click("form[action$='/accept'] button")
    await clerk.wait_for_load_state()
    assert "民特" in await clerk.inner_text("h1")
    await clerk.fill("input[name=scheduled_at]", when.strftime("%Y-%m-%dT%H:%M"))
    await clerk.click("form[action$='/schedule'] button")
    await clerk.wait_for_load_state()
    assert "已排期" in await clerk.inner_text("h1")


async def file_and_book(mediator: Any, clerk: Any, base: str, tmp: Path) -> int:
    """The whole intake in the browser, booked into the first room within the hour."""
    await fill_application(mediator, base)
    case_url = await save_upload_submit(mediator, tmp)
    await mediator.screenshot(path=screenshot_path("flow-mediator-submitted"), full_page=True)
    # Within the hour, but today: the kiosk's schedule lists today's cases only.
    now = dt.datetime.now(COURT_TZ)
    when = min(now + dt.timedelta(minutes=30), now.replace(hour=23, minute=59))
    await accept_and_schedule(clerk, case_url, when)
    await clerk.screenshot(path=screenshot_path("flow-clerk-scheduled"), full_page=True)
    return int(case_url.rstrip("/").rsplit("/", 1)[-1])
