"""A party on their own phone in a video mediation: a code texted to the phone on record, and
the signed pass it is redeemed for. The pass names one mediation and one party; it is all a
phone holds, and everything it may do is checked against it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import signed_claims
from app.domain.errors import NotFound, Unauthenticated
from app.domain.mediation import MediationState
from app.domain.people import mask_phone
from app.services import audit, one_time_codes
from app.services.mediation_agreements import party_phone
from app.store.models import AuditEvent, MediationCase
from signaling.room_keys import mediation_room

PASS_TTL = dt.timedelta(hours=4)  # a long mediation, with room to spare
_DOMAIN = b"sifa-mediation-pass-v1."
MAX_PASS_CHARS = 512
JOIN_CODE = "mediation-join"
PASS_ISSUED = "mediation.pass_issued"  # in the room's audit trail (case_id: the room key)


@dataclass(frozen=True)
class MediationPass:
    mediation_id: int
    party: int
    expires_at: int  # POSIX seconds

    @property
    def username(self) -> str:
        """The party's seat in the room, and the name their acts are recorded under."""
        return party_seat(self.mediation_id, self.party)


def party_seat(mediation_id: int, party: int) -> str:
    return f"party-m{mediation_id}-{party}"


def join_code_purpose(mediation_id: int, party: int) -> str:
    return f"{JOIN_CODE}:{mediation_id}:{party}"


def issue(secret: bytes, claims: MediationPass) -> str:
    body = {"m": claims.mediation_id, "p": claims.party, "e": claims.expires_at}
    return signed_claims.sign(secret, _DOMAIN, body)


def verify(secret: bytes, token: str, now: dt.datetime) -> MediationPass:
    body = signed_claims.read(secret, _DOMAIN, token, max_chars=MAX_PASS_CHARS) or {}
    values = [body.get(k) for k in "mpe"]
    if not all(type(value) is int for value in values):
        raise Unauthenticated(
            "调解凭证无效，请重新获取验证码加入。 / The mediation pass is invalid: join again."
        )
    claims = MediationPass(*cast(list[int], values))
    if now.timestamp() >= claims.expires_at:
        raise Unauthenticated(
            "调解凭证已过期，请重新获取验证码加入。 / The mediation pass expired: join again."
        )
    return claims


def _in_session(mediation: MediationCase | None, mediation_id: int) -> MediationCase:
    if mediation is None or MediationState(mediation.state) is not MediationState.IN_MEDIATION:
        raise NotFound(
            f"编号为 {mediation_id} 的调解现在没有进行视频调解。"
            f" / Mediation {mediation_id} has no video session under way."
        )
    return mediation


async def send_join_code(
    session: AsyncSession, mediation: MediationCase, party: int, secret: bytes, now: dt.datetime
) -> tuple[str, dt.datetime]:
    """A code to the party's phone on record (the mediator asked for it): where it went
    (masked) and when it expires."""
    _in_session(mediation, mediation.id)
    phone = party_phone(mediation, party)
    purpose = join_code_purpose(mediation.id, party)
    link = f"/mediation/{mediation.id}/join?party={party}"
    expires = await one_time_codes.send(
        session, phone, purpose, secret=secret, now=now, doing=f"在手机上参加视频调解（{link}）"
    )
    return mask_phone(phone), expires


async def redeem(
    session: AsyncSession,
    mediation_id: int,
    party: int,
    code: str,
    secret: bytes,
    now: dt.datetime,
) -> tuple[str, MediationPass, str]:
    """Spend the code (the caller counts a wrong one in a transaction of its own): the pass,
    its claims and the party's name. Audited in the room's trail, so the kiosk knows this
    party takes part on their own device from now on."""
    mediation = _in_session(await session.get(MediationCase, mediation_id), mediation_id)
    phone = party_phone(mediation, party)
    await one_time_codes.use(
        session, phone, join_code_purpose(mediation_id, party), code, secret=secret, now=now
    )
    claims = MediationPass(mediation_id, party, int((now + PASS_TTL).timestamp()))
    await audit.append(
        session,
        actor=claims.username,
        action=PASS_ISSUED,
        case_id=mediation_room(mediation_id),
        details={"mediation": mediation_id, "party": party, "phone": mask_phone(phone)},
        now=now,
    )
    return issue(secret, claims), claims, mediation.parties[party].name


async def on_own_device(session: AsyncSession, mediation_id: int) -> set[int]:
    """The parties who took a pass to join on their own phone: the kiosk acts for none of them."""
    rows = await session.scalars(
        select(AuditEvent.actor).where(
            AuditEvent.case_id == mediation_room(mediation_id), AuditEvent.action == PASS_ISSUED
        )
    )
    prefix = party_seat(mediation_id, 0)[:-1]
    return {int(actor.removeprefix(prefix)) for actor in rows if actor.startswith(prefix)}
