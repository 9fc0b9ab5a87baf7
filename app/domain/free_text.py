"""Free text that people type into records (notes, reasons, corrections). Pure.

Such text is shown on screens and copied into the audit trail and documents, so anything shaped
like a resident ID number is refused in it (PIPL 28), and the audit log never holds one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.domain import refusals
from app.domain.errors import ValidationError

# Letters around the digits mean a hash or a token, not an ID number.
ID_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
NO_ID_NUMBER = "不得填写身份证件号码。 / Must not contain an ID number."


def read_free_text(data: Mapping[str, Any], key: str, limit: int, *, required: bool) -> str:
    """`data[key]` stripped: text of at most `limit` characters with no ID number in it; ""
    when it is left out and not required."""
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError([(key, refusals.NOT_TEXT)])
    value = value.strip()
    if required and not value:
        raise ValidationError([(key, refusals.REQUIRED)])
    if len(value) > limit:
        raise ValidationError([(key, refusals.too_long(limit))])
    if ID_LIKE.search(value):
        raise ValidationError([(key, NO_ID_NUMBER)])
    return value
