"""RMB amounts in capitals (人民币大写) and in figures: known cases from the People's Bank's
rule, refusals, and a property test that an independent reader reads every output back."""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.amount_words import amount_figures, amount_in_words
from app.ruling.templates import CONFIRMATION, TemplateSet

# (figures, capitals). The ¥ examples are the rule's own (《正确填写票据和结算凭证的基本规定》),
# in the first of the forms it allows where it allows two.
KNOWN = [
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("0.05", "伍分"),
    ("0.50", "伍角"),
    ("0.55", "伍角伍分"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("10.50", "壹拾元零伍角"),
    ("15", "壹拾伍元整"),
    ("100.05", "壹佰元零伍分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("1005", "壹仟零伍元整"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("1681.32", "壹仟陆佰捌拾壹元叁角贰分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("10000", "壹万元整"),
    ("10001", "壹万零壹元整"),
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("35000", "叁万伍仟元整"),
    ("100000", "壹拾万元整"),
    ("101250", "壹拾万壹仟贰佰伍拾元整"),
    ("107000.53", "壹拾万柒仟元零伍角叁分"),
    ("110000", "壹拾壹万元整"),
    ("1000100", "壹佰万零壹佰元整"),
    ("1000010", "壹佰万零壹拾元整"),
    ("10010000", "壹仟零壹万元整"),
    ("10001000", "壹仟万壹仟元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("100001000", "壹亿零壹仟元整"),
    ("100010000", "壹亿零壹万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("1000000000", "壹拾亿元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    # The value counts, not how it is spelt.
    ("1.500", "壹元伍角"),
    ("1E+3", "壹仟元整"),
    ("-0", "零元整"),
]


@pytest.mark.parametrize(("figures", "words"), KNOWN)
def test_known_amounts(figures: str, words: str) -> None:
    assert amount_in_words(Decimal(figures)) == words
    assert read_back(words) == Decimal(figures)


@pytest.mark.parametrize(
    ("figures", "printed"),
    [
        ("0", "0.00元"),
        ("0.5", "0.50元"),
        ("999", "999.00元"),
        ("1000", "1,000.00元"),
        ("12345.67", "12,345.67元"),
        ("35000", "35,000.00元"),
        ("1E+3", "1,000.00元"),
        ("999999999999.99", "999,999,999,999.99元"),
    ],
)
def test_figures(figures: str, printed: str) -> None:
    assert amount_figures(Decimal(figures)) == printed


REFUSED = [
    ("-0.01", "负数"),
    ("-1", "negative"),
    ("1.005", "两位小数"),
    ("0.001", "decimal places"),
    ("1.0000000000000000000000000000001", "decimal places"),  # beyond the context's precision
    ("NaN", "有限数"),
    ("sNaN", "finite"),
    ("Infinity", "finite"),
    ("-Infinity", "finite"),
    ("1000000000000", "一万亿"),
    ("1E+12", "below"),
    ("999999999999.995", "decimal places"),
]


@pytest.mark.parametrize(("figures", "says"), REFUSED)
def test_refusals(figures: str, says: str) -> None:
    for convert in (amount_in_words, amount_figures):
        with pytest.raises(ValueError, match=says) as info:
            convert(Decimal(figures))
        chinese, _, english = str(info.value).partition(" / ")
        assert re.search(r"[\u4e00-\u9fff]", chinese), "the message opens in Chinese"
        assert english and english.isascii(), "then in English"


@pytest.mark.parametrize("value", [1.5, 10, True, "10"])
def test_only_decimals_are_taken(value: object) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        amount_in_words(value)  # type: ignore[arg-type]


def test_template_filters() -> None:
    filters = TemplateSet()._templates[CONFIRMATION].environment.filters
    assert filters["cn_amount"] is amount_in_words
    assert filters["amount"] is amount_figures


# An independent reader of the capitals, written from the convention's statement rather than
# from the code: it demands a 零 exactly where the convention writes one, so an output with a
# missing or doubled 零 fails here even where its digits alone would give the right value.
_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖") if i}
_PLACE = {"拾": 1, "佰": 2, "仟": 3}
_GROUP = {"亿": 8, "万": 4}
_FRACTION = re.compile(r"(整)?(零)?(?:([壹贰叁肆伍陆柒捌玖])角)?(?:([壹贰叁肆伍陆柒捌玖])分)?")


def read_back(words: str) -> Decimal:
    if words == "零元整":
        return Decimal(0)
    head, mark, tail = words.partition("元")
    if not mark:
        head, tail = "", words
    assert not mark or head, "元 with no yuan before it"
    yuan, last_place = _read_integer(head) if head else (0, 0)
    m = _FRACTION.fullmatch(tail)
    assert m, f"unreadable after 元: {tail!r}"
    whole, zero, jiao_c, fen_c = m.groups()
    jiao = _DIGIT[jiao_c] if jiao_c else 0
    fen = _DIGIT[fen_c] if fen_c else 0
    if whole:
        assert yuan and not (zero or jiao or fen), "整 only straight after 元"
    else:
        assert jiao or fen, "an amount in whole yuan ends in 整"
    # One 零 after 元 when a zero digit (the 元 place or the 角) parts yuan from the fraction.
    parted = bool(yuan) and not whole and (last_place > 0 or jiao == 0)
    assert bool(zero) == parted, f"零 after 元 {'missing' if parted else 'not expected'}"
    return Decimal(yuan * 100 + jiao * 10 + fen).scaleb(-2)


def _read_integer(text: str) -> tuple[int, int]:
    """The value and the place of its lowest non-zero digit."""
    placed: list[tuple[int, int, bool]] = []  # (digit, place, written after a 零)
    section: list[tuple[int, int, bool]] = []
    groups_left = ["亿", "万"]
    zero = False
    i = 0
    while i < len(text):
        c = text[i]
        i += 1
        if c == "零":
            assert not zero, "doubled 零"
            assert placed or section, "leading 零"
            zero = True
        elif c in _GROUP:
            assert section and not zero, f"{c} after nothing or after 零"
            assert c in groups_left, f"{c} out of order"
            groups_left = groups_left[groups_left.index(c) + 1 :]
            placed += [(d, p + _GROUP[c], z) for d, p, z in section]
            section = []
        else:
            assert c in _DIGIT, f"not a capital digit: {c!r}"
            place = 0
            if i < len(text) and text[i] in _PLACE:
                place = _PLACE[text[i]]
                i += 1
            section.append((_DIGIT[c], place, zero))
            zero = False
    assert not zero, "trailing 零"
    placed += section
    assert placed and not placed[0][2]
    for (_, high, _), (_, low, zero_before) in pairwise(placed):
        assert low < high, "places out of order"
        # Within a group, any skipped place is a gap; into a lower group, a gap unless that
        # group starts at its 仟 right below.
        into_lower = high // 4 != low // 4
        gap = (low % 4 != 3 or high // 4 - low // 4 > 1) if into_lower else high - low > 1
        assert zero_before == gap, f"零 {'missing' if gap else 'not expected'} in {text}"
    return sum(d * 10**p for d, p, _ in placed), placed[-1][1]


@pytest.mark.parametrize(
    "words",
    [
        "壹仟伍元整",  # 1005 without its 零
        "壹仟零零伍元整",
        "壹拾万零壹仟元整",  # the convention writes no 零 for the 万 place here
        "壹佰万壹佰元整",  # 1000100 without its 零
        "壹亿壹仟元整",  # 100001000 without its 零
        "壹佰元伍分",  # ¥100.05 without its 零
        "壹仟陆佰捌拾元叁角贰分",  # the other form the rule allows; not ours
        "壹元伍角整",
        "壹元伍分整",
        "拾元整",
        "壹仟零万元整",
        "零伍分",
    ],
)
def test_the_reader_refuses_misplaced_zeros(words: str) -> None:
    with pytest.raises(AssertionError):
        read_back(words)


MAX_CENTS = 99_999_999_999_999
# Uniform integers rarely hold long runs of zeros, which is where 零 goes wrong: also draw
# digit strings that are mostly zeros.
sparse = st.lists(st.sampled_from("0000000123456789"), min_size=1, max_size=14).map(
    lambda ds: int("".join(ds))
)


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, MAX_CENTS) | sparse)
def test_every_amount_reads_back(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    assert read_back(amount_in_words(amount)) == amount
    printed = amount_figures(amount)
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}元", printed)
    assert Decimal(printed.removesuffix("元").replace(",", "")) == amount
