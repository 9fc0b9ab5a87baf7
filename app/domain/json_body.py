"""The JSON request body: parsed strictly, from bytes, before anything else sees it. Pure.

Nesting is measured on the bytes before `json.loads`, which recurses once per level: 900
levels of `[` would otherwise raise RecursionError there. The parsed value is then walked
without recursion, so no refusal depends on the interpreter's stack.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from app.domain.errors import DomainError
from app.domain.text import UNSAFE_TEXT_MESSAGE, unsafe_text

MAX_DEPTH = 32
MAX_INTEGER = 2**63 - 1  # what a database BIGINT holds; a larger number would overflow there
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPENERS = frozenset(b"[{")


class BadBody(DomainError):
    """A request body that is not the strict JSON object the API takes (400)."""

    code = "bad_json"


def nesting_depth_exceeds(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in `raw` nest deeper than `limit` (brackets inside strings
    do not count). Stops at the first level past the limit."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group()[0] in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _refuse_constant(name: str) -> float:
    raise ValueError(name)


def check_values(data: object) -> None:
    """Refuse text no store or document can hold, and numbers beyond a 64-bit integer."""
    pending: list[object] = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if unsafe_text(value):
                raise BadBody(UNSAFE_TEXT_MESSAGE, code="bad_text")
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                raise BadBody(
                    f"数字超出范围（绝对值至多 {MAX_INTEGER}）。 / A number is out of range "
                    f"(at most {MAX_INTEGER} in magnitude).",
                    code="number_out_of_range",
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise BadBody("数字超出范围。 / A number is out of range.", code="number_out_of_range")


def parse_body(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; an empty body is an empty object (a step with no fields)."""
    if not raw.strip():
        return {}
    if nesting_depth_exceeds(raw):
        raise BadBody(
            f"JSON 嵌套超过 {MAX_DEPTH} 层。 / The JSON nests deeper than {MAX_DEPTH} levels.",
            code="too_deep",
        )
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadBody("请求体不是有效的 JSON。 / The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadBody("请求体须为 JSON 对象。 / The body must be a JSON object.")
    check_values(data)
    return data
