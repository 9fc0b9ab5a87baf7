"""One-time codes sent by SMS, proving that whoever files holds the phone. Pure.

Six digits, ten minutes, five tries; a new code for the same phone and purpose at most once a
minute. Only a keyed hash of the code is stored; comparing hashes takes the same time whatever
the guess.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass

from app.domain.errors import DomainError, TooManyAttempts

DIGITS = 6
LIFETIME = dt.timedelta(minutes=10)
MAX_TRIES = 5
RESEND_AFTER = dt.timedelta(seconds=60)


def new_code(random_below: int) -> str:
    """The code for a random number below 10**DIGITS (the caller draws it with `secrets`)."""
    if not 0 <= random_below < 10**DIGITS:
        raise ValueError("a code is drawn below 10**DIGITS")
    return f"{random_below:0{DIGITS}d}"


def code_hash(secret: bytes, phone: str, purpose: str, code: str) -> str:
    message = f"{purpose}\0{phone}\0{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sms_text(code: str, doing: str = "申请人民调解") -> str:
    """The text message; `doing` says what the code is for (申请人民调解, 签署人民调解协议), so
    a code asked for by someone else is recognised as such."""
    minutes = LIFETIME // dt.timedelta(minutes=1)
    return (
        f"【在线司法确认平台】您{doing}的验证码为{code}，{minutes}分钟内有效。"
        "如非本人操作，请忽略本短信。"
    )


class CodeRefused(DomainError):
    code = "code_refused"


@dataclass(frozen=True)
class Issued:
    """What the newest code of a phone and purpose is now."""

    created_at: dt.datetime
    expires_at: dt.datetime
    tries: int
    used: bool
    hash: str


def may_send(last: Issued | None, now: dt.datetime) -> None:
    """Another code for the phone, or 429 with the seconds to wait."""
    if last is not None and now < last.created_at + RESEND_AFTER:
        wait = math.ceil((last.created_at + RESEND_AFTER - now).total_seconds())
        raise TooManyAttempts(
            f"验证码已发送，请 {wait} 秒后再获取。 / A code was just sent: ask again in {wait} s.",
            retry_after=wait,
        )


def check(last: Issued | None, guess_hash: str, now: dt.datetime) -> None:
    """Passes when the guess is the newest live code; else says why, the same for a wrong
    code as for none (a guess learns nothing about whether a code was ever sent)."""
    wrong = CodeRefused(
        "验证码不正确或已失效，请重新获取。"
        " / The code is wrong or no longer valid: ask for a new one."
    )
    if last is None or last.used or now >= last.expires_at:
        raise wrong
    if last.tries >= MAX_TRIES:
        raise CodeRefused(
            "验证码输入错误次数过多，请重新获取。 / Too many wrong tries: ask for a new code."
        )
    if not hmac.compare_digest(last.hash, guess_hash):
        raise wrong
