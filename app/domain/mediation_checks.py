"""What a mediation session records of each party before they settle anything: the mediator's
check of their identity, then three taps of their own: consent to mediate online, the rights
they were told (People's Mediation Law art 23), and the warning about sham mediation (SPC online
mediation rules 2021). Each in its own tap, in this order, once. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from app.domain.errors import Conflict, NotPermitted, WrongState


class Check(StrEnum):
    IDENTITY = "identity"  # the mediator saw the party and their ID card on video
    CONSENT = "consent"  # the party agrees to be mediated online
    RIGHTS = "rights"  # the party was told their rights (art 23)
    SHAM_WARNING = "sham_warning"  # the party was warned about sham mediation (虚假调解)


ORDER: tuple[Check, ...] = (Check.IDENTITY, Check.CONSENT, Check.RIGHTS, Check.SHAM_WARNING)
# The identity check is the mediator's; the rest are the party's own, on their own screen.
BY_MEDIATOR = frozenset({Check.IDENTITY})

# What each tap says the party did: shown on the button's card and written to the transcript.
WORDING: Mapping[Check, tuple[str, str]] = MappingProxyType(
    {
        Check.IDENTITY: (
            "调解员已通过视频核对当事人本人及其身份证件。",
            "The mediator checked the party and their ID card on video.",
        ),
        Check.CONSENT: (
            "本人同意通过本平台以视频方式进行人民调解。",
            "I agree to be mediated online, by video, on this platform.",
        ),
        Check.RIGHTS: (
            "本人已知悉在人民调解活动中享有的权利：选择或者接受人民调解员；接受调解、拒绝调解"
            "或者要求终止调解；要求调解公开进行或者不公开进行；自主表达意愿、自愿达成调解协议"
            "（《中华人民共和国人民调解法》第二十三条）。",
            "I know my rights in people's mediation: to choose or accept the mediator; to "
            "accept, refuse or ask to end the mediation; to ask that it be public or not; to "
            "express my will freely and agree only of my own free will (People's Mediation Law "
            "art 23).",
        ),
        Check.SHAM_WARNING: (
            "本人已知悉：与他人恶意串通、捏造事实、虚构纠纷进行虚假调解，损害国家利益、社会公共"
            "利益或者他人合法权益的，人民法院将不予确认调解协议，并可依法予以罚款、拘留；构成"
            "犯罪的，依法追究刑事责任。",
            "I know that a sham mediation (colluding to invent facts or a dispute, harming the "
            "state, the public or anyone else) will not be confirmed by the court, and may be "
            "fined, detained or prosecuted as a crime.",
        ),
    }
)


@dataclass(frozen=True)
class Done:
    party: int
    check: Check


def done_by_party(records: Iterable[Done]) -> dict[int, set[Check]]:
    found: dict[int, set[Check]] = {}
    for record in records:
        found.setdefault(record.party, set()).add(record.check)
    return found


def next_check(done: set[Check]) -> Check | None:
    return next((check for check in ORDER if check not in done), None)


def ready(done: set[Check]) -> bool:
    """Every check done: the party may settle and sign."""
    return next_check(done) is None


def may_record(done: set[Check], check: Check, *, by_mediator: bool) -> None:
    """Raises unless this check is the party's next one and the caller is the one who makes it."""
    if (check in BY_MEDIATOR) != by_mediator:
        if by_mediator:
            raise NotPermitted(
                "这一项须由当事人本人在自己的屏幕上确认，调解员不能代为确认。"
                " / The party confirms this on their own screen: the mediator cannot do it for "
                "them."
            )
        raise NotPermitted("身份核验由调解员完成。 / The mediator checks identity, not the party.")
    if check in done:
        raise Conflict(
            "这一项已经确认过，不能重复确认。 / This was already confirmed.", code="already_done"
        )
    expected = next_check(done)
    if expected is not check:
        assert expected is not None
        raise WrongState(f"请先完成：{WORDING[expected][0]} / First: {WORDING[expected][1]}")


def require_ready(done: set[Check]) -> None:
    expected = next_check(done)
    if expected is not None:
        raise WrongState(
            "当事人完成身份核验、同意在线调解、知悉权利和虚假调解风险后才能签名。"
            f" 尚未完成：{WORDING[expected][0]} / A party signs only after the identity check, "
            f"consent, rights and the sham-mediation warning. Still to do: {WORDING[expected][1]}"
        )
