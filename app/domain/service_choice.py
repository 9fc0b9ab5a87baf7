"""How each party is served (送达方式): electronically only with that party's own consent
(人民法院在线诉讼规则 art 29), otherwise on paper against a signed 送达回证. Pure.

The answer is a session record (Kind.SERVICE_CHOICE), given once per party in its own tap;
these rules say which path a party's record opens and refuse the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from app.domain.errors import Conflict, ValidationError
from app.domain.session import PartyRecord


class Path(StrEnum):
    ELECTRONIC = "electronic"  # 电子送达: signed for at the kiosk or on the party's own device
    PAPER = "paper"  # 直接送达: a printed ruling and a 送达回证 the party signs by hand


MAX_PAPER_NOTE = 500  # the clerk's note on a paper 送达回证
CHOICE_REFUSAL = "须选择是否同意电子送达。 / Must be true (agree) or false (paper)."


class ServiceRefused(Conflict):
    """The service asked for is not the one the party's answer opened (or there is none yet)."""


def read_choice(data: Mapping[str, Any]) -> bool:
    """`{"electronic": true}` agrees to electronic service; `false` asks for paper."""
    value = data.get("electronic")
    if not isinstance(value, bool):
        raise ValidationError([("electronic", CHOICE_REFUSAL)])
    return value


def check_choice(record: PartyRecord, *, served: bool) -> None:
    """Asked once: the answer is what the voucher or the paper path rests on."""
    if served:
        raise Conflict(
            f"申请人{record.name}已签收，不能再选择送达方式。 / {record.name} is served already.",
            code="already_acknowledged",
        )
    if record.service_electronic is not None:
        chosen = "同意电子送达" if record.service_electronic else "选择纸质送达"
        raise Conflict(
            f"申请人{record.name}已{chosen}。 / {record.name} has answered already.",
            code="service_chosen",
        )


def path_of(record: PartyRecord) -> Path | None:
    if record.service_electronic is None:
        return None
    return Path.ELECTRONIC if record.service_electronic else Path.PAPER


def require(record: PartyRecord, path: Path) -> None:
    """Refuse a service the party's own answer does not open."""
    chosen = path_of(record)
    if chosen is path:
        return
    if chosen is None:
        raise ServiceRefused(
            f"须先询问申请人{record.name}是否同意电子送达。 / "
            f"Ask {record.name} first whether they agree to electronic service.",
            code="service_choice_pending",
        )
    if chosen is Path.PAPER:
        raise ServiceRefused(
            f"申请人{record.name}不同意电子送达，应纸质送达。 / "
            f"{record.name} declined electronic service: serve on paper.",
            code="paper_service",
        )
    raise ServiceRefused(
        f"申请人{record.name}已同意电子送达，应在终端签收。 / "
        f"{record.name} agreed to electronic service: they sign for it on screen.",
        code="electronic_service",
    )
