"""Decoding a JSON body into its declared model, and saying everything wrong with it. Pure.

msgspec decodes and stops at the first problem; a person filling in an application wants every
problem at once, each under its field, in Chinese and English. So when msgspec refuses a body,
`problems` walks the same declaration (msgspec.inspect) over the data and lists them all in the
shared wording of app/domain/refusals.py. A field's Meta may carry `extra={"refusal": text}`:
the words for any problem of that field itself (its items are checked on their own).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from msgspec import inspect

from app.domain import refusals
from app.domain.errors import ValidationError

T = TypeVar("T", bound=msgspec.Struct)
Problems = list[tuple[str, str]]
_MSGSPEC_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def decode(model: type[T], data: Mapping[str, Any]) -> T:
    """`data` (a parsed JSON object) as `model`, or ValidationError naming every problem."""
    try:
        return msgspec.convert(data, model)
    except msgspec.ValidationError as error:
        raise ValidationError(problems(model, data) or [_from_msgspec(str(error))]) from None


def _from_msgspec(text: str) -> tuple[str, str]:
    """A problem the walk below did not foresee, in msgspec's own English words."""
    match = _MSGSPEC_PATH.search(text)
    field = (match.group("path").lstrip(".") if match else "") or "body"
    detail = _MSGSPEC_PATH.sub("", text)
    return field, f"内容不符合要求。 / Is not valid: {detail}."


def problems(model: type[msgspec.Struct], data: object) -> Problems:
    found: Problems = []
    _check(inspect.type_info(model), data, "", found, None)
    return found


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _check(kind: inspect.Type, value: object, at: str, found: Problems, words: str | None) -> None:
    def fail(text: str) -> None:
        found.append((at or "body", words or text))

    if isinstance(kind, inspect.Metadata):
        extra = kind.extra or {}
        _check(kind.type, value, at, found, extra.get("refusal", words))
    elif isinstance(kind, inspect.UnionType):
        _union(kind, value, at, found, words)
    elif isinstance(kind, inspect.StructType):
        _struct(kind, value, at, found, words)
    elif isinstance(kind, inspect.StrType):
        _text(kind, value, fail)
    elif isinstance(kind, inspect.BoolType):
        if not isinstance(value, bool):
            fail(refusals.NOT_BOOL)
    elif isinstance(kind, inspect.IntType):
        _whole(kind, value, fail)
    elif isinstance(kind, inspect.EnumType | inspect.LiteralType):
        allowed = _allowed(kind)
        if value not in allowed:
            fail(refusals.one_of(str(a) for a in allowed))
    elif isinstance(kind, inspect.ListType):
        _list(kind, value, at, found, fail)
    elif isinstance(kind, inspect.DictType):
        _dict(kind, value, at, found, fail)
    elif isinstance(kind, inspect.DateType):
        if not isinstance(value, str):
            fail(refusals.DATE_REQUIRED)
        elif not _converts(value, dt.date):
            fail(refusals.NOT_A_DATE)
    elif isinstance(kind, inspect.DateTimeType):
        if not isinstance(value, str) or not _converts(value, dt.datetime):
            fail(refusals.NOT_A_DATE_TIME)
        elif kind.tz and msgspec.convert(value, dt.datetime).tzinfo is None:
            fail(refusals.NEEDS_OFFSET)
    elif isinstance(kind, inspect.NoneType) and value is not None:
        fail(refusals.MUST_BE_NULL)


def _converts(value: str, kind: type[object]) -> bool:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True


def _allowed(kind: inspect.EnumType | inspect.LiteralType) -> list[object]:
    if isinstance(kind, inspect.EnumType):
        return [member.value for member in kind.cls]
    return list(kind.values)


def _union(
    kind: inspect.UnionType, value: object, at: str, found: Problems, words: str | None
) -> None:
    options = [t for t in kind.types if not isinstance(t, inspect.NoneType)]
    if value is None and len(options) < len(kind.types):
        return
    tagged = [t for t in options if isinstance(t, inspect.StructType) and t.tag_field]
    if tagged and len(tagged) == len(options):
        _tagged(tagged, value, at, found, words)
    elif len(options) == 1:
        _check(options[0], value, at, found, words)
    else:
        trials = [problems_of(option, value) for option in options]
        if all(trials):
            found.extend(sorted(trials, key=len)[0])


def problems_of(kind: inspect.Type, value: object) -> Problems:
    found: Problems = []
    _check(kind, value, "", found, None)
    return found


def _tagged(
    options: list[inspect.StructType], value: object, at: str, found: Problems, words: str | None
) -> None:
    """A union of structs told apart by a tag field (an applicant's `kind`)."""
    if not isinstance(value, Mapping):
        found.append((at or "body", words or refusals.NOT_OBJECT))
        return
    field = options[0].tag_field or ""
    chosen = next((o for o in options if value.get(field) == o.tag), None)
    if chosen is None:
        found.append((_join(at, field), refusals.one_of(str(o.tag) for o in options)))
        return
    _struct(chosen, value, at, found, words)


def _struct(
    kind: inspect.StructType, value: object, at: str, found: Problems, words: str | None
) -> None:
    if not isinstance(value, Mapping):
        found.append((at or "body", words or refusals.NOT_OBJECT))
        return
    known = {f.encode_name for f in kind.fields}
    if kind.tag_field:
        known.add(kind.tag_field)
    for field in kind.fields:
        where = _join(at, field.encode_name)
        if field.encode_name not in value:
            if field.required:
                found.append((where, _words_of(field.type) or refusals.REQUIRED))
            continue
        _check(field.type, value[field.encode_name], where, found, None)
    if kind.forbid_unknown_fields:
        for key in value:
            if key not in known:
                found.append((_join(at, str(key)), refusals.UNKNOWN_FIELD))


def _words_of(kind: inspect.Type) -> str | None:
    """A field's own refusal also says that it is missing (the CPL 205 words for applicants)."""
    if isinstance(kind, inspect.Metadata):
        return (kind.extra or {}).get("refusal")
    return None


def _text(kind: inspect.StrType, value: object, fail: Any) -> None:
    if not isinstance(value, str):
        fail(refusals.NOT_TEXT)
    elif kind.min_length and not value.strip():
        fail(refusals.REQUIRED)
    elif kind.min_length and len(value) < kind.min_length:
        fail(refusals.too_short(kind.min_length))
    elif kind.max_length is not None and len(value) > kind.max_length:
        fail(refusals.too_long(kind.max_length))
    elif kind.pattern and not re.search(kind.pattern, value):
        # Required text is declared with the pattern \S: blank is missing.
        fail(refusals.REQUIRED if kind.pattern == refusals.NOT_BLANK else refusals.BAD_FORMAT)


def _whole(kind: inspect.IntType, value: object, fail: Any) -> None:
    if type(value) is not int:
        fail(refusals.NOT_WHOLE)
    elif (kind.ge is not None and value < kind.ge) or (kind.le is not None and value > kind.le):
        fail(refusals.between(kind.ge, kind.le))


def _list(kind: inspect.ListType, value: object, at: str, found: Problems, fail: Any) -> None:
    if not isinstance(value, list):
        fail(refusals.NOT_LIST)
        return
    if (kind.min_length and len(value) < kind.min_length) or (
        kind.max_length is not None and len(value) > kind.max_length
    ):
        fail(refusals.items_between(kind.min_length or 0, kind.max_length))
    # Past the limit nothing more is read: a huge list costs one refusal, not one per item.
    for i, item in enumerate(value[: kind.max_length]):
        _check(kind.item_type, item, f"{at}[{i}]", found, None)


def _dict(kind: inspect.DictType, value: object, at: str, found: Problems, fail: Any) -> None:
    if not isinstance(value, Mapping):
        fail(refusals.NOT_OBJECT)
        return
    if (kind.min_length and len(value) < kind.min_length) or (
        kind.max_length is not None and len(value) > kind.max_length
    ):
        fail(refusals.items_between(kind.min_length or 0, kind.max_length))
    for key, item in value.items():
        where = _join(at, str(key))
        key_problems = problems_of(kind.key_type, key)
        if key_problems:
            found.extend((where, text) for _, text in key_problems)
            continue
        _check(kind.value_type, item, where, found, None)
