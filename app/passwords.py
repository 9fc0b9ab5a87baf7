"""Password hashing with Argon2id (memory-hard)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# 64 MiB, 3 passes: RFC 9106's second recommended setting, about 60 ms here.
_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# Compared against when the account does not exist, so timing does not reveal which names exist.
_DUMMY = _HASHER.hash("not a real password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
