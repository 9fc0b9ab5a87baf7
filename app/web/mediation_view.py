"""A mediation case as the API shows it: ID numbers masked, the time limit, the steps open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.domain.mediation import (
    FAILED_NOTICE,
    STATE_WORDS,
    MediationState,
    steps_from,
    time_limit,
)
from app.keyring import FieldCipher
from app.store.models import MediationCase
from app.web.present import party_json


def _at(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def mediation_json(
    mediation: MediationCase, names: dict[int, str], cipher: FieldCipher, now: dt.datetime
) -> dict[str, Any]:
    state = MediationState(mediation.state)
    limit = time_limit(state, mediation.accepted_at, now)
    zh, en = STATE_WORDS[state]
    mediator = mediation.mediator_id
    return {
        "id": mediation.id,
        "state": state.value,
        "state_label": zh,
        "state_label_en": en,
        "dispute_type": mediation.dispute_type,
        "facts": mediation.facts,
        "claims": mediation.claims,
        "parties": [party_json(p, cipher) for p in mediation.parties],
        "mediator": None if mediator is None else {"id": mediator, "name": names.get(mediator)},
        "filed_at": _at(mediation.filed_at),
        "accepted_at": _at(mediation.accepted_at),
        "scheduled_at": _at(mediation.scheduled_at),
        "ended_at": _at(mediation.ended_at),
        "end_note": mediation.end_note,
        "notice": list(FAILED_NOTICE) if state is MediationState.FAILED else None,
        "termination": f"/api/mediations/{mediation.id}/termination.pdf"
        if mediation.termination_pdf
        else None,
        "time_limit": {
            "due_at": _at(limit.due_at),
            "days_left": limit.days_left,
            "urgency": limit.urgency.value,
        },
        "steps": [step.value for step in steps_from(state)],
    }
