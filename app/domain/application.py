"""Validating a joint application for confirmation (CPL 205, Interp 353/354). Pure.

Input is the plain mapping a JSON body or a form gives; output is a typed `Application` or a
`ValidationError` listing every problem with the field it belongs to.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from app.domain import refusals
from app.domain.errors import DomainError, ValidationError
from app.domain.people import (
    Agent,
    IdType,
    Organisation,
    Party,
    PartyKind,
    Person,
    Sex,
    birth_date_from_id,
    credit_code_problem,
    id_number_problem,
    normalise_id,
    sex_from_id,
)

APPLICATION_WINDOW_DAYS = 30  # CPL 205
# The fields of an applicant, as the API, the form and the OpenAPI document name them.
PERSON_FIELDS = (
    "name", "sex", "birth_date", "ethnicity", "address", "phone", "id_type", "id_number",
)  # fmt: skip
ORGANISATION_FIELDS = ("name", "credit_code", "legal_representative", "address", "phone")
MAX_APPLICANTS = 10
MAX_AGENTS = 10
MAX_TERMS = 50
MAX_TERM_CHARS = 2000
TERMS_REFUSAL = (
    f"须至少有一项协议条款，至多 {MAX_TERMS} 项。 / At least one term of the agreement is "
    f"required, and at most {MAX_TERMS}."
)
APPLICANTS_REFUSAL = (
    f"须由双方当事人共同申请（《民事诉讼法》第二百零五条），至多 {MAX_APPLICANTS} 名申请人。"
    f" / At least two applicants must apply jointly (CPL 205), and at most {MAX_APPLICANTS}."
)
PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{4,19}$"
_PHONE = re.compile(PHONE_PATTERN)
_PASSPORT_LIKE = re.compile(r"^[A-Z0-9]{5,20}$")
_E = TypeVar("_E", IdType, Sex, PartyKind)


@dataclass(frozen=True)
class Application:
    dispute_type: str
    agreement_date: dt.date
    terms: tuple[str, ...]
    applicants: tuple[Party, ...]
    agents: tuple[Agent, ...]


class WindowClosed(DomainError):
    code = "application_window_closed"


def window_closes(agreement_date: dt.date) -> dt.date:
    return agreement_date + dt.timedelta(days=APPLICATION_WINDOW_DAYS)


def check_window(agreement_date: dt.date, today: dt.date) -> None:
    """CPL 205: apply within 30 days of the agreement taking effect."""
    last_day = window_closes(agreement_date)
    if today > last_day:
        raise WindowClosed(
            f"调解协议自{agreement_date.isoformat()}生效，应在三十日内（至{last_day.isoformat()}）"
            f"申请司法确认，现已超过期限（《民事诉讼法》第二百零五条）。"
            f" / The application must be made within 30 days of the agreement taking effect "
            f"({agreement_date.isoformat()}); the last day was {last_day.isoformat()}.",
            field="agreement_date",
        )


class Reader:
    """Collects problems while reading fields, so one response lists them all."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def fail(self, field: str, text: str) -> None:
        self.problems.append((field, text))

    def text(self, data: Mapping[str, Any], key: str, field: str, *, limit: int) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(field, refusals.REQUIRED)
            return ""
        value = value.strip()
        if len(value) > limit:
            self.fail(field, refusals.too_long(limit))
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, field: str, *, limit: int) -> str:
        value = data.get(key)
        if value is None or value == "":
            return ""
        if not isinstance(value, str):
            self.fail(field, refusals.NOT_TEXT)
            return ""
        if len(value.strip()) > limit:
            self.fail(field, refusals.too_long(limit))
        return value.strip()

    def date(self, data: Mapping[str, Any], key: str, field: str) -> dt.date | None:
        value = data.get(key)
        if not isinstance(value, str):
            self.fail(field, refusals.DATE_REQUIRED)
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(field, refusals.NOT_A_DATE)
            return None

    def phone(self, data: Mapping[str, Any], key: str, field: str) -> str:
        value = self.text(data, key, field, limit=20)
        if value and not _PHONE.match(value):
            self.fail(field, refusals.PHONE)
        return value

    def choice(self, data: Mapping[str, Any], key: str, field: str, enum: type[_E]) -> _E | None:
        value = data.get(key)
        try:
            return enum(str(value))
        except ValueError:
            self.fail(field, refusals.one_of(e.value for e in enum))
            return None


def _read_person(r: Reader, d: Mapping[str, Any], at: str, today: dt.date) -> Person | None:
    name = r.text(d, "name", f"{at}.name", limit=50)
    sex = r.choice(d, "sex", f"{at}.sex", Sex)
    birth = r.date(d, "birth_date", f"{at}.birth_date")
    ethnicity = r.text(d, "ethnicity", f"{at}.ethnicity", limit=20)
    address = r.text(d, "address", f"{at}.address", limit=200)
    phone = r.phone(d, "phone", f"{at}.phone")
    id_type = r.choice(d, "id_type", f"{at}.id_type", IdType)
    id_number = normalise_id(r.text(d, "id_number", f"{at}.id_number", limit=20))
    if birth is not None and not dt.date(1900, 1, 1) <= birth <= today:
        r.fail(f"{at}.birth_date", "出生日期超出范围。 / Is out of range.")
    if id_type is IdType.RESIDENT_ID and id_number:
        problem = id_number_problem(id_number, today=today)
        if problem:
            r.fail(f"{at}.id_number", problem)
        else:
            if birth is not None and birth != birth_date_from_id(id_number):
                r.fail(f"{at}.birth_date", "与身份证号码不符。 / Does not match the ID number.")
            if sex is not None and sex is not sex_from_id(id_number):
                r.fail(f"{at}.sex", "与身份证号码不符。 / Does not match the ID number.")
    elif id_number and not _PASSPORT_LIKE.match(id_number):
        r.fail(
            f"{at}.id_number", "须为 5 至 20 个字母和数字。 / Must be 5 to 20 letters and digits."
        )
    if sex is None or birth is None or id_type is None:
        return None
    return Person(name, sex, birth, ethnicity, address, phone, id_type, id_number)


def _read_organisation(r: Reader, d: Mapping[str, Any], at: str) -> Organisation:
    name = r.text(d, "name", f"{at}.name", limit=100)
    code = r.text(d, "credit_code", f"{at}.credit_code", limit=18).upper()
    if code:
        problem = credit_code_problem(code)
        if problem:
            r.fail(f"{at}.credit_code", problem)
    representative = r.text(d, "legal_representative", f"{at}.legal_representative", limit=50)
    address = r.text(d, "address", f"{at}.address", limit=200)
    phone = r.optional_text(d, "phone", f"{at}.phone", limit=20)
    return Organisation(name, code, representative, address, phone)


def read_list(r: Reader, data: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        r.fail(key, refusals.NOT_LIST)
        return []
    return value


def read_parties(
    r: Reader, raw: Sequence[Any], key: str, refusal: str, today: dt.date
) -> list[Party]:
    """Two to MAX_APPLICANTS parties, each a person or an organisation (an application's
    applicants, a mediation's parties): problems go to `r` under `key[i].field`."""
    parties: list[Party] = []
    if not 2 <= len(raw) <= MAX_APPLICANTS:
        r.fail(key, refusal)
    for i, item in enumerate(raw[:MAX_APPLICANTS]):
        at = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            r.fail(at, refusals.NOT_OBJECT)
            continue
        kind = r.choice(item, "kind", f"{at}.kind", PartyKind)
        if kind is PartyKind.PERSON:
            person = _read_person(r, item, at, today)
            if person is not None:
                parties.append(person)
        elif kind is PartyKind.ORGANISATION:
            parties.append(_read_organisation(r, item, at))
    return parties


def parse_application(data: Mapping[str, Any], *, today: dt.date) -> Application:
    """Read and check an application; every problem found is reported at once."""
    r = Reader()
    dispute_type = r.text(data, "dispute_type", "dispute_type", limit=50)
    agreement_date = r.date(data, "agreement_date", "agreement_date")
    if agreement_date is not None and agreement_date > today:
        r.fail("agreement_date", "不能晚于今天。 / Is in the future.")

    terms: list[str] = []
    raw_terms = read_list(r, data, "terms")
    for i, term in enumerate(raw_terms):
        if not isinstance(term, str) or not term.strip():
            r.fail(f"terms[{i}]", refusals.TERM)
        elif len(term) > MAX_TERM_CHARS:
            r.fail(f"terms[{i}]", refusals.too_long(MAX_TERM_CHARS))
        else:
            terms.append(term.strip())
    if not raw_terms or len(raw_terms) > MAX_TERMS:
        r.fail("terms", TERMS_REFUSAL)

    raw_applicants = read_list(r, data, "applicants")
    applicants = read_parties(r, raw_applicants, "applicants", APPLICANTS_REFUSAL, today)

    agents: list[Agent] = []
    raw_agents = read_list(r, data, "agents")
    if len(raw_agents) > MAX_AGENTS:
        r.fail("agents", f"最多 {MAX_AGENTS} 名代理人。 / At most {MAX_AGENTS} agents.")
    for i, raw in enumerate(raw_agents[:MAX_AGENTS]):
        at = f"agents[{i}]"
        if not isinstance(raw, Mapping):
            r.fail(at, refusals.NOT_OBJECT)
            continue
        name = r.text(raw, "name", f"{at}.name", limit=50)
        id_number = normalise_id(r.text(raw, "id_number", f"{at}.id_number", limit=20))
        if id_number:
            problem = id_number_problem(id_number, today=today)
            if problem:
                r.fail(f"{at}.id_number", problem)
        phone = r.phone(raw, "phone", f"{at}.phone")
        authority = r.text(raw, "authority", f"{at}.authority", limit=200)
        represents = raw.get("represents")
        if not isinstance(represents, int) or not 0 <= represents < len(raw_applicants):
            r.fail(
                f"{at}.represents", "须为所代理申请人的序号。 / Must be the index of an applicant."
            )
            represents = 0
        agents.append(Agent(name, id_number, phone, authority, represents))

    if r.problems:
        raise ValidationError(r.problems)
    assert agreement_date is not None
    check_window(agreement_date, today)
    return Application(dispute_type, agreement_date, tuple(terms), tuple(applicants), tuple(agents))
