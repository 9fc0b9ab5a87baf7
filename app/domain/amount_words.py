"""Sums of money as a mediation agreement prints them: in capitals (人民币大写) and in figures.
Pure.

The convention is the People's Bank of China's 《正确填写票据和结算凭证的基本规定》 (annex 1
to 《支付结算办法》, 银发〔1997〕393号), which courts and financial papers follow:

- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within the 万 and 亿 groups, then 元角分; a
  leading one keeps its 壹 (壹拾元, 壹拾万), unlike spoken 十;
- 整 after 元 when there are neither 角 nor 分 (壹仟元整); nothing after 角 or 分. The rule
  says 整 "may be left out" after 角, and its own example writes ¥1,409.50 as 壹仟肆佰零玖元伍角,
  so we follow the example;
- one 零 wherever the amount is read with a gap, however many zero digits make it:
  between non-zero digits of a group (1005 → 壹仟零伍元整, 10010000 → 壹仟零壹万元整), before a
  group that does not start at its 仟 (1000100 → 壹佰万零壹佰元整), across a group that is all
  zeros (100001000 → 壹亿零壹仟元整), and between 元 and 分 when 角 is zero (¥325.04 → 叁佰
  贰拾伍元零肆分, which the rule requires) or when the 元 place is zero (1680.32 → 壹仟陆佰
  捌拾元零叁角贰分). For a zero in the 万 place before a non-zero 仟 no 零 is written
  (101250 → 壹拾万壹仟贰佰伍拾元整). The rule allows a 零 or none in both of these last two
  cases; we write what its first-listed examples write: ¥1,680.32 → 壹仟陆佰捌拾元零叁角贰分
  and ¥107,000.53 → 壹拾万柒仟元零伍角叁分;
- an amount under one yuan has no 元 part (0.50 → 伍角, 0.05 → 伍分); zero is 零元整.

The words carry no 人民币 prefix: the template writes it (人民币35,000元（大写：叁万伍仟元整）).
"""

from __future__ import annotations

from decimal import Decimal

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("亿", "万", "")
_CENT = Decimal("0.01")
# 万亿 and above would need a fourth group that no agreement between parties calls for.
LIMIT = Decimal(10) ** 12


def amount_in_words(amount: Decimal) -> str:
    """The amount in RMB capitals: Decimal("35000") → 叁万伍仟元整."""
    cents = _cents(amount)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if cents == 0:
        return "零元整"
    out = f"{_integer_words(yuan)}元" if yuan else ""
    if jiao == 0 and fen == 0:
        return f"{out}整"
    # A zero between the last digit of the yuan and the first of the fraction is written as
    # one 零: ¥325.04 → 叁佰贰拾伍元零肆分 (required), ¥1,680.32 → 壹仟陆佰捌拾元零叁角贰分.
    if yuan and (jiao == 0 or yuan % 10 == 0):
        out += "零"
    if jiao:
        out += f"{_DIGITS[jiao]}角"
    if fen:
        out += f"{_DIGITS[fen]}分"
    return out


def amount_figures(amount: Decimal) -> str:
    """The figures printed beside the capitals: Decimal("12345.6") → 12,345.60元."""
    cents = _cents(amount)
    return f"{Decimal(cents).scaleb(-2):,.2f}元"


def _cents(amount: Decimal) -> int:
    """The amount in whole cents, or a refusal of anything an agreement cannot state."""
    # Templates are not type-checked: a float would print its binary approximation, so
    # anything but a Decimal is a caller's mistake, refused rather than converted.
    if not isinstance(amount, Decimal):
        raise TypeError(
            f"金额须为 Decimal 类型，而不是 {type(amount).__name__}。"
            f" / An amount must be a Decimal, not {type(amount).__name__}."
        )
    if not amount.is_finite():
        raise ValueError(
            f"金额不是有限数：{amount}。 / The amount is not a finite number: {amount}."
        )
    if amount < 0:
        raise ValueError(f"金额不能为负数：{amount}。 / The amount must not be negative: {amount}.")
    if amount >= LIMIT:
        raise ValueError(
            f"金额须小于一万亿元：{amount}。"
            f" / The amount must be below 1,000,000,000,000: {amount}."
        )
    # By value, not by exponent: Decimal("1.500") states 1.50 exactly and is accepted.
    # (Decimal comparison is exact, unlike arithmetic, which rounds to the context's precision.)
    cents = amount.quantize(_CENT)
    if cents != amount:
        raise ValueError(
            f"金额最多保留两位小数（分）：{amount}。"
            f" / The amount may have at most two decimal places (fen): {amount}."
        )
    return int(cents.scaleb(2))


def _integer_words(n: int) -> str:
    """1 ≤ n < 10**12 in capitals, without 元."""
    groups = (n // 10**8, n // 10**4 % 10**4, n % 10**4)
    out: list[str] = []
    gap = False  # a zero run since the last non-zero digit that has not yet been written
    for value, unit in zip(groups, _GROUPS, strict=True):
        if value == 0:
            gap = bool(out)
            continue
        # A group that does not start at its 仟 leaves a gap after the group above it.
        if out and (gap or value < 1000):
            out.append("零")
        out.append(_group_words(value) + unit)
        gap = False
    return "".join(out)


def _group_words(value: int) -> str:
    """1 ≤ value ≤ 9999 in capitals; the caller writes a 零 before leading zeros."""
    out: list[str] = []
    gap = False
    for place in (3, 2, 1, 0):
        digit = value // 10**place % 10
        if digit == 0:
            gap = bool(out)
            continue
        if gap:
            out.append("零")
            gap = False
        out.append(_DIGITS[digit] + _UNITS[place])
    return "".join(out)
