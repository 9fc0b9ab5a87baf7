"""The administrator's view of the installation: every court with its committees, halls and
rooms, and every kiosk account with its room. Read in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.access import Actor
from app.domain.errors import NotFound
from app.domain.organisation import Kind, no_such, require_admin
from app.domain.roles import Role
from app.store.models import Account, Case, Committee, Court, Hall, Room


@dataclass(frozen=True)
class CommitteeView:
    id: int
    name: str
    court_id: int
    mediators: int


@dataclass(frozen=True)
class HallView:
    id: int
    name: str
    committee_id: int


@dataclass(frozen=True)
class RoomView:
    id: int
    name: str
    hall_id: int
    kiosks: list[str]  # user names of the kiosk accounts standing in it


@dataclass(frozen=True)
class CourtView:
    id: int
    name: str
    code: str
    judges: int
    clerks: int
    numbered_cases: int  # while nonzero the code stays (app/domain/organisation.refuse_recode)
    committees: list[CommitteeView] = field(default_factory=list)
    halls: list[HallView] = field(default_factory=list)
    rooms: list[RoomView] = field(default_factory=list)


@dataclass(frozen=True)
class KioskView:
    id: int
    username: str
    display_name: str
    active: bool
    room_id: int | None


@dataclass(frozen=True)
class Installation:
    courts: list[CourtView]
    kiosks: list[KioskView]

    def court(self, court_id: int) -> CourtView:
        found = next((c for c in self.courts if c.id == court_id), None)
        if found is None:
            raise NotFound(no_such(Kind.COURT))
        return found

    def name_of(self, kind: Kind, unit_id: int) -> str | None:
        units: list[CourtView] | list[CommitteeView] | list[HallView] | list[RoomView]
        match kind:
            case Kind.COURT:
                units = self.courts
            case Kind.COMMITTEE:
                units = [m for c in self.courts for m in c.committees]
            case Kind.HALL:
                units = [h for c in self.courts for h in c.halls]
            case Kind.ROOM:
                units = [r for c in self.courts for r in c.rooms]
        return next((u.name for u in units if u.id == unit_id), None)


async def installation(session: AsyncSession, actor: Actor) -> Installation:
    require_admin(actor)
    staff = Counter[tuple[int | None, str]]()
    mediators = Counter[int | None]()
    for court_id, committee_id, role in await session.execute(
        select(Account.court_id, Account.committee_id, Account.role).where(Account.active)
    ):
        staff[court_id, role] += 1
        mediators[committee_id] += role == Role.MEDIATOR.value
    numbered = {
        court_id: int(count)
        for court_id, count in await session.execute(
            select(Case.court_id, func.count())
            .where(Case.case_number.is_not(None))
            .group_by(Case.court_id)
        )
    }
    kiosks = [
        KioskView(a.id, a.username, a.display_name, a.active, a.room_id)
        for a in await session.scalars(
            select(Account).where(Account.role == Role.KIOSK.value).order_by(Account.username)
        )
    ]
    courts = {
        c.id: CourtView(
            c.id,
            c.name,
            c.code,
            judges=staff[c.id, Role.JUDGE.value],
            clerks=staff[c.id, Role.CLERK.value],
            numbered_cases=numbered.get(c.id, 0),
        )
        for c in await session.scalars(select(Court).order_by(Court.code))
    }
    court_of_committee: dict[int, int] = {}
    for m in await session.scalars(select(Committee).order_by(Committee.id)):
        court_of_committee[m.id] = m.court_id
        courts[m.court_id].committees.append(
            CommitteeView(m.id, m.name, m.court_id, mediators[m.id])
        )
    court_of_hall: dict[int, int] = {}
    for h in await session.scalars(select(Hall).order_by(Hall.id)):
        court_of_hall[h.id] = court_of_committee[h.committee_id]
        courts[court_of_hall[h.id]].halls.append(HallView(h.id, h.name, h.committee_id))
    for r in await session.scalars(select(Room).order_by(Room.id)):
        bound = [k.username for k in kiosks if k.room_id == r.id]
        courts[court_of_hall[r.hall_id]].rooms.append(RoomView(r.id, r.name, r.hall_id, bound))
    return Installation(list(courts.values()), kiosks)
