"""The ruling as a shared screen shows it: the issued text with ID numbers masked. Pure.

The served original prints every applicant's ID number in full. A confirmation room's kiosk
is a shared screen in a public hall (and the hearing camera sees it), so what it shows is a
copy made from the very blocks the original was drawn from at issue time, with each ID number
masked as on every other screen (4403**********1234). It carries no signature: the original
PDF stays the served document, printed or saved from the same page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from app.domain.people import mask_id
from app.ruling.blocks import Document
from app.ruling.model import NaturalPerson, RulingData

# Kinds a screen draws; footers are page furniture and a gap is only paper's white space.
SCREEN_KINDS = frozenset(
    {"court", "title", "right", "para", "plain", "field", "sign", "date", "note", "qr"}
)
SPLIT_KINDS = frozenset({"field", "sign", "qr"})


def hidden_numbers(data: RulingData) -> tuple[str, ...]:
    """What must never reach a screen: every natural person's ID number."""
    return tuple(a.id_number for a in data.applicants if isinstance(a, NaturalPerson))


def _masked(text: str, hidden: Iterable[str]) -> str:
    for number in hidden:
        text = text.replace(number, mask_id(number))
    return text


def screen_blocks(document: Document, hidden: Iterable[str]) -> list[dict[str, Any]]:
    """The document's blocks as a screen draws them: `kind` and `text`, or `kind`, `left` and
    `right` for two-part blocks (a signature line, a voucher row, the QR caption and URL)."""
    secret = tuple(n for n in hidden if n)
    out: list[dict[str, Any]] = []
    for block in document.blocks:
        if block.kind not in SCREEN_KINDS:
            continue
        if block.kind in SPLIT_KINDS:
            left, right = block.parts()
            out.append(
                {"kind": block.kind, "left": _masked(left, secret), "right": _masked(right, secret)}
            )
        else:
            out.append({"kind": block.kind, "text": _masked(block.text, secret)})
    return out


def screen_text(document: Document, data: RulingData) -> str:
    """The stored form: JSON, kept with the ruling's record."""
    return json.dumps(screen_blocks(document, hidden_numbers(data)), ensure_ascii=False)


# A draft has no verification address yet: it is drawn at random when the ruling is issued.
NOT_YET_ISSUED = "（出具时生成）"


def draft_blocks(document: Document, data: RulingData) -> list[dict[str, Any]]:
    """The judge's preview before signing: the screen copy, with the QR line saying that its
    address comes at issue rather than showing a placeholder as if it were one."""
    blocks = screen_blocks(document, hidden_numbers(data))
    return [b | {"right": NOT_YET_ISSUED} if b["kind"] == "qr" else b for b in blocks]
