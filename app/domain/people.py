"""Parties and their identifiers: ID-number and credit-code checks, masking. Pure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

# GB 11643-1999 (ISO 7064 MOD 11-2): weights for the first 17 digits and the check characters.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
# Province-level codes (first two digits) in use, plus 71/81/82 for Taiwan, Hong Kong, Macao.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50}
    | {51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)

# GB 32100-2015: 31 characters (no I, O, S, V, Z) and the weights of the first 17 positions.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_PATTERN = re.compile(rf"^[{_CREDIT_CHARS}]{{18}}$")


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"  # 护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class PartyKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


def id_number_problem(number: str, *, today: dt.date | None = None) -> str | None:
    """Why an 18-character resident ID number is invalid, or None when it is valid."""
    if not _ID_PATTERN.match(number):
        return "须为 17 位数字加一位数字或 X。 / Must be 17 digits followed by a digit or X."
    if int(number[:2]) not in _PROVINCES:
        return "地区代码不存在。 / Unknown region code."
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "其中的出生日期不存在。 / The birth date inside it does not exist."
    if born.year < 1850 or (today is not None and born > today):
        return "其中的出生日期超出范围。 / The birth date inside it is out of range."
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        return "校验码不符（GB 11643）。 / Check digit does not match (GB 11643)."
    return None


def birth_date_from_id(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex_from_id(number: str) -> Sex:
    # The 17th digit is odd for men and even for women.
    return Sex.MALE if int(number[16]) % 2 else Sex.FEMALE


def credit_code_problem(code: str) -> str | None:
    """Why a unified social credit code is invalid, or None when it is valid."""
    if not _CREDIT_PATTERN.match(code):
        return (
            "须为 18 位数字和大写字母（不含 I、O、S、V、Z）。"
            " / Must be 18 characters of digits and capital letters (no I, O, S, V, Z)."
        )
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    expected = _CREDIT_CHARS[(31 - total % 31) % 31]
    if code[17] != expected:
        return "校验码不符（GB 32100）。 / Check character does not match (GB 32100)."
    return None


def normalise_id(number: str) -> str:
    return number.strip().upper()


def phone_digits(number: str) -> str:
    """A phone number without the spaces and dashes people type into it."""
    return number.replace(" ", "").replace("-", "")


def mask_phone(number: str) -> str:
    """138****0001: enough for a person to recognise their own number, for logs and screens."""
    digits = phone_digits(number)
    if len(digits) < 7:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id(number: str) -> str:
    """Keep the first and last four characters: 4403**********1234."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """Public pages name parties by surname only: 张三 → 张某, 欧阳娜娜 → 欧阳某."""
    if not name:
        return name
    compound = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "司徒")
    surname = name[:2] if name[:2] in compound and len(name) > 2 else name[0]
    return surname + "某"


@dataclass(frozen=True)
class Person:
    name: str
    sex: Sex
    birth_date: dt.date
    ethnicity: str
    address: str
    phone: str
    id_type: IdType
    id_number: str


@dataclass(frozen=True)
class Organisation:
    name: str
    credit_code: str
    legal_representative: str
    address: str
    phone: str = ""


@dataclass(frozen=True)
class Agent:
    name: str
    id_number: str
    phone: str
    authority: str  # 代理权限, e.g. 特别授权
    represents: int  # index of the applicant in the application


Party = Person | Organisation
