"""When a hearing's recording starts again by itself: the room opened afresh on a server (the
server restarted) while the hearing was still on, and the last run ended because a server
stopped (SIGTERM: "shutdown") or died under it (kill -9: "interrupted", settled by the start-up
sweep). A run stopped because the hearing ended, or by the judge, does not start again. A
mediation's room (signaling/room_keys.py) is "in hearing" while the mediation is in session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.cases import HEARING, State
from app.domain.mediation import MediationState
from app.recording import recovery
from app.store.models import Case, MediationCase
from signaling.room_keys import mediation_of

SHUTDOWN = "shutdown"  # the run's end_reason when its server stopped (app shutdown)
# A run stopped because the hearing ended in the room: everyone served on the spot, or the rest
# asked for paper (app/web/service_api.py).
SERVED = "served"
PAPER_SERVICE = "paper_service"
HEARING_OVER = frozenset({SERVED, PAPER_SERVICE})
RESTART_CAUSES = frozenset({SHUTDOWN, recovery.INTERRUPTED})


async def hearing_in_progress(session: AsyncSession, key: int) -> bool:
    """Is the session in the room with this key still on? (A run's case_id is a room key.)"""
    mediation_id = mediation_of(key)
    if mediation_id is not None:
        mediation = await session.get(MediationCase, mediation_id)
        return mediation is not None and mediation.state == MediationState.IN_MEDIATION
    case = await session.get(Case, key)
    return case is not None and State(case.state) in HEARING
