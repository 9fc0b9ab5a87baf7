"""Reading a dispute filed for mediation: the parties, the kind of dispute, the facts and what
each side asks for. Pure; every problem is reported at once, as for an application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.application import MAX_APPLICANTS, Reader, read_list, read_parties
from app.domain.errors import ValidationError
from app.domain.people import Party

MAX_FACTS_CHARS = 5000
MAX_CLAIMS_CHARS = 2000
PARTIES_REFUSAL = (
    f"纠纷须有至少两方当事人，至多 {MAX_APPLICANTS} 方。"
    f" / A dispute has at least two parties, and at most {MAX_APPLICANTS}."
)


@dataclass(frozen=True)
class MediationFiling:
    dispute_type: str
    facts: str
    claims: str
    parties: tuple[Party, ...]


def parse_filing(data: Mapping[str, Any], *, today: dt.date) -> MediationFiling:
    r = Reader()
    dispute_type = r.text(data, "dispute_type", "dispute_type", limit=50)
    facts = r.text(data, "facts", "facts", limit=MAX_FACTS_CHARS)
    claims = r.text(data, "claims", "claims", limit=MAX_CLAIMS_CHARS)
    parties = read_parties(r, read_list(r, data, "parties"), "parties", PARTIES_REFUSAL, today)
    if r.problems:
        raise ValidationError(r.problems)
    return MediationFiling(dispute_type, facts, claims, tuple(parties))
