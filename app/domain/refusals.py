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
PHONE = "不是有效的电话号码。 / Is not a phone number."
TERM = "须为非空文本。 / Must be non-empty text."
CREDENTIALS = "须填写用户名和密码。 / The user name and password are required."
PASSED_OR_FAILED = "须为 passed 或 failed。 / Must be passed or failed."
REVIEW_ITEMS = "至少填写一项审查事项。 / At least one review item."
JOIN_CODE = "加入码为10位字母或数字。 / The code has 10 characters."
SELF_TEST = "须为对象 {camera, microphone, network}。 / Must be {camera, microphone, network}."
SIGNED_ON = "须填写签收日期（年-月-日）。 / A date, YYYY-MM-DD."
USERNAME = (
    "用户名为 1 至 50 个字母、数字或下划线。 / A user name is 1 to 50 letters, digits or "
    "underscores."
)
RECORD_ID = "须为正整数编号。 / Must be a positive whole-number id."
POSITION = "须为非负整数。 / Must be a whole number from 0."
NOT_WHOLE = "须为整数。 / Must be a whole number."
NOT_A_DATE_TIME = (
    "不是有效的日期时间（ISO 8601，如 2026-12-06T09:30:00+08:00）。"
    " / Is not an ISO 8601 date and time (e.g. 2026-12-06T09:30:00+08:00)."
)
MUST_BE_NULL = "须为 null。 / Must be null."
UNKNOWN_FIELD = "不接受此字段。 / Is not a field of this request."
BAD_FORMAT = "格式不正确。 / Is not in the expected format."
# The pattern a model gives required text: at least one character that is not a space.
NOT_BLANK = r"\S"


def too_long(limit: int) -> str:
    return f"最多 {limit} 个字符。 / At most {limit} characters."


def too_short(limit: int) -> str:
    return f"至少 {limit} 个字符。 / At least {limit} characters."


def one_of(allowed: Iterable[str]) -> str:
    listed = ", ".join(allowed)
    return f"须为以下之一：{listed}。 / Must be one of: {listed}."


def text_up_to(limit: int) -> str:
    return f"须为不超过 {limit} 个字符的文本。 / Must be text of at most {limit} characters."


def between(lowest: int | None, highest: int | None) -> str:
    if highest is None:
        return f"须不小于 {lowest}。 / Must be at least {lowest}."
    if lowest is None:
        return f"须不大于 {highest}。 / Must be at most {highest}."
    return f"须在 {lowest} 至 {highest} 之间。 / Must be from {lowest} to {highest}."


def items_between(lowest: int, highest: int | None) -> str:
    if highest is None:
        return f"须至少有 {lowest} 项。 / Needs at least {lowest} items."
    return f"须有 {lowest} 至 {highest} 项。 / Needs from {lowest} to {highest} items."
