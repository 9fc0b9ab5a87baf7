"""Chinese numerals, dates and line breaking (禁则, kinsoku) for the ruling. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

_DIGITS = "〇一二三四五六七八九"
_UNITS = ("", "十", "百", "千")

# China has had no daylight saving since 1991, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# Must not begin a line (行首禁则): closing brackets and quotes, pause and stop marks.
CLOSING = frozenset("，。、；：？！）」』》】〉〕〗｝］’”…—·～%‰,.;:?!)]}>")
# Must not end a line (行尾禁则): opening brackets and quotes.
OPENING = frozenset("（「『《【〈〔〖｛［‘“([{<")


def chinese_numeral(n: int) -> str:
    """Cardinal in Chinese numerals, 1-9999: 10 → 十, 21 → 二十一, 105 → 一百零五."""
    if not 1 <= n <= 9999:
        raise ValueError(f"chinese_numeral supports 1-9999, not {n}")
    digits = [int(d) for d in str(n)]
    out: list[str] = []
    zero_pending = False
    for pos, d in enumerate(digits):
        unit = _UNITS[len(digits) - 1 - pos]
        if d == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[d] + unit)
    text = "".join(out)
    # 10-19 are read 十, 十一 … not 一十, 一十一 when they stand alone.
    if 10 <= n <= 19:
        text = text[1:]
    return text


def ordinal_term(n: int) -> str:
    """The number of an agreement term or decision item: 1 → 一, 11 → 十一."""
    return chinese_numeral(n)


def chinese_date(d: date) -> str:
    """The signature date of a ruling: 2026-11-27 → 二〇二六年十一月二十七日.

    The year is read digit by digit (二〇二六), month and day as numbers (十一, 二十七)."""
    year = "".join(_DIGITS[int(c)] for c in f"{d.year:04d}")
    return f"{year}年{chinese_numeral(d.month)}月{chinese_numeral(d.day)}日"


def arabic_date(d: date) -> str:
    """Dates in the body of a ruling use Arabic numerals: 2026年11月20日."""
    return f"{d.year}年{d.month}月{d.day}日"


def beijing_datetime(t: datetime) -> str:
    """A moment on a voucher, in Beijing time: 2026年11月27日10时05分09秒."""
    if t.tzinfo is None:
        raise ValueError("beijing_datetime needs a timezone-aware datetime")
    b = t.astimezone(BEIJING)
    return f"{arabic_date(b.date())}{b.hour:02d}时{b.minute:02d}分{b.second:02d}秒"


# Units the breaker never splits (unless one alone is wider than a line): a run of
# non-space ASCII (an ID number, a sum, a URL), a run of ellipsis or dash (…… ——),
# a single space, or any other single character.
_UNIT = re.compile(r"[!-~]+|…+|—+| +|.", re.DOTALL)


def _units(text: str, width_of: Callable[[str], float], max_width: float) -> list[str]:
    units: list[str] = []
    for m in _UNIT.finditer(text):
        u = m.group()
        if len(u) > 1 and width_of(u) > max_width:
            units.extend(u)  # too long for any line: fall back to characters
        else:
            units.append(u)
    return units


def _starts_closing(unit: str) -> bool:
    return unit[0] in CLOSING


def _ends_opening(unit: str) -> bool:
    return unit[-1] in OPENING


def _legal_break(line: list[str], rest_first: str) -> bool:
    return bool(line) and not _ends_opening(line[-1]) and not _starts_closing(rest_first)


# How far back the breaker may push characters onto the next line to satisfy the rules
# (推出). Beyond that it hangs the punctuation in the margin instead (悬挂), as a line
# shortened by many characters would look worse than a slightly long one.
_MAX_PUSH = 3


def break_lines(
    text: str, width_of: Callable[[str], float], max_width: float, first_width: float | None = None
) -> list[str]:
    """Break text into lines no wider than max_width, following Chinese line-breaking rules.

    No line starts with a CLOSING mark and none ends with an OPENING one. width_of measures a
    string in the same unit as max_width. first_width, when given, is the width of the first
    line (a paragraph indent). Breaking may leave a line up to one punctuation mark wider than
    allowed when pushing characters down cannot satisfy the rules; the renderer squeezes it.
    Spaces at a break are dropped; all other characters are kept in order.
    """
    if max_width <= 0:
        raise ValueError("max_width must be positive")
    lines: list[str] = []
    cur: list[str] = []
    cur_w = 0.0

    def limit() -> float:
        return first_width if (first_width is not None and not lines) else max_width

    for u in _units(text, width_of, max_width):
        w = width_of(u)
        if not cur and u.isspace():
            continue  # no leading spaces on a line
        if not cur and lines and _starts_closing(u):
            lines[-1] += u  # a mark after a hung one hangs too
            continue
        if cur_w + w <= limit() + 1e-6 or not cur:
            cur.append(u)
            cur_w += w
            continue
        if u.isspace():
            # A space where the line is full is itself the break.
            lines.append("".join(cur).rstrip(" "))
            cur, cur_w = [], 0.0
            continue
        k = len(cur)
        floor = max(1, len(cur) - _MAX_PUSH)
        while k >= floor and not _legal_break(cur[:k], (cur[k:] or [u])[0]):
            k -= 1
        if k >= floor:
            head, tail = cur[:k], [*cur[k:], u]
        elif _starts_closing(u):
            head, tail = [*cur, u], []  # hang the mark at the end of this line
        else:
            head, tail = cur, [u]
        lines.append("".join(head).rstrip(" "))
        while tail and tail[0].isspace():
            tail.pop(0)
        cur = tail
        cur_w = sum(width_of(t) for t in cur)
    if cur:
        lines.append("".join(cur).rstrip(" "))
    return lines
