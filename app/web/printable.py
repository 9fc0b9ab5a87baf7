"""Text that may be printed in a signed ruling or transcript is checked when it is entered.

The renderer refuses a character the court's font lacks rather than print a blank box in a
legal document. Found at issue time that refusal would strand a decided case (its records
can no longer be corrected), so every text a user enters is checked against the same font
when it is entered, and the person typing it is told which characters to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from app.domain.errors import ValidationError

MissingGlyphs = Callable[[str], str]
_SKIPPED = frozenset({"csrf_token", "password"})


def _strings(value: object, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [
            item
            for key, inner in value.items()
            if key not in _SKIPPED
            for item in _strings(inner, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list | tuple):
        return [item for i, inner in enumerate(value) for item in _strings(inner, f"{path}[{i}]")]
    return []


def require_printable(data: object, missing_glyphs: MissingGlyphs) -> None:
    """ValidationError naming each field whose text the court's font cannot print."""
    problems = []
    for field, text in _strings(data, ""):
        missing = missing_glyphs(text)
        if missing:
            shown = " ".join(missing)
            problems.append(
                (
                    field,
                    f"无法在文书中印出：{shown}（法院字库中没有此字符），请改写或以通用字代替。"
                    f" / Cannot be printed in court documents: {shown} (not in the court's "
                    "font); please rephrase or use a common character.",
                )
            )
    if problems:
        raise ValidationError(problems)
