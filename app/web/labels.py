"""Names of states, steps, roles and grounds on pages, in Chinese and English."""

from __future__ import annotations

from app.domain.grounds import DECLINE_TEXT, REJECT_TEXT, DeclineGround, RejectGround
from app.domain.live import PARTY_ROLE
from app.domain.materials import Category
from app.domain.roles import Role
from app.domain.state_words import STATE_LABEL

STATE: dict[str, tuple[str, str]] = STATE_LABEL

# Accounts' roles, and the seats of the video room (app/domain/live.py), which share their
# names: the one table every page and script takes role names from.
ROLE: dict[str, tuple[str, str]] = {
    Role.ADMIN: ("管理员", "Administrator"),
    Role.MEDIATOR: ("调解员", "Mediator"),
    Role.JUDGE: ("审判员", "Judge"),
    Role.CLERK: ("书记员", "Clerk"),
    Role.KIOSK: ("确认室终端", "Room kiosk"),
    PARTY_ROLE: ("当事人（本人设备）", "Party (own device)"),
    "recorder": ("庭审录像", "Court recorder"),
}

CATEGORY: dict[str, tuple[str, str]] = {
    Category.AGREEMENT: ("调解协议", "Mediation agreement"),
    Category.COMMITTEE_PROOF: ("调解组织主持调解的证明", "Proof the committee presided"),
    Category.IDENTITY: ("身份证明", "Identity documents"),
    Category.PROPERTY: ("财产权利证明", "Proof of property rights"),
    Category.OTHER: ("其他材料", "Other"),
}

DECLINE: dict[str, tuple[str, str]] = {
    DeclineGround.NOT_JURISDICTION: (
        DECLINE_TEXT[DeclineGround.NOT_JURISDICTION],
        "Outside the court's remit or jurisdiction",
    ),
    DeclineGround.PERSONAL_STATUS: (
        DECLINE_TEXT[DeclineGround.PERSONAL_STATUS],
        "Marriage, parentage or adoption status",
    ),
    DeclineGround.OTHER_PROCEDURE: (
        DECLINE_TEXT[DeclineGround.OTHER_PROCEDURE],
        "Another special procedure or bankruptcy",
    ),
    DeclineGround.PROPERTY_OWNERSHIP: (
        DECLINE_TEXT[DeclineGround.PROPERTY_OWNERSHIP],
        "Confirms ownership of property or IP",
    ),
}

REJECT: dict[str, tuple[str, str]] = {
    RejectGround.MANDATORY_LAW: (REJECT_TEXT[RejectGround.MANDATORY_LAW], "Violates mandatory law"),
    RejectGround.PUBLIC_INTEREST: (
        REJECT_TEXT[RejectGround.PUBLIC_INTEREST],
        "Harms state, public or third-party interests",
    ),
    RejectGround.PUBLIC_ORDER: (REJECT_TEXT[RejectGround.PUBLIC_ORDER], "Against public order"),
    RejectGround.NOT_VOLUNTARY: (REJECT_TEXT[RejectGround.NOT_VOLUNTARY], "Not voluntary"),
    RejectGround.UNCLEAR: (REJECT_TEXT[RejectGround.UNCLEAR], "Content unclear"),
    RejectGround.OTHER: (REJECT_TEXT[RejectGround.OTHER], "Otherwise unsuitable"),
}

SEX: dict[str, tuple[str, str]] = {"male": ("男", "Male"), "female": ("女", "Female")}


def label(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
