"""What text the system accepts from outside. Pure.

A lone surrogate cannot be encoded to UTF-8, so it would fail later, deep inside a database
driver, the audit log or a socket write; a NUL or another control character cannot be stored
by PostgreSQL or printed in a ruling. Both are refused where the text comes in.
"""

from __future__ import annotations

import re

# Tab, line feed and carriage return are kept: agreements' terms and notes span lines.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unsafe_text(text: str) -> bool:
    """True when `text` holds a control character or a lone surrogate."""
    return _UNSAFE.search(text) is not None


UNSAFE_TEXT_MESSAGE = (
    "文本中含有控制字符或无效字符。 / The text contains a control character or an invalid "
    "character."
)
