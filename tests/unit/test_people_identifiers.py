"""Resident ID numbers (GB 11643), credit codes (GB 32100) and masking, with real examples."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from app.domain.people import (
    Sex,
    birth_date_from_id,
    credit_code_problem,
    id_number_problem,
    mask_id,
    mask_name,
    normalise_id,
    sex_from_id,
)
from app.services.demo import with_check_digit

# GB 11643-1999's own example and a well-known published one.
REAL_IDS = ["11010519491231002X", "440524188001010014"]
# Tencent (深圳市腾讯计算机系统有限公司) and Huawei (华为技术有限公司).
REAL_CODES = ["91440300708461136T", "914403001922038216"]
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def iso7064_mod11_2(first17: str) -> str:
    """The check character computed the textbook way: sum of d_i * 2^(17-i) mod 11."""
    remainder = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17)) % 11
    return "10X98765432"[remainder]


def gb32100_check(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def test_the_reference_check_functions_agree_with_the_real_examples() -> None:
    for number in REAL_IDS:
        assert iso7064_mod11_2(number[:17]) == number[17]
    for code in REAL_CODES:
        assert gb32100_check(code[:17]) == code[17]


@pytest.mark.parametrize("number", REAL_IDS)
def test_real_id_numbers_are_valid(number: str) -> None:
    assert id_number_problem(number) is None
    assert id_number_problem(number, today=dt.date(2026, 1, 1)) is None


def test_birth_date_and_sex_are_read_from_the_number() -> None:
    assert birth_date_from_id("11010519491231002X") == dt.date(1949, 12, 31)
    assert sex_from_id("11010519491231002X") is Sex.FEMALE  # 17th digit 2: even
    assert birth_date_from_id("440524188001010014") == dt.date(1880, 1, 1)
    assert sex_from_id("440524188001010014") is Sex.MALE  # 17th digit 1: odd


def test_numbers_made_with_the_check_digit_are_valid_and_every_other_check_is_refused() -> None:
    rng = random.Random(11643)
    for _ in range(200):
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(45000))
        first17 = f"{rng.choice(['11', '31', '44', '65'])}{rng.randrange(10**4):04d}"
        first17 += f"{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = with_check_digit(first17)
        assert number[17] == iso7064_mod11_2(first17)
        assert id_number_problem(number, today=dt.date(2026, 1, 1)) is None
        for wrong in "0123456789X".replace(number[17], ""):
            problem = id_number_problem(first17 + wrong)
            assert problem is not None and "Check digit" in problem


def test_any_single_changed_digit_is_refused() -> None:
    number = REAL_IDS[1]
    for i in range(17):
        for digit in "0123456789":
            if digit != number[i]:
                changed = number[:i] + digit + number[i + 1 :]
                assert id_number_problem(changed) is not None, changed


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("11010519491231002" + "5", "Check digit"),  # real number, wrong check digit
        (with_check_digit("11010519990230001"), "does not exist"),  # 30 February 1999
        (with_check_digit("11010519991301001"), "does not exist"),  # month 13
        (with_check_digit("99010519491231002"), "region"),
        (with_check_digit("00010519491231002"), "region"),
        ("1101051949123100X", "17 digits"),  # 17 characters
        ("11010519491231002X0", "17 digits"),  # 19 characters
        ("", "17 digits"),
        ("1101051949123100X2", "17 digits"),  # X not at the end
        ("11010519491231002x", "17 digits"),  # lowercase x is refused until normalised
        (with_check_digit("11010518001231002"), "out of range"),  # born 1800
    ],
)
def test_invalid_id_numbers_say_why(number: str, expected: str) -> None:
    problem = id_number_problem(number)
    assert problem is not None and expected in problem


def test_a_birth_date_in_the_future_is_refused_given_today() -> None:
    number = with_check_digit("44031120300101001")
    assert id_number_problem(number) is None  # without a today nothing says it is the future
    problem = id_number_problem(number, today=dt.date(2026, 1, 1))
    assert problem is not None and "out of range" in problem


def test_a_lowercase_x_is_normalised_to_a_valid_number() -> None:
    assert normalise_id(" 11010519491231002x ") == "11010519491231002X"
    assert id_number_problem(normalise_id("11010519491231002x")) is None


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_are_valid(code: str) -> None:
    assert credit_code_problem(code) is None


@pytest.mark.parametrize("code", REAL_CODES)
def test_any_changed_credit_code_character_is_refused(code: str) -> None:
    for wrong in CREDIT_CHARS.replace(code[17], ""):
        problem = credit_code_problem(code[:17] + wrong)
        assert problem is not None and "Check character" in problem
    for i in range(17):
        for char in CREDIT_CHARS.replace(code[i], ""):
            assert credit_code_problem(code[:i] + char + code[i + 1 :]) is not None


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_letters_outside_gb32100_are_refused(letter: str) -> None:
    first17 = "9144030070846113" + letter
    problem = credit_code_problem(first17 + "0")
    assert problem is not None and "no I, O, S, V, Z" in problem
    tencent = REAL_CODES[0]
    problem = credit_code_problem(tencent[:2] + letter + tencent[3:])
    assert problem is not None and "no I, O, S, V, Z" in problem


@pytest.mark.parametrize(
    "code", ["91440300708461136", "91440300708461136T0", "", "91440300708461136t"]
)
def test_credit_codes_of_the_wrong_shape_are_refused(code: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and "18 characters" in problem


def test_codes_made_with_the_reference_check_are_valid() -> None:
    rng = random.Random(32100)
    for _ in range(200):
        first17 = "91" + "".join(rng.choice(CREDIT_CHARS) for _ in range(15))
        assert credit_code_problem(first17 + gb32100_check(first17)) is None


@pytest.mark.parametrize("number", [*REAL_IDS, with_check_digit("44031119800512123")])
def test_masking_keeps_the_first_and_last_four(number: str) -> None:
    masked = mask_id(number)
    assert masked == number[:4] + "*" * 10 + number[-4:]
    assert len(masked) == 18 and number[4:14] not in masked


def test_masking_the_documented_shape_and_short_values() -> None:
    assert mask_id("440311198001011234") == "4403**********1234"
    assert mask_id("E1234567") == "********"
    assert mask_id("") == ""
    assert mask_id("E12345678") == "E123*5678"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张某"),
        ("赵六", "赵某"),
        ("欧阳娜娜", "欧阳某"),
        ("司马光", "司马某"),
        ("欧阳", "欧某"),
        ("王", "王某"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
