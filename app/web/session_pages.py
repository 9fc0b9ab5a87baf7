"""Pages of the live confirmation session: the room's kiosk, the judge's console, a party's own
device, the clerk's board and figures, the mediator's join codes and a case's timeline.

The pages are shells: state lives on the server and the browser code (kiosk.js, judge.js,
board.js) reads it from the JSON API, so a reload lands on the same step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from markupsafe import Markup

from app.domain import figures as fig
from app.domain import mediation_figures
from app.domain.clock import court_date, court_time
from app.domain.errors import NotPermitted
from app.domain.grounds import REJECT_TEXT, RejectGround
from app.domain.roles import Role
from app.domain.session import ID_METHOD_TEXT, PHASE_TEXT, PHASES
from app.keys import Caller, services
from app.services import cases, rulings, serving
from app.services import figures as desk
from app.services.timeline import timeline as timeline_of
from app.web import labels
from app.web.headers import csp_for
from app.web.i18n import language, pick
from app.web.ids import path_id
from app.web.middleware import require_caller
from app.web.pages import render
from app.web.present import case_detail

STEP_EN = {
    "identity": "Identity",
    "inquiry": "Questions & consent",
    "review": "Review & decision",
    "service": "Service & receipt",
    "closed": "Finished",
}
ID_METHOD_EN = {
    "id_card_camera": "ID card shown to the camera",
    "id_photo": "ID photo comparison",
    "identity_platform": "Identity platform",
}

# The timeline's details: each recorded fact in the page's language, never a Python repr.
_DETAIL_KEY: dict[str, tuple[str, str]] = {
    "camera": ("摄像头", "camera"),
    "microphone": ("麦克风", "microphone"),
    "network": ("网络", "network"),
    "method": ("方式", "method"),
    "result": ("结果", "result"),
    "device": ("设备", "device"),
    "agreed_freely": ("自愿、平等达成协议", "agreed freely and as equals"),
    "understands": ("清楚协议内容及法律后果", "understands the terms and consequences"),
    "ground": ("理由", "ground"),
    "role": ("身份", "as"),
    "participant": ("席位", "seat"),
    "self_test": ("设备自检", "device check"),
    "electronic": ("同意电子送达", "agrees to electronic service"),
    "run": ("第几次录像", "recording run"),
    "reason": ("原因", "reason"),
    "after": ("此前中断原因", "after"),
    "signed_on": ("签收日期", "signed on"),
}
_CHECKS = frozenset({"camera", "microphone", "network"})
# Why a recording run ended, as the timeline says it.
_RECORDING_ENDS: Mapping[str, tuple[str, str]] = {
    "shutdown": ("服务器停止", "the server stopped"),
    "interrupted": ("服务器意外停止", "the server died"),
    "handover": ("移交另一台服务器", "handed to another server"),
    "served": ("送达完成", "served"),
    "paper_service": ("其余当事人选择纸质送达", "the rest are served on paper"),
    "restart": ("重新开始", "restarted"),
}
_DETAIL_VALUE: dict[str, Mapping[str, tuple[str, str]]] = {
    "method": {
        **{m.value: (text, ID_METHOD_EN[m.value]) for m, text in ID_METHOD_TEXT.items()},
        serving.SERVICE_METHOD: (serving.SERVICE_METHOD, "served at the room's kiosk"),
        serving.OWN_DEVICE_METHOD: (
            serving.OWN_DEVICE_METHOD,
            "served on the party's own device through the court's platform",
        ),
    },
    "result": {"passed": ("通过", "passed"), "failed": ("未通过", "failed")},
    "device": {
        "kiosk": ("确认室终端", "the room's kiosk"),
        "own_device": ("本人设备", "own device"),
        serving.OWN_DEVICE_PLACE: (serving.OWN_DEVICE_PLACE, "the party's own device"),
    },
    "ground": labels.REJECT,
    "role": labels.ROLE,
    "reason": _RECORDING_ENDS,
    "after": _RECORDING_ENDS,
}

log = logging.getLogger(__name__)


def _require_role(request: web.Request, *roles: Role) -> Caller:
    who = require_caller(request)
    if who.actor.role not in roles:
        raise NotPermitted("无权访问此页面。 / This page is not for your role.")
    return who


def _steps(lang: str) -> list[dict[str, str]]:
    return [{"key": p.value, "label": pick(lang, PHASE_TEXT[p], STEP_EN[p.value])} for p in PHASES]


def _room_steps(lang: str) -> list[dict[str, str]]:
    """The kiosk's and a party's device's steps: their own device check first, so the people in
    the room count one series of steps from the start (not a "step 1" twice)."""
    check = {"key": "selftest", "label": pick(lang, "设备自检", "Device check")}
    return [check, *_steps(lang)]


async def _case_context(request: web.Request, who: Caller) -> dict[str, Any]:
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await cases.load_case(session, who.actor, path_id(request))
        names = await cases.names_for(session, case)
        detail = case_detail(case, names, svc.cipher, who.actor)
        ruling = await rulings.ruling_of(session, case.id)
    return {"case": detail, "has_ruling": ruling is not None}


async def kiosk_session(request: web.Request) -> web.Response:
    who = _require_role(request, Role.KIOSK)
    context = await _case_context(request, who)
    lang = language(request)
    return render(
        request,
        "kiosk_session.html",
        {**context, "steps": _room_steps(lang), "mode": "kiosk", "party": None},
    )


async def judge_console(request: web.Request) -> web.Response:
    who = _require_role(request, Role.JUDGE)
    context = await _case_context(request, who)
    lang = language(request)
    return render(
        request,
        "judge_console.html",
        {
            **context,
            "steps": _steps(lang),
            "methods": [
                (m.value, pick(lang, text, ID_METHOD_EN[m.value]))
                for m, text in ID_METHOD_TEXT.items()
            ],
            "grounds": [
                (g.value, pick(lang, REJECT_TEXT[g], labels.REJECT[g][1])) for g in RejectGround
            ],
        },
    )


async def join_page(request: web.Request) -> web.Response:
    return render(request, "join.html", {})


async def party_session(request: web.Request) -> web.Response:
    """A party's own device: no login; the page reads its party token from sessionStorage."""
    lang = language(request)
    return render(
        request,
        "kiosk_session.html",
        {
            "case": {"id": path_id(request), "case_number": "", "parties": [], "terms": []},
            "has_ruling": False,
            "steps": _room_steps(lang),
            "mode": "party",
        },
        headers={"Content-Security-Policy": csp_for(request, blob_frames=True)},
    )


async def codes_page(request: web.Request) -> web.Response:
    who = _require_role(request, Role.MEDIATOR)
    context = await _case_context(request, who)
    return render(request, "party_codes.html", context)


async def timeline_page(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await cases.load_case(session, who.actor, path_id(request))
        items = await timeline_of(session, who.actor, case.id)
    names = {p.position: p.name for p in case.parties}
    lang = language(request)
    return render(
        request,
        "timeline.html",
        {
            "case": case,
            "items": [
                {
                    "at": court_time(i.at).strftime("%Y-%m-%d %H:%M:%S"),
                    "source": i.source,
                    "kind": i.kind,
                    "label": i.label_en if lang == "en" else i.label,
                    "actor": i.actor,
                    "session": i.session,
                    "party": names.get(i.party) if i.party is not None else None,
                    "details": details_text(i.details or {}, lang, actor=i.actor),
                }
                for i in items
            ],
        },
    )


def _value_text(key: str, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        if key in _CHECKS:
            return pick(lang, "正常" if value else "异常", "OK" if value else "failed")
        return pick(lang, "是" if value else "否", "yes" if value else "no")
    if isinstance(value, Mapping):
        inner = details_text(value, lang)
        return pick(lang, f"（{inner}）", f"({inner})")
    if isinstance(value, list | tuple):
        return pick(lang, "、", ", ").join(_value_text(key, v, lang) for v in value)
    known = _DETAIL_VALUE.get(key, {}).get(str(value))
    if known is not None:
        return pick(lang, *known)
    return "" if value is None else str(value)


def _review_text(present: Mapping[str, Any], lang: str) -> str:
    """The Interp 358 checklist: which grounds the judge found, or that none was found."""
    found = [labels.label(labels.REJECT, g, lang) for g, yes in present.items() if yes is True]
    if not found:
        return pick(lang, "审查：各项情形均不存在", "review: none of the grounds found")
    return pick(lang, "审查认定存在：", "review found: ") + pick(lang, "、", ", ").join(found)


def details_text(details: Mapping[str, Any], lang: str, *, actor: str | None = None) -> str:
    """A timeline row's details as words in the page's language: "摄像头正常；麦克风正常" /
    "camera OK; microphone OK"."""
    parts = []
    for key, value in details.items():
        if value is None or value == "" or (key == "participant" and value == actor):
            continue  # nothing recorded (a confirmation's ground), or the actor's own seat
        if key == "present" and isinstance(value, Mapping):
            parts.append(_review_text(value, lang))
            continue
        name = labels.label(_DETAIL_KEY, key, lang)
        text = _value_text(key, value, lang)
        if key in _CHECKS and isinstance(value, bool):
            parts.append(pick(lang, f"{name}{text}", f"{name} {text}"))
        else:
            parts.append(pick(lang, f"{name}：{text}", f"{name}: {text}"))
    return pick(lang, "；", "; ").join(parts)


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
    who = _require_role(request, Role.CLERK)
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
    _require_role(request, Role.CLERK)
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
    who = _require_role(request, Role.CLERK)
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
            "week_dates": lambda week: fig.week_dates(week, lang),
            "halls": halls,
            "steps": _steps(lang),
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
        web.get("/kiosk/session/{case_id}", kiosk_session),
        web.get("/judge/session/{case_id}", judge_console),
        web.get("/join", join_page),
        web.get("/party/session/{case_id}", party_session),
        web.get("/cases/{case_id}/codes", codes_page),
        web.get("/cases/{case_id}/timeline", timeline_page),
        web.get("/board", board_page),
        web.get("/api/board", board_api),
        web.get("/figures", figures_page),
    ]


__all__ = ["routes"]
