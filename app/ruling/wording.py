"""Which provisions each decision rests on, and the judge's free text as a sentence. Pure.

One description of the citations per decision variant: the ruling and the transcript's
announcement both print `basis(...)`, so the two can never cite different articles. The
titles of the laws and the sentences around them are in the templates
(templates/rulings/_macros.txt.j2); this module only chooses the provisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.domain.grounds import REJECT_ITEM, REJECT_TEXT
from app.ruling.errors import InvalidRulingData
from app.ruling.model import INTERP_358_GROUNDS, Outcome

Law = Literal["cpl", "interp"]  # 民事诉讼法 (2023), 民诉法解释 (2022)


@dataclass(frozen=True, slots=True)
class Provision:
    law: Law
    article: int
    item: int | None = None  # 第…项


def basis(outcome: Outcome, ground_item: int | None = None) -> tuple[Provision, ...]:
    """The provisions a ruling of this outcome cites, in the order it cites them."""
    if outcome == "confirmed":
        # CPL 205 (the application) and 206 (the ruling that the agreement is valid).
        return (Provision("cpl", 205), Provision("cpl", 206))
    if outcome == "rejected":
        if ground_item not in INTERP_358_GROUNDS:
            raise InvalidRulingData(f"a rejection cites an Interp 358 item 1-6, not {ground_item}")
        return (Provision("cpl", 206), Provision("interp", 358, ground_item))
    if outcome == "withdrawn":
        return (Provision("interp", 357),)
    raise InvalidRulingData(f"no citation for outcome {outcome!r}")


# The transcript's context names the judge's decision by its step, not the ruling's outcome.
DECISION_OUTCOME: dict[str, Outcome] = {
    "confirm": "confirmed",
    "reject": "rejected",
    "withdraw": "withdrawn",
}
_ITEM_OF_TEXT = {text: REJECT_ITEM[g] for g, text in REJECT_TEXT.items()}


def transcript_basis(context: Mapping[str, Any]) -> tuple[int | None, tuple[Provision, ...]]:
    """(the Interp 358 item, the provisions) of the decision a transcript announces.

    The session service passes the ground's text; its item follows from the same table the
    text came from (app/domain/grounds.py). A context that carries `ground_item` wins.
    """
    outcome = DECISION_OUTCOME.get(context.get("decision") or "")
    if outcome is None:
        return None, ()
    item: int | None = None
    if outcome == "rejected":
        item = context.get("ground_item") or _ITEM_OF_TEXT.get(context.get("ground_text") or "")
        if item is None:
            raise InvalidRulingData(
                f"the transcript's rejection names no known ground: {context.get('ground_text')!r}"
            )
    return item, basis(outcome, item)


# A sentence is over at these (an ASCII ! or ? counts: the judge typed it).
_TERMINAL = frozenset("。！？…!?")
# Closing quotes and brackets may follow the terminal mark: 他表示：“不同意。”
_CLOSERS = "”’」』）》)"
# A clause left open, or an ASCII full stop: replaced by 。 rather than doubled.
_OPEN_ENDS = "，、；：,;:. "


def sentence(text: str | None) -> str:
    """The judge's free text as one or more whole sentences that end properly: 。 added when
    missing, never doubled, and a dangling comma or colon turned into it. Empty for none."""
    t = (text or "").strip()
    if not t:
        return ""
    if t.rstrip(_CLOSERS)[-1:] in _TERMINAL:
        return t
    t = t.rstrip(_OPEN_ENDS)
    if not t:
        return ""
    return t if t[-1] in _TERMINAL else t + "。"
