"""The block markup that ruling templates render to, and its parser. Pure.

A rendered template is plain text. A line `@kind rest` opens a block of that kind; the
following lines, up to the next marker, continue it and are joined without a separator
(Chinese has no spaces between words, so a template may wrap a long sentence freely).
Blank lines and lines starting with `#` are ignored. Kinds:

  court      court name, centred, large
  title      document title (民事裁定书), centred, large, spaced out
  right      right-aligned line (the case number)
  para       body paragraph, first line indented two characters, justified
  plain      body paragraph without indent
  field      a table row `label|value` (the voucher)
  sign       signature line `role|name` (审判员|张三)
  autograph  handwritten signature `label|key` (甲方（签名）|party-1): the label, then the
             signature image supplied at render time under key (ASCII letters, digits, . _ -)
  date       the signature date; the court seal is drawn over it
  note       a boxed remark (本件与原本核对无异)
  qr         `caption|url`: vector QR code of url, with the caption and the url beside it
  gap        an empty line of vertical space
  footer     page footer, a format string with {page} and {pages} (第 {page} 页 共 {pages} 页)
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal, cast

from app.ruling.errors import TemplateError

BlockKind = Literal[
    "court",
    "title",
    "right",
    "para",
    "plain",
    "field",
    "sign",
    "autograph",
    "date",
    "note",
    "qr",
    "gap",
    "footer",
]
KINDS: frozenset[str] = frozenset(BlockKind.__args__)  # type: ignore[attr-defined]
_SPLIT_KINDS = {
    "field": "label|value",
    "sign": "role|name",
    "autograph": "label|key",
    "qr": "caption|url",
}
# An image key is looked up in a mapping the caller builds. A key holding CJK text, spaces or
# a second | is a continuation line or a stray separator run into it: caught at parse time
# rather than reported as a missing image at render time.
_IMAGE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_EMPTY_KINDS = {"gap"}


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str
    line: int  # where the block starts in the rendered template, for error messages

    def parts(self) -> tuple[str, str]:
        """The two halves of a field, sign, autograph or qr block."""
        left, _, right = self.text.partition("|")
        return left.strip(), right.strip()


@dataclass(frozen=True, slots=True)
class Document:
    blocks: tuple[Block, ...]
    footer: str | None

    def first(self, kind: BlockKind) -> Block | None:
        return next((b for b in self.blocks if b.kind == kind), None)


def parse_blocks(text: str, template: str) -> Document:
    """Parse rendered template text into blocks, checking each block's shape."""
    raw: list[tuple[str, list[str], int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("@"):
            kind, _, rest = stripped[1:].partition(" ")
            if kind not in KINDS:
                raise TemplateError(template, f"unknown block kind @{kind}", lineno)
            raw.append((kind, [rest.strip()] if rest.strip() else [], lineno))
        elif not raw:
            raise TemplateError(template, "text before the first @block marker", lineno)
        else:
            raw[-1][1].append(stripped)

    blocks: list[Block] = []
    footer: str | None = None
    for kind, pieces, lineno in raw:
        body = "".join(pieces)
        if kind in _EMPTY_KINDS:
            if body:
                raise TemplateError(template, f"@{kind} takes no text", lineno)
        elif not body:
            raise TemplateError(template, f"@{kind} has no text", lineno)
        if kind in _SPLIT_KINDS:
            left, sep, right = body.partition("|")
            if not sep or not left.strip() or not right.strip():
                raise TemplateError(template, f"@{kind} must be {_SPLIT_KINDS[kind]}", lineno)
            key = right.strip()
            if kind == "autograph" and not _IMAGE_KEY.fullmatch(key):
                reason = f"@autograph key must be 1-64 ASCII letters, digits, . _ -: {key!r}"
                raise TemplateError(template, reason, lineno)
        if kind == "footer":
            _check_footer(body, template, lineno)
            footer = body
            continue
        blocks.append(Block(cast(BlockKind, kind), body, lineno))
    return Document(tuple(blocks), footer)


def _check_footer(fmt: str, template: str, line: int) -> None:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None}
        if not names <= {"page", "pages"}:
            raise TemplateError(
                template, f"@footer may use only {{page}} and {{pages}}: {fmt}", line
            )
        fmt.format(page=1, pages=1)
    except (ValueError, KeyError, IndexError) as e:
        raise TemplateError(template, f"bad @footer format {fmt!r}: {e}", line) from e
