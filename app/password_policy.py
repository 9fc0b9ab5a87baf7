"""What a new password must be: OWASP ASVS 4.0 level 2, chapter 2.1.

At least 12 characters, any characters (spaces and Chinese included, no composition rules), and
not a common or breached password: zxcvbn estimates how many guesses a password takes against
its lists of passwords leaked in breaches, words and names, with their l33t, reversed and
keyboard-walk variants. Only passwords being chosen are checked; logins never are.
"""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn

MIN_LENGTH = 12  # ASVS 2.1.1
# ASVS 2.1.2 asks that at least 64 be allowed; the bound keeps the estimate and hashing cheap.
MAX_LENGTH = 128
# zxcvbn's score 3: about 10^8 guesses. Below it are the breached passwords and their variants.
MIN_SCORE = 3


def password_problem(password: str, user_inputs: Sequence[str] = ()) -> str | None:
    """Why `password` may not be chosen, or None. `user_inputs`: the account's own names,
    which a password must not merely repeat."""
    if len(password) < MIN_LENGTH:
        return (
            f"密码至少 {MIN_LENGTH} 个字符（可用几个词组成的短语）。 / The password needs at "
            f"least {MIN_LENGTH} characters (a phrase of several words works)."
        )
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符。 / The password has at most {MAX_LENGTH} characters."
    score: int = zxcvbn(password, user_inputs=[text for text in user_inputs if text])["score"]
    if score < MIN_SCORE:
        return (
            "这个密码太常见或太容易猜到（在泄露密码列表中或与之相近），请换一个。"
            " / This password is too common or too easy to guess (it is, or is close to, one "
            "leaked in breaches); choose another."
        )
    return None
