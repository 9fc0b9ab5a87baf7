"""Loading the editable ruling templates (jinja2) and rendering them to blocks.

The wording of every document is in templates/rulings/*.txt.j2 so that a court can edit it
without touching code. Templates are loaded once, when a TemplateSet is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import jinja2

from app.domain.amount_words import amount_figures, amount_in_words
from app.ruling import chinese, wording
from app.ruling.blocks import Document, parse_blocks
from app.ruling.errors import InvalidRulingData, TemplateError
from app.ruling.model import RulingData, VoucherData

# The repo's own templates. An installed package has no such directory: pass templates_dir.
DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "rulings"

CONFIRMATION = "confirmation.txt.j2"
REJECTION = "rejection.txt.j2"
WITHDRAWAL = "withdrawal.txt.j2"
TRANSCRIPT = "transcript.txt.j2"
VOUCHER = "voucher.txt.j2"
PAPER_RECEIPT = "paper_receipt.txt.j2"
AGREEMENT = "mediation_agreement.txt.j2"
AGREEMENT_TERM = "_agreement_term.txt.j2"
TERMINATION = "mediation_termination.txt.j2"
MEDIATION_TRANSCRIPT = "mediation_transcript.txt.j2"


def _finalize(value: object) -> object:
    # The block markup is line-oriented; a value must never start a line of its own.
    if isinstance(value, str):
        return value.replace("\r", " ").replace("\n", " ")
    return value


class TemplateSet:
    """The document templates (three ruling variants, the voucher, the transcript), compiled
    once."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir or DEFAULT_TEMPLATES_DIR
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text for our own markup, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=_finalize,
        )
        env.filters.update(
            cn_date=chinese.chinese_date,
            cn_num=chinese.chinese_numeral,
            date=chinese.arabic_date,
            beijing=chinese.beijing_datetime,
            beijing_date=lambda t: t.astimezone(chinese.BEIJING).date(),
            sentence=wording.sentence,
            cn_amount=amount_in_words,
            amount=amount_figures,
        )
        self._env = env
        self._templates: dict[str, jinja2.Template] = {}
        for name in (
            CONFIRMATION,
            REJECTION,
            WITHDRAWAL,
            VOUCHER,
            TRANSCRIPT,
            PAPER_RECEIPT,
            AGREEMENT,
            TERMINATION,
            MEDIATION_TRANSCRIPT,
        ):
            try:
                self._templates[name] = env.get_template(name)
            except jinja2.TemplateNotFound as e:
                raise TemplateError(name, f"not found in {self.templates_dir}") from e
            except jinja2.TemplateSyntaxError as e:
                raise TemplateError(name, e.message or "syntax error", e.lineno) from e

    def ruling(self, data: RulingData) -> Document:
        name = {"confirmed": CONFIRMATION, "rejected": REJECTION, "withdrawn": WITHDRAWAL}[
            data.outcome
        ]
        context = _context(data)
        ground = data.rejection_ground
        context["basis"] = wording.basis(data.outcome, ground.item if ground else None)
        return self._render(name, context, data=data)

    def voucher(self, data: VoucherData) -> Document:
        return self._render(VOUCHER, _context(data))

    def paper_receipt(self, context: Mapping[str, Any]) -> Document:
        """送达回证: its context is assembled by app/services/serving.py."""
        return self._render(PAPER_RECEIPT, dict(context))

    def agreement(self, context: Mapping[str, Any]) -> Document:
        """人民调解协议书: its context is assembled by app/services/mediation_agreements.py."""
        return self._render(AGREEMENT, dict(context))

    def termination(self, context: Mapping[str, Any]) -> Document:
        """人民调解终止书 (art 26): its context is assembled by app/web/mediation_api.py."""
        return self._render(TERMINATION, dict(context))

    def mediation_transcript(self, context: Mapping[str, Any]) -> Document:
        """调解笔录: its context is assembled by app/services/mediation_transcript.py."""
        return self._render(MEDIATION_TRANSCRIPT, dict(context))

    def agreement_terms(self, terms: Iterable[Any]) -> list[str]:
        """Each term as the agreement words it, for the application that confirms it."""
        try:
            macro = self._env.get_template(AGREEMENT_TERM).module.term_text  # type: ignore[attr-defined]
            return [str(macro(t)) for t in terms]
        except jinja2.TemplateError as e:
            raise TemplateError(AGREEMENT_TERM, str(e)) from e

    def transcript(self, context: Mapping[str, Any]) -> Document:
        """笔录: its context is assembled by the session service (app/services/sessions.py).
        The announced decision cites what the ruling cites: the same `wording.basis`."""
        try:
            item, basis = wording.transcript_basis(context)
        except InvalidRulingData as e:
            raise TemplateError(TRANSCRIPT, str(e)) from e
        return self._render(TRANSCRIPT, {**context, "ground_item": item, "basis": basis})

    def _render(
        self, name: str, context: dict[str, Any], data: RulingData | None = None
    ) -> Document:
        if data is not None:
            context["agents_for"] = data.agents_for
        try:
            text = self._templates[name].render(context)
        except jinja2.TemplateError as e:
            raise TemplateError(name, str(e)) from e
        return parse_blocks(text, name)


def _context(data: RulingData | VoucherData) -> dict[str, Any]:
    """Top-level fields by name, objects kept as objects (so templates see .kind, .name)."""
    return {f.name: getattr(data, f.name) for f in fields(data)}
