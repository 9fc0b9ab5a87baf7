"""The words for what is wrong with a field, "中文 / English" like every refusal. Pure.

Shared by every reader of a request, so one problem reads the same wherever it is found.
"""

from __future__ import annotations

from collections.abc import Iterable

REQUIRED = "必须填写。 / Is required."
NOT_TEXT = "须为文本。 / Must be text."
NOT_BOOL = "须为 true 或 false。 / Must be true or false."
NOT_LIST = "须为列表。 / Must be a list."
NOT_OBJECT = "须为对象。 / Must be an object."
DATE_REQUIRED = "须填写日期（YYYY-MM-DD）。 / A date (YYYY-MM-DD) is required."
NOT_A_DATE = "不是有效的日期（YYYY-MM-DD）。 / Is not a valid date (YYYY-MM-DD)."
NEEDS_OFFSET = "须带时区，如 +08:00。 / Must include a time zone offset, e.g. +08:00."
DECISION = "须为 confirm、reject 或 withdraw。 / Must be confirm, reject or withdraw."
REJECTION_GROUND = (
    "驳回须注明《民诉法解释》第三百五十八条的事由。 / A rejection needs an Interp 358 ground."
)
MISSING_MATERIALS = (
    "请写明缺少哪些材料（不超过 2000 个字符）。"
    " / Say which materials are missing (up to 2000 characters)."
)
PARTY_POSITION = "须为申请人的序号（0、1……）。 / Must be the party's position (0, 1, …)."


def too_long(limit: int) -> str:
    return f"最多 {limit} 个字符。 / At most {limit} characters."


def one_of(allowed: Iterable[str]) -> str:
    listed = ", ".join(allowed)
    return f"须为以下之一：{listed}。 / Must be one of: {listed}."


def text_up_to(limit: int) -> str:
    return f"须为不超过 {limit} 个字符的文本。 / Must be text of at most {limit} characters."
