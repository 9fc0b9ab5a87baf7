"""Courts, mediation committees, service halls and confirmation rooms: what an administrator
may enter and change. Pure: the caller passes what the database knows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.access import Actor
from app.domain.errors import Conflict, NotPermitted, ValidationError
from app.domain.ids import parse_id
from app.domain.roles import Role

# The province-level abbreviations the SPC's court codes (法院代字, 法〔2015〕137号) start with,
# 兵 for the Xinjiang Production and Construction Corps' courts.
PROVINCES = "京津沪渝冀晋内辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川黔云藏陕甘青宁新兵"
# A basic court's code: the abbreviation and its county-level division's four digits (粤0311).
# Only basic courts confirm mediation agreements, so a higher court's 粤03 is a mistake here.
COURT_CODE = re.compile(f"^[{PROVINCES}][0-9]{{4}}$")
NAME_MAX = 100  # the columns' width
COURT_CODE_REFUSAL = (
    "法院代字须为省级简称加四位数字，如 粤0311。 / A court code is a province abbreviation "
    "and four digits, such as 粤0311."
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Kind(StrEnum):
    COURT = "court"
    COMMITTEE = "committee"  # a people's mediation committee files with one court
    HALL = "hall"  # a service hall, run by one committee
    ROOM = "room"  # a confirmation room in one hall


# What each kind belongs to: a room's court is its hall's committee's court.
PARENT: dict[Kind, Kind] = {
    Kind.COMMITTEE: Kind.COURT,
    Kind.HALL: Kind.COMMITTEE,
    Kind.ROOM: Kind.HALL,
}
NOUN: dict[Kind, tuple[str, str]] = {
    Kind.COURT: ("法院", "court"),
    Kind.COMMITTEE: ("人民调解委员会", "mediation committee"),
    Kind.HALL: ("服务大厅", "service hall"),
    Kind.ROOM: ("确认室", "confirmation room"),
}


def parent_field(kind: Kind) -> str | None:
    return f"{PARENT[kind]}_id" if kind in PARENT else None


def fields(kind: Kind) -> tuple[str, ...]:
    """The fields a body or form for `kind` carries, in the order forms show them."""
    if kind is Kind.COURT:
        return ("name", "code")
    return ("name", f"{PARENT[kind]}_id")


def require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermitted(
            "只有管理员可以管理法院、调解委员会和确认室。 / Only administrators manage courts, "
            "committees and rooms."
        )


def no_such(kind: Kind) -> str:
    zh, en = NOUN[kind]
    return f"没有这个{zh}。 / No such {en}."


@dataclass(frozen=True)
class Draft:
    """What a create or an edit sets; None keeps what is there (an edit's absent field)."""

    name: str | None = None
    code: str | None = None
    parent_id: int | None = None


def _name(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.strip():
        return None, "须填写名称。 / A name is required."
    name = value.strip()
    if len(name) > NAME_MAX:
        return None, f"最多 {NAME_MAX} 个字符。 / At most {NAME_MAX} characters."
    if _CONTROL.search(name):
        return None, "名称中不能有控制字符。 / The name cannot contain control characters."
    return name, None


def _code(value: object) -> tuple[str | None, str | None]:
    code = value.strip() if isinstance(value, str) else ""
    if COURT_CODE.fullmatch(code):
        return code, None
    return None, COURT_CODE_REFUSAL


def read_draft(kind: Kind, data: Mapping[str, object], *, partial: bool) -> Draft:
    """A create needs every field; an edit (`partial`) only those it changes."""
    problems: list[tuple[str, str]] = []
    name = code = parent_id = None
    for field in fields(kind):
        if partial and data.get(field) is None:
            continue
        value = data.get(field)
        if field == "name":
            name, problem = _name(value)
        elif field == "code":
            code, problem = _code(value)
        else:
            parent_id = parse_id(value)
            problem = None if parent_id is not None else no_such(PARENT[kind])
        if problem is not None:
            problems.append((field, problem))
    if problems:
        raise ValidationError(problems)
    return Draft(name, code, parent_id)


def name_taken(kind: Kind, name: str) -> Conflict:
    zh, en = NOUN[kind]
    return Conflict(
        f"已有名为 {name} 的{zh}。 / A {en} named {name} exists.", code=f"{kind}_name_taken"
    )


def code_taken(code: str) -> Conflict:
    return Conflict(
        f"法院代字 {code} 已被使用。 / The court code {code} is taken.", code="court_code_taken"
    )


def refuse_recode(numbered_cases: int) -> None:
    """A court's code is part of every case number it gave: changing it would give the year's
    next case a number under another code, continuing a series that code never began."""
    if numbered_cases:
        raise Conflict(
            f"该法院已有 {numbered_cases} 个案件使用此代字编号，代字不能再改。 / "
            f"{numbered_cases} case numbers already carry this court's code; it cannot change.",
            code="court_code_in_use",
        )


def refuse_move(kind: Kind, cases: int) -> None:
    """Moving to another court must not carry cases along: a room's kiosk sees the served cases
    booked there, which would then be another court's, and a committee's filed cases stay with
    the court they were filed with."""
    if cases:
        zh, en = NOUN[kind]
        raise Conflict(
            f"该{zh}已有 {cases} 个案件，不能改属其他法院。 / The {en} has {cases} cases; it "
            "cannot move to another court.",
            code="has_cases",
        )
