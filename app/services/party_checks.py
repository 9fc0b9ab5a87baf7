"""Each party's checks in a mediation session, as kept (app/domain/mediation_checks.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import mediation_checks as rules
from app.store.models import MediationCheckRow


async def checks_of(session: AsyncSession, mediation_id: int) -> list[MediationCheckRow]:
    rows = await session.scalars(
        select(MediationCheckRow)
        .where(MediationCheckRow.mediation_id == mediation_id)
        .order_by(MediationCheckRow.id)
    )
    return list(rows)


def done_by_party(rows: list[MediationCheckRow]) -> dict[int, set[rules.Check]]:
    return rules.done_by_party(rules.Done(r.party_position, rules.Check(r.check)) for r in rows)


async def require_party_ready(session: AsyncSession, mediation_id: int, party: int) -> None:
    """A party signs only once every check of theirs is made."""
    done = done_by_party(await checks_of(session, mediation_id)).get(party, set())
    rules.require_ready(done)
