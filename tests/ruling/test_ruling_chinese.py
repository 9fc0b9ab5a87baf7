"""Chinese numerals, dates and line breaking: pure unit tests."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from app.ruling.chinese import (
    CLOSING,
    OPENING,
    arabic_date,
    beijing_datetime,
    break_lines,
    chinese_date,
    chinese_numeral,
    ordinal_term,
)


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2026, 11, 27), "二〇二六年十一月二十七日"),
        (date(2020, 10, 10), "二〇二〇年十月十日"),
        (date(2026, 1, 31), "二〇二六年一月三十一日"),
        (date(2000, 12, 1), "二〇〇〇年十二月一日"),
        (date(2019, 2, 20), "二〇一九年二月二十日"),
        (date(2031, 3, 30), "二〇三一年三月三十日"),
    ],
)
def test_chinese_date(d: date, text: str) -> None:
    assert chinese_date(d) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "一"), (9, "九"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"),
        (21, "二十一"), (99, "九十九"), (100, "一百"), (101, "一百零一"), (110, "一百一十"),
        (205, "二百零五"), (206, "二百零六"), (358, "三百五十八"), (1000, "一千"),
        (1001, "一千零一"), (1010, "一千零一十"), (2026, "二千零二十六"),
    ],
)  # fmt: skip
def test_chinese_numeral(n: int, text: str) -> None:
    assert chinese_numeral(n) == text


def test_ordinal_terms_count_on_past_ten() -> None:
    assert [ordinal_term(n) for n in range(1, 13)] == [
        "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
    ]  # fmt: skip


@pytest.mark.parametrize("n", [0, -1, 10000])
def test_chinese_numeral_rejects_out_of_range(n: int) -> None:
    with pytest.raises(ValueError):
        chinese_numeral(n)


def test_arabic_and_beijing_dates() -> None:
    assert arabic_date(date(2026, 3, 2)) == "2026年3月2日"
    # 18:30 UTC is 02:30 the next day in Beijing.
    assert beijing_datetime(datetime(2026, 11, 26, 18, 30, 5, tzinfo=UTC)) == (
        "2026年11月27日02时30分05秒"
    )
    with pytest.raises(ValueError):
        beijing_datetime(datetime(2026, 11, 26, 18, 30))


# -- line breaking ---------------------------------------------------------------------------


def width(text: str) -> float:
    """A monospace model: CJK and full-width marks 1.0, ASCII 0.5 (like a Song font)."""
    return sum(0.5 if ord(ch) < 128 else 1.0 for ch in text)


def check(lines: list[str], text: str, max_width: float) -> None:
    assert "".join(lines) == text.replace(" ", "") or " " in text
    for n, line in enumerate(lines):
        assert line, "no empty lines"
        if n > 0:
            assert line[0] not in CLOSING, f"line {n} starts with {line[0]!r}: {lines}"
        if n < len(lines) - 1:
            assert line[-1] not in OPENING, f"line {n} ends with {line[-1]!r}: {lines}"
        # A hung mark may stick out by at most one or two punctuation marks.
        assert width(line.rstrip("".join(CLOSING))) <= max_width + 1e-9


def test_short_text_is_one_line() -> None:
    assert break_lines("申请人张三", width, 10) == ["申请人张三"]


def test_comma_that_would_start_a_line_pulls_a_character_down() -> None:
    text = "一二三四五，六七八"
    # A naive break after 5 characters would put "，" first on line two.
    assert break_lines(text, width, 5) == ["一二三四", "五，六七八"]


def test_stop_and_closing_bracket_together() -> None:
    text = "一二三（四五）。六七八九"
    lines = break_lines(text, width, 6)
    check(lines, text, 6)
    # "）" and "。" may not start line two: "五" comes down with them.
    assert lines[:2] == ["一二三（四", "五）。六七八"]


def test_opening_bracket_never_ends_a_line() -> None:
    text = "一二三四（五六七八）"
    lines = break_lines(text, width, 5)
    assert lines == ["一二三四", "（五六七", "八）"]


def test_opening_quote_never_ends_a_line() -> None:
    lines = break_lines("一二三四“五六”七八", width, 5)
    assert lines[0] == "一二三四"
    assert lines[1].startswith("“")


def test_many_closing_marks_hang_instead_of_emptying_a_line() -> None:
    text = "一二三四五。」』）六七"
    lines = break_lines(text, width, 5)
    check(lines, text, 5)
    assert lines[0].startswith("一二")


def test_ascii_runs_are_kept_whole() -> None:
    text = "公民身份号码440311198503021234。"
    lines = break_lines(text, width, 12)
    check(lines, text, 12)
    assert "440311198503021234" in lines[1]


def test_a_run_longer_than_a_line_is_split() -> None:
    url = "https://example.cn/" + "a" * 60
    lines = break_lines(url, width, 10)
    assert "".join(lines) == url
    assert all(width(line) <= 10 for line in lines)


def test_first_line_width_for_an_indent() -> None:
    lines = break_lines("一二三四五六七八九十", width, 5, first_width=3)
    assert lines == ["一二三", "四五六七八", "九十"]


def test_spaces_at_a_break_are_dropped() -> None:
    lines = break_lines("abcd efgh ijkl", width, 2.5)
    assert lines == ["abcd", "efgh", "ijkl"]


def test_dashes_and_ellipses_stay_together() -> None:
    lines = break_lines("一二三四——五六", width, 5)
    assert "——" in "".join(lines)
    assert not any(line.endswith("—") and not line.endswith("——") for line in lines)


@pytest.mark.parametrize("seed", range(40))
def test_random_text_obeys_the_rules(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = (
        "申请人张三李四调解协议于年月日支付元" * 3
        + "，。、；：？！）」》”"
        + "（「《“"
        + "0123456789"
    )
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 300)))
    max_width = rng.choice([5, 8, 13, 27])
    lines = break_lines(text, width, max_width)
    assert "".join(lines) == text
    for n, line in enumerate(lines):
        if n > 0:
            assert line[0] not in CLOSING, (n, lines)
        if n < len(lines) - 1:
            assert line[-1] not in OPENING, (n, lines)


def test_width_must_be_positive() -> None:
    with pytest.raises(ValueError):
        break_lines("一", width, 0)
