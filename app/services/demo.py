"""Demo data: two courts, each with a committee, halls, rooms and an account per role.

The first court (光明, 粤0311: six halls, eight rooms, kiosk1 … kiosk8) is the one the story
and most tests use; the second (南山, 粤0305) shows that courts keep to their own cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.clock import court_date
from app.domain.roles import Role
from app.keyring import FieldCipher
from app.services import accounts, audit
from app.store.models import Account, Case, Committee, Court, Hall, Room

Named = TypeVar("Named", Committee, Hall, Room)
COURT = ("深圳市光明区人民法院", "粤0311")
COMMITTEE = "光明街道人民调解委员会"
# Hall → number of confirmation rooms (8 in all).
HALLS = (
    ("光明社区", 2),
    ("东周社区", 2),
    ("翠湖社区", 1),
    ("碧眼社区", 1),
    ("白花社区", 1),
    ("圳美社区", 1),
)
PEOPLE = (
    ("admin", Role.ADMIN, "系统管理员"),
    ("mediator", Role.MEDIATOR, "李华"),
    ("clerk", Role.CLERK, "陈静"),
    ("judge", Role.JUDGE, "王明"),
)


@dataclass(frozen=True)
class DemoCourt:
    name: str
    code: str
    committee: str
    halls: tuple[tuple[str, int], ...]  # hall → number of rooms
    people: tuple[tuple[str, Role, str], ...]
    kiosk: str  # kiosk N of the court, bound to its N-th room, is f"{kiosk}{N}"

    def room_names(self) -> list[tuple[str, str]]:
        """(hall, room) in room order."""
        names = []
        for hall, count in self.halls:
            for n in range(1, count + 1):
                suffix = "一二三四"[n - 1] if count > 1 else ""
                names.append((hall, f"{hall}在线司法确认室{suffix}"))
        return names


GUANGMING = DemoCourt(COURT[0], COURT[1], COMMITTEE, HALLS, PEOPLE, "kiosk")
# Its accounts are named after the court (like a second court's clerk_ba in the tests), so
# judge2, clerk2 and kiosk9 stay free for accounts tests add to the first court.
NANSHAN = DemoCourt(
    "深圳市南山区人民法院",
    "粤0305",
    "南头街道人民调解委员会",
    (("南头社区", 1),),
    (
        ("mediator_ns", Role.MEDIATOR, "周敏"),
        ("clerk_ns", Role.CLERK, "林芳"),
        ("judge_ns", Role.JUDGE, "黄志强"),
    ),
    "kiosk_ns",
)
COURTS = (GUANGMING, NANSHAN)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    display_name: str
    bound_to: str


def room_names() -> list[tuple[str, str]]:
    """The first court's (hall, room) in room order: kiosk N sits in the N-th room."""
    return GUANGMING.room_names()


async def _named(session: AsyncSession, model: type[Named], name: str, **values: int) -> Named:
    """The row of that name, created when missing."""
    row = await session.scalar(select(model).where(model.name == name))
    if row is None:
        row = model(name=name, **values)
        session.add(row)
        await session.flush()
    return row


async def _load_court(
    session: AsyncSession, spec: DemoCourt, *, password: str, now: dt.datetime
) -> tuple[Committee, list[DemoLogin]]:
    court = await session.scalar(select(Court).where(Court.code == spec.code))
    if court is None:
        court = Court(name=spec.name, code=spec.code)
        session.add(court)
        await session.flush()
    committee = await _named(session, Committee, spec.committee, court_id=court.id)
    rooms: list[Room] = []
    for hall_name, room_name in spec.room_names():
        hall = await _named(session, Hall, hall_name, committee_id=committee.id)
        rooms.append(await _named(session, Room, room_name, hall_id=hall.id))

    logins: list[DemoLogin] = []
    wanted = [
        (u, r, d, accounts.Binding(court=spec.code, committee=spec.committee))
        for u, r, d in spec.people
    ]
    wanted += [
        (f"{spec.kiosk}{i}", Role.KIOSK, f"{room.name}终端", accounts.Binding(room=room.name))
        for i, room in enumerate(rooms, start=1)
    ]
    for username, role, display, binding in wanted:
        exists = await session.scalar(select(Account).where(Account.username == username))
        if exists is None:
            await accounts.add_account(
                session,
                username=username,
                password=password,
                role=role,
                display_name=display,
                binding=binding,
                now=now,
                actor="demo",
                check_strength=False,
            )
        bound = {
            Role.KIOSK: binding.room,
            Role.MEDIATOR: spec.committee,
            Role.ADMIN: "-",
        }.get(role, f"{spec.name}（{spec.code}）")
        logins.append(DemoLogin(username, role.value, display, bound or "-"))
    return committee, logins


async def load(
    session: AsyncSession, *, password: str, now: dt.datetime, cipher: FieldCipher
) -> list[DemoLogin]:
    """Create what is missing; running it again changes nothing."""
    logins: list[DemoLogin] = []
    committees = []
    for spec in COURTS:
        committee, more = await _load_court(session, spec, password=password, now=now)
        committees.append(committee)
        logins += more
    if not await session.scalar(select(func.count()).select_from(Case)):
        await _sample_cases(session, committees[0], now, cipher)
    return logins


def with_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return (
        first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
    )


def sample_application(today: dt.date) -> dict[str, object]:
    """A personal-injury settlement between two fictional residents of Guangming."""
    return {
        "dispute_type": "人身损害赔偿纠纷",
        "agreement_date": (today - dt.timedelta(days=3)).isoformat(),
        "terms": [
            "赵六于2026年12月31日前一次性赔偿张三医疗费、误工费等各项损失共计人民币38000元。",
            "上述款项通过银行转账方式支付至张三指定的银行账户。",
            "双方就本次纠纷再无其他争议。",
        ],
        "applicants": [
            {
                "kind": "person",
                "name": "张三",
                "sex": "male",
                "birth_date": "1980-05-12",
                "ethnicity": "汉族",
                "address": "广东省深圳市光明区光明街道光明社区碧水路12号",
                "phone": "13800000001",
                "id_type": "resident_id",
                "id_number": with_check_digit("44031119800512001"),
            },
            {
                "kind": "person",
                "name": "赵六",
                "sex": "female",
                "birth_date": "1975-09-03",
                "ethnicity": "汉族",
                "address": "广东省深圳市光明区光明街道东周社区东周路8号",
                "phone": "13800000002",
                "id_type": "resident_id",
                "id_number": with_check_digit("44031119750903002"),
            },
        ],
        "agents": [],
    }


async def _sample_cases(
    session: AsyncSession, committee: Committee, now: dt.datetime, cipher: FieldCipher
) -> None:
    from app.services.cases import create_case

    mediator = await session.scalar(select(Account).where(Account.username == "mediator"))
    assert mediator is not None
    actor = accounts.actor_of(mediator)
    case = await create_case(
        session, actor, sample_application(court_date(now)), cipher=cipher, now=now
    )
    await audit.append(
        session, actor="demo", action="demo.sample_case", case_id=case.id, details={}, now=now
    )
