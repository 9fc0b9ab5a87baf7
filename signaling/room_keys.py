"""Which room a room key names: a confirmation case's room, or a mediation's. Pure.

Signaling, the audit trail and the recorder know a room by one integer (the protocol's
`case_id`, 1…2³¹−1). A confirmation room's key is its case's id; a mediation room's key is
MEDIATION_BASE plus the mediation's id. Case ids stay far below the base, so the two never meet.
"""

from __future__ import annotations

MEDIATION_BASE = 2**30
_MAX_KEY = 2**31 - 1


def mediation_room(mediation_id: int) -> int:
    if not 1 <= mediation_id <= _MAX_KEY - MEDIATION_BASE:
        raise ValueError(f"no room key for mediation {mediation_id}")
    return MEDIATION_BASE + mediation_id


def mediation_of(room_key: int) -> int | None:
    """The mediation whose room the key names; None for a confirmation case's room."""
    return room_key - MEDIATION_BASE if room_key > MEDIATION_BASE else None
