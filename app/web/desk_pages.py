"""The court desk's pages: the clerk's live board of the rooms and the caseload figures
(confirmation, and the people's mediation of the court's committees)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from markupsafe import Markup

from app.domain import figures as fig
from app.domain import mediation_figures
from app.domain.clock import court_date, court_time
from app.domain.roles import Role
from app.domain.session import PHASE_TEXT, PHASES
from app.keys import services
from app.services import figures as desk
from app.web.i18n import language, pick, split_bilingual
from app.web.pages import render
from app.web.session_pages import STEP_EN, require_role, steps

log = logging.getLogger(__name__)


def board_json(row: desk.BoardRow, snapshot: dict[str, Any] | None) -> dict[str, Any]:
    connection = None
    if snapshot is not None:
        people = snapshot.get("participants") or []
        quality = snapshot.get("quality") or {}
        connection = {
            "participants": [
                {
                    "role": p.get("role"),
                    "admitted": p.get("admitted"),
                    "connected": p.get("connected"),
                    "quality": quality.get(p.get("id")),
                }
                for p in people
                if isinstance(p, dict)
            ],
        }
    return {
        "room_id": row.room_id,
        "room": row.room,
        "hall": row.hall,
        "case_id": row.case_id,
        "case_number": row.case_number,
        "applicants": list(row.applicants),
        "scheduled_at": court_time(row.scheduled_at).strftime("%H:%M")
        if row.scheduled_at
        else None,
        "state": row.state,
        "step": row.step,
        "step_label": row.step_label,
        "elapsed_seconds": row.elapsed_seconds,
        "over_target": row.over_target,
        "later": row.later,
        "paper_pending": list(row.paper_pending),
        "connection": connection,
    }


async def _snapshot(request: web.Request, case_id: int | None) -> dict[str, Any] | None:
    """The signaling server's view of the room, from whichever node hosts it."""
    if case_id is None:
        return None
    from signaling.server import SERVER_KEY

    server = request.app.get(SERVER_KEY)
    if server is None:
        return None
    try:
        snap = await server.snapshot_anywhere(case_id)
    except Exception:  # the board must not fail because a room is being torn down or moved
        log.warning("board: no view of the room of case %s", case_id, exc_info=True)
        return None
    return snap if isinstance(snap, dict) else None


async def board_api(request: web.Request) -> web.Response:
    who = require_role(request, Role.CLERK)
    svc = services(request)
    now = svc.clock()
    async with svc.db.transaction() as session:
        rows = await desk.board(session, who.actor, now)
    return web.json_response(
        {
            "date": court_date(now).isoformat(),
            "rooms": [board_json(r, await _snapshot(request, r.case_id)) for r in rows],
        }
    )


async def board_page(request: web.Request) -> web.Response:
    require_role(request, Role.CLERK)
    svc = services(request)
    return render(request, "board.html", {"today": court_date(svc.clock())})


def _week_charts(rows: list[fig.WeekRow], lang: str) -> dict[str, Markup]:
    received = [fig.Bar(fig.week_dates(r.week, lang), r.counts.received) for r in rows]
    resolved = [fig.Bar(fig.week_dates(r.week, lang), r.counts.resolved) for r in rows]
    return {
        "received": Markup(
            fig.bar_chart_svg(received, title=pick(lang, "每周收案数", "Applications per week"))
        ),
        "resolved": Markup(
            fig.bar_chart_svg(
                resolved, title=pick(lang, "每周结案数", "Decided per week"), colour="#14532d"
            )
        ),
    }


async def figures_page(request: web.Request) -> web.Response:
    who = require_role(request, Role.CLERK)
    svc = services(request)
    lang = language(request)
    async with svc.db.transaction() as session:
        facts = await desk.case_facts(session, who.actor, svc.clock())
        mediated = await desk.mediation_facts(session, who.actor)
    weeks = fig.weekly(facts)
    halls = fig.by_hall(facts)
    session_bars = [
        fig.Bar(h.hall, h.median_session_seconds or 0, fig.minutes(h.median_session_seconds))
        for h in halls
    ]
    step_bars = [
        fig.Bar(
            pick(lang, PHASE_TEXT[p], STEP_EN[p.value]),
            fig.median(
                [h.median_step_seconds[p.value] or 0 for h in halls if h.sessions]  # halls' median
            )
            or 0,
            fig.minutes(
                fig.median([h.median_step_seconds[p.value] or 0 for h in halls if h.sessions])
            ),
        )
        for p in PHASES
    ]
    return render(
        request,
        "figures.html",
        {
            "weeks": weeks,
            "mediation_weeks": mediation_figures.mediation_weeks(mediated),
            "mediation_committees": mediation_figures.mediation_committees(mediated),
            "mediation_halls": mediation_figures.mediation_halls(mediated),
            # Halls are named in Chinese only; the online row in both languages.
            "hall_label": lambda key: (
                split_bilingual(key, lang) if key == mediation_figures.ONLINE else key
            ),
            "week_dates": lambda week: fig.week_dates(week, lang),
            "halls": halls,
            "steps": steps(lang),
            "minutes": fig.minutes,
            "percent": fig.percent,
            "charts": {
                **_week_charts(weeks, lang),
                "session": Markup(
                    fig.bar_chart_svg(
                        session_bars,
                        title=pick(lang, "各大厅庭审用时中位数", "Median session time by hall"),
                        colour="#1e3a8a",
                    )
                ),
                "steps": Markup(
                    fig.bar_chart_svg(
                        step_bars,
                        title=pick(lang, "各环节用时", "Time per step"),
                        colour="#1e3a8a",
                    )
                ),
            },
            "generated": court_time(svc.clock()).strftime("%Y-%m-%d %H:%M"),
        },
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/board", board_page),
        web.get("/api/board", board_api),
        web.get("/figures", figures_page),
    ]
