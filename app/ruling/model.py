"""Input for a ruling (民事裁定书) and an electronic service voucher (电子送达凭证).

Pure value objects that check themselves. They carry facts only; every Chinese sentence
of the documents lives in the editable templates (templates/rulings/).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Literal

from app.domain.grounds import REJECT_ITEM, REJECT_TEXT, RejectGround
from app.ruling.errors import InvalidRulingData

Outcome = Literal["confirmed", "rejected", "withdrawn"]

# Interp 358: the grounds on which a court rejects an application, by item: the same texts the
# judge's decision names (app/domain/grounds.py). Items 1-5 read as what the agreement does
# (该调解协议违反自愿原则); item 6 names a situation (其他不能进行司法确认的情形).
INTERP_358_GROUNDS: dict[int, str] = {REJECT_ITEM[g]: REJECT_TEXT[g] for g in RejectGround}

# Lenient on purpose: the numbering service owns the exact format; this only guards
# against a field mix-up (a name passed as the case number, say).
_CASE_NUMBER = re.compile(r"^（\d{4}）\S+\d+号$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NP-RT-UW-Y]{18}$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def _check_text(owner: object) -> None:
    """Every str field must be non-empty and free of control characters.

    Line breaks matter most: the template markup is line-oriented, so a value carrying a
    newline could inject a block of its own into the ruling.
    """
    for f in fields(owner):  # type: ignore[arg-type]
        value = getattr(owner, f.name)
        if not isinstance(value, str):
            continue
        if not value.strip():
            raise InvalidRulingData(f"{type(owner).__name__}.{f.name} is empty")
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise InvalidRulingData(
                f"{type(owner).__name__}.{f.name} contains a control character: {value!r}"
            )


@dataclass(frozen=True, slots=True)
class NaturalPerson:
    name: str
    sex: Literal["男", "女"]
    birth_date: date
    ethnicity: str  # e.g. 汉族
    address: str  # 住址, printed after 住
    id_number: str  # in full: the served original prints it
    id_label: str = "公民身份号码"  # or 护照号码, 港澳居民来往内地通行证号码 …

    def __post_init__(self) -> None:
        _check_text(self)
        if self.sex not in ("男", "女"):
            raise InvalidRulingData(f"sex must be 男 or 女, not {self.sex!r}")
        if self.id_label == "公民身份号码" and not _ID_NUMBER.match(self.id_number):
            raise InvalidRulingData(f"ID number of {self.name} is not 17 digits + check character")

    @property
    def kind(self) -> str:
        return "person"


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    address: str  # 住所地
    legal_representative: str
    credit_code: str  # 统一社会信用代码
    legal_representative_title: str | None = None  # e.g. 该公司执行董事

    def __post_init__(self) -> None:
        _check_text(self)
        if not _CREDIT_CODE.match(self.credit_code):
            raise InvalidRulingData(f"credit code of {self.name} is not 18 GB 32100 characters")

    @property
    def kind(self) -> str:
        return "organisation"


ApplicantBlock = NaturalPerson | Organisation


@dataclass(frozen=True, slots=True)
class Agent:
    """委托诉讼代理人 (CPL 61): who acts, for whom, with what authority."""

    name: str
    for_whom: str  # the applicant's name, exactly as in its ApplicantBlock
    authority: str  # e.g. 特别授权 / 一般授权
    description: str | None = None  # e.g. 广东某某律师事务所律师

    def __post_init__(self) -> None:
        _check_text(self)


@dataclass(frozen=True, slots=True)
class RejectionGround:
    item: int  # Interp 358 item, 1-6
    text: str  # the item's wording, e.g. 违反自愿原则: what the agreement does (item 6: 情形)

    def __post_init__(self) -> None:
        _check_text(self)
        if self.item not in INTERP_358_GROUNDS:
            raise InvalidRulingData(f"Interp 358 has items 1-6, not {self.item}")

    @classmethod
    def statutory(cls, item: int) -> RejectionGround:
        if item not in INTERP_358_GROUNDS:
            raise InvalidRulingData(f"Interp 358 has items 1-6, not {item}")
        return cls(item, INTERP_358_GROUNDS[item])


@dataclass(frozen=True, slots=True)
class RulingData:
    court_name: str
    case_number: str
    outcome: Outcome
    applicants: tuple[ApplicantBlock, ...]
    agents: tuple[Agent, ...]
    committee_name: str  # 人民调解委员会 that presided
    application_date: date
    agreement_date: date  # the agreement took effect (People's Mediation Law 29)
    terms: tuple[str, ...]  # numbered 一、二、… by the template
    judge_name: str
    clerk_name: str
    decision_date: date
    verification_url: str
    rejection_ground: RejectionGround | None = None
    # The judge's own words, printed before the cited ground; the template ends them with 。.
    rejection_reasons: str | None = None

    def __post_init__(self) -> None:
        _check_text(self)
        if self.outcome not in ("confirmed", "rejected", "withdrawn"):
            raise InvalidRulingData(
                f"outcome must be confirmed, rejected or withdrawn, not {self.outcome!r}"
            )
        if not _CASE_NUMBER.match(self.case_number):
            raise InvalidRulingData(f"case number {self.case_number!r} is not like （2026）…号")
        if len(self.applicants) < 2:
            raise InvalidRulingData("judicial confirmation needs at least two joint applicants")
        names = [a.name for a in self.applicants]
        if len(set(names)) != len(names):
            raise InvalidRulingData(f"applicant names repeat: {names}")
        for agent in self.agents:
            if agent.for_whom not in names:
                raise InvalidRulingData(f"agent {agent.name} acts for unknown {agent.for_whom!r}")
        if not self.terms:
            raise InvalidRulingData("the agreement has no terms")
        for i, term in enumerate(self.terms, 1):
            if not term.strip() or any(unicodedata.category(c) == "Cc" for c in term):
                raise InvalidRulingData(f"term {i} is empty or contains a control character")
        if not self.agreement_date <= self.application_date <= self.decision_date:
            raise InvalidRulingData(
                "dates out of order: agreement "
                f"{self.agreement_date} <= application {self.application_date} "
                f"<= decision {self.decision_date} must hold"
            )
        if not self.verification_url.startswith(("https://", "http://")):
            raise InvalidRulingData(f"verification URL {self.verification_url!r} is not http(s)")
        if self.outcome == "rejected" and self.rejection_ground is None:
            raise InvalidRulingData("a rejection needs its Interp 358 ground")
        if self.outcome != "rejected" and (
            self.rejection_ground is not None or self.rejection_reasons is not None
        ):
            raise InvalidRulingData("only a rejection carries a rejection ground or reasons")

    def agents_for(self, applicant_name: str) -> tuple[Agent, ...]:
        return tuple(a for a in self.agents if a.for_whom == applicant_name)


@dataclass(frozen=True, slots=True)
class VoucherData:
    """电子送达凭证 (Online litigation rules arts 29-32): one recipient got one document."""

    court_name: str
    case_number: str
    document_title: str  # e.g. 民事裁定书
    document_sha256: str  # lower-case hex of the signed PDF that was served
    recipient_name: str
    method: str  # e.g. 在线司法确认室当场电子送达，受送达人于终端确认签收
    place: str  # the room by its name, e.g. 光明社区在线司法确认室一 (never a device account)
    acknowledged_at: datetime  # timezone-aware; printed in Beijing time
    served_by: str  # e.g. 书记员李四
    verification_url: str  # the voucher's own page (its QR code), not the ruling's
    # Served on the recipient's own device through the court's platform (a party who joined
    # with a one-time code) rather than at the room's kiosk: the voucher words it so.
    own_device: bool = False
    # When the recipient agreed to electronic service, in its own tap (在线诉讼规则 art 29);
    # None: no consent on record, and the voucher states none.
    consented_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_text(self)
        if not _CASE_NUMBER.match(self.case_number):
            raise InvalidRulingData(f"case number {self.case_number!r} is not like （2026）…号")
        if self.consented_at is not None and self.consented_at.tzinfo is None:
            raise InvalidRulingData("consented_at must be timezone-aware")
        if not _SHA256_HEX.match(self.document_sha256):
            raise InvalidRulingData("document_sha256 must be 64 lower-case hex digits")
        if self.acknowledged_at.tzinfo is None:
            raise InvalidRulingData("acknowledged_at must be timezone-aware")
        if not self.verification_url.startswith(("https://", "http://")):
            raise InvalidRulingData(f"verification URL {self.verification_url!r} is not http(s)")
