"""One-time codes (app/domain/one_time_code.py) and masked phone numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from app.domain import one_time_code as rules
from app.domain.errors import TooManyAttempts
from app.domain.people import mask_phone

NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
SECRET = b"k" * 32


def issued(code: str = "012345", *, at: dt.datetime = NOW, tries: int = 0) -> rules.Issued:
    digest = rules.code_hash(SECRET, "13800000001", "filing", code)
    return rules.Issued(at, at + rules.LIFETIME, tries, False, digest)


def guess(code: str) -> str:
    return rules.code_hash(SECRET, "13800000001", "filing", code)


def test_codes_are_six_digits_with_leading_zeros() -> None:
    assert rules.new_code(42) == "000042"
    with pytest.raises(ValueError):
        rules.new_code(10**6)
    assert "000042" in rules.sms_text("000042") and "10分钟" in rules.sms_text("000042")


def test_the_hash_binds_the_code_to_its_phone_and_purpose() -> None:
    one = rules.code_hash(SECRET, "13800000001", "filing", "123456")
    assert one != rules.code_hash(SECRET, "13800000002", "filing", "123456")
    assert one != rules.code_hash(SECRET, "13800000001", "other", "123456")
    assert one != rules.code_hash(b"j" * 32, "13800000001", "filing", "123456")


def test_a_code_passes_once_within_its_life_and_tries() -> None:
    rules.check(issued(), guess("012345"), NOW + dt.timedelta(minutes=9))
    for refused in (
        (issued(), guess("012346"), NOW),
        (issued(), guess("012345"), NOW + rules.LIFETIME),
        (issued(tries=rules.MAX_TRIES), guess("012345"), NOW),
        (None, guess("012345"), NOW),
    ):
        with pytest.raises(rules.CodeRefused):
            rules.check(*refused)


def test_one_code_a_minute() -> None:
    with pytest.raises(TooManyAttempts) as wait:
        rules.may_send(issued(), NOW + dt.timedelta(seconds=20))
    assert wait.value.retry_after == 40
    rules.may_send(issued(), NOW + rules.RESEND_AFTER)
    rules.may_send(None, NOW)


def test_phones_are_masked_for_logs_and_screens() -> None:
    assert mask_phone("13800000001") == "138****0001"
    assert mask_phone("+86 138-0000-0001") == "+86*******0001"
    assert mask_phone("12345") == "***45"
