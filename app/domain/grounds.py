"""Legal grounds a clerk or judge cites. Pure. Keys are stable; texts are Chinese as in the law."""

from __future__ import annotations

from enum import StrEnum


class DeclineGround(StrEnum):
    """Interp 355: the application is not accepted."""

    NOT_JURISDICTION = "not_jurisdiction"
    PERSONAL_STATUS = "personal_status"
    OTHER_PROCEDURE = "other_procedure"
    PROPERTY_OWNERSHIP = "property_ownership"


DECLINE_TEXT: dict[DeclineGround, str] = {
    DeclineGround.NOT_JURISDICTION: "不属于人民法院受理范围或者不属于本院管辖",
    DeclineGround.PERSONAL_STATUS: "确认身份关系的（婚姻关系、亲子关系、收养关系）",
    DeclineGround.OTHER_PROCEDURE: "涉及适用其他特别程序、公示催告程序、破产程序审理的",
    DeclineGround.PROPERTY_OWNERSHIP: "调解协议内容涉及物权、知识产权确权的",
}


class RejectGround(StrEnum):
    """Interp 358: the application for confirmation is rejected."""

    MANDATORY_LAW = "mandatory_law"
    PUBLIC_INTEREST = "public_interest"
    PUBLIC_ORDER = "public_order"
    NOT_VOLUNTARY = "not_voluntary"
    UNCLEAR = "unclear"
    OTHER = "other"


REJECT_TEXT: dict[RejectGround, str] = {
    RejectGround.MANDATORY_LAW: "违反法律强制性规定",
    RejectGround.PUBLIC_INTEREST: "损害国家利益、社会公共利益、他人合法权益",
    RejectGround.PUBLIC_ORDER: "违背公序良俗",
    RejectGround.NOT_VOLUNTARY: "违反自愿原则",
    RejectGround.UNCLEAR: "内容不明确",
    RejectGround.OTHER: "其他不能进行司法确认的情形",
}

REJECT_ITEM: dict[RejectGround, int] = {g: i for i, g in enumerate(RejectGround, start=1)}
