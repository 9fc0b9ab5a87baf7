"""When a hearing's recording starts again by itself: the room opened afresh on a server (the
server restarted) while the hearing was still on, and the last run ended because a server
stopped (SIGTERM: "shutdown") or died under it (kill -9: "interrupted", settled by the start-up
sweep). A run stopped because the hearing ended, or by the judge, does not start again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.cases import State
from app.recording import recovery
from app.store.models import Case

SHUTDOWN = "shutdown"  # the run's end_reason when its server stopped (app shutdown)
# A run stopped because the hearing ended in the room: everyone served on the spot, or the rest
# asked for paper (app/web/service_api.py).
HEARING_OVER = frozenset({"served", "paper_service"})
RESTART_CAUSES = frozenset({SHUTDOWN, recovery.INTERRUPTED})
# From the opening of the session until every party is served: the court records it all.
RECORDED_STATES = frozenset(
    {State.IN_SESSION, State.CONFIRMED, State.REJECTED, State.WITHDRAWN, State.RULING_ISSUED}
)


async def hearing_in_progress(session: AsyncSession, case_id: int) -> bool:
    case = await session.get(Case, case_id)
    return case is not None and State(case.state) in RECORDED_STATES
