"""Pages of the live confirmation session: the room's kiosk, the judge's console, a party's own
device, the mediator's join codes and a case's timeline (the clerk's board and figures are in
desk_pages.py).

The pages are shells: state lives on the server and the browser code (kiosk.js, judge.js)
reads it from the JSON API, so a reload lands on the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from app.domain.clock import court_time
from app.domain.errors import NotPermitted
from app.domain.grounds import REJECT_TEXT, RejectGround
from app.domain.roles import Role
from app.domain.session import ID_METHOD_TEXT, PHASE_TEXT, PHASES
from app.keys import Caller, services
from app.services import cases, rulings, serving
from app.services.timeline import timeline as timeline_of
from app.web import labels
from app.web.agreement_check import agreement_seals
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


def require_role(request: web.Request, *roles: Role) -> Caller:
    who = require_caller(request)
    if who.actor.role not in roles:
        raise NotPermitted("无权访问此页面。 / This page is not for your role.")
    return who


def steps(lang: str) -> list[dict[str, str]]:
    return [{"key": p.value, "label": pick(lang, PHASE_TEXT[p], STEP_EN[p.value])} for p in PHASES]


def _room_steps(lang: str) -> list[dict[str, str]]:
    """The kiosk's and a party's device's steps: their own device check first, so the people in
    the room count one series of steps from the start (not a "step 1" twice)."""
    check = {"key": "selftest", "label": pick(lang, "设备自检", "Device check")}
    return [check, *steps(lang)]


async def _case_context(request: web.Request, who: Caller) -> dict[str, Any]:
    svc = services(request)
    async with svc.db.transaction() as session:
        case = await cases.load_case(session, who.actor, path_id(request))
        names = await cases.names_for(session, case)
        detail = case_detail(case, names, svc.cipher, who.actor)
        ruling = await rulings.ruling_of(session, case.id)
    return {"case": detail, "has_ruling": ruling is not None}


async def kiosk_session(request: web.Request) -> web.Response:
    who = require_role(request, Role.KIOSK)
    context = await _case_context(request, who)
    lang = language(request)
    return render(
        request,
        "kiosk_session.html",
        {**context, "steps": _room_steps(lang), "mode": "kiosk", "party": None},
    )


async def judge_console(request: web.Request) -> web.Response:
    who = require_role(request, Role.JUDGE)
    context = await _case_context(request, who)
    seals = await agreement_seals(services(request), context["case"]["id"])
    lang = language(request)
    return render(
        request,
        "judge_console.html",
        {
            **context,
            "seals": seals,
            "steps": steps(lang),
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
    who = require_role(request, Role.MEDIATOR)
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


def routes() -> list[web.RouteDef]:
    return [
        web.get("/kiosk/session/{case_id}", kiosk_session),
        web.get("/judge/session/{case_id}", judge_console),
        web.get("/join", join_page),
        web.get("/party/session/{case_id}", party_session),
        web.get("/cases/{case_id}/codes", codes_page),
        web.get("/cases/{case_id}/timeline", timeline_page),
    ]


__all__ = ["routes"]
