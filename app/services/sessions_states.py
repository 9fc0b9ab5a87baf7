"""Which case states a live session's records are written in."""

from __future__ import annotations

from app.domain.cases import State

# A kiosk checks in and the judge admits before the session is opened; the hearing's own
# records (identity, answers, consents, review) only while it is open.
OPEN_STATES = frozenset({State.SCHEDULED, State.IN_SESSION})
RECORD_STATES = frozenset({State.IN_SESSION})
