"""When a hearing's recording starts again by itself: the room opened afresh on a server (the
server restarted) while the hearing was still on, and the last run ended because a server
stopped (SIGTERM: "shutdown") or died under it (kill -9: "interrupted", settled by the start-up
sweep). A run stopped because the hearing ended, or by the judge, does not start again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.cases import HEARING, State
from app.recording import recovery
from app.store.models import Case

SHUTDOWN = "shutdown"  # the run's end_reason when its server stopped (app shutdown)
# A run stopped because the hearing ended in the room: everyone served on the spot, or the rest
# asked for paper (app/web/service_api.py).
SERVED = "served"
PAPER_SERVICE = "paper_service"
HEARING_OVER = frozenset({SERVED, PAPER_SERVICE})
RESTART_CAUSES = frozenset({SHUTDOWN, recovery.INTERRUPTED})


async def hearing_in_progress(session: AsyncSession, case_id: int) -> bool:
    case = await session.get(Case, case_id)
    return case is not None and State(case.state) in HEARING
