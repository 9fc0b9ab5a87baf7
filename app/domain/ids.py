"""Record ids and positions as they arrive in paths, forms and JSON. Pure.

Only the canonical form names a record: ASCII digits without sign, space or leading zero
(`+29`, `%2029` and a full-width `２９` would otherwise all reach case 29), within the range of
an INTEGER key, so a larger number names nothing rather than overflowing in the database.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1
_MAX_DIGITS = len(str(MAX_ID))


def _whole(value: object, lowest: int) -> int | None:
    if isinstance(value, str):
        if not (value.isascii() and value.isdecimal()) or len(value) > _MAX_DIGITS:
            return None
        if value.startswith("0") and value != "0":
            return None
        value = int(value)
    if type(value) is not int or not lowest <= value <= MAX_ID:
        return None
    return value


def parse_id(value: object) -> int | None:
    """The id `value` names (a JSON integer or a canonical decimal string), or None."""
    return _whole(value, 1)


def parse_position(value: object) -> int | None:
    """A position in a list (a party's, counted from 0), or None."""
    return _whole(value, 0)
