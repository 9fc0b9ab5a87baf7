"""The people's mediation agreement (人民调解协议书) from draft to seal. Pure.

People's Mediation Law art 29: the agreement states the parties' details, the dispute's main
facts and each party's responsibility, the terms and how and by when they are performed; it
takes effect when every party has signed and the mediator has signed and the committee sealed
it. Art 33: the parties may apply for judicial confirmation within 30 days of that.

The mediator edits a draft; freezing it fixes the exact text everyone signs (its SHA-256). A
signature commits to that digest, and one made on an earlier text never counts: any change
after a signature voids every signature, so the sealed document is the very text each party
saw when signing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.domain.bodies.mediation import AgreementDraftBody
from app.domain.errors import Conflict, NotPermitted, WrongState

CONFIRMATION_WINDOW = dt.timedelta(days=30)  # art 33, as CPL 205
MAX_TERMS = 20


class AgreementStatus(StrEnum):
    DRAFTING = "drafting"  # the mediator edits; nobody signs
    FROZEN = "frozen"  # the text is fixed and open for signatures
    SEALED = "sealed"  # signed by all and sealed by the committee: in effect


STATUS_WORDS: dict[AgreementStatus, tuple[str, str]] = {
    AgreementStatus.DRAFTING: ("起草中", "Drafting"),
    AgreementStatus.FROZEN: ("待签名", "Awaiting signatures"),
    AgreementStatus.SEALED: ("已签章生效", "Signed and sealed"),
}


@dataclass(frozen=True)
class Term:
    """One agreed term: what is done, and when it is money, how much and by when."""

    text: str
    amount: Decimal | None = None  # yuan, two decimals at most
    due: dt.date | None = None


@dataclass(frozen=True)
class Draft:
    """What the mediator writes (art 29 items 2 and 3); the parties' details come from the
    mediation's record."""

    facts: str  # the dispute's main facts and the matters in dispute
    responsibility: str  # each party's responsibility
    terms: tuple[Term, ...]
    performance: str  # how and by when the terms are performed


@dataclass(frozen=True)
class Signature:
    """A signature on record: whose, on which text. `party` is None for the mediator."""

    party: int | None
    version: int  # the draft version signed
    digest: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class Agreement:
    status: AgreementStatus
    version: int  # the draft's version: every edit adds one
    digest: str | None  # the frozen text's SHA-256; None while drafting
    signatures: tuple[Signature, ...]  # every signature ever made, current or void

    def counts(self, signature: Signature) -> bool:
        """Whether a signature counts: made on this version, as it stands frozen now. A text
        changed and changed back is a new version: what was signed before does not count."""
        return (
            self.digest is not None
            and signature.version == self.version
            and signature.digest == self.digest
        )

    def current(self) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if self.counts(s))

    def signed_parties(self) -> frozenset[int]:
        return frozenset(s.party for s in self.current() if s.party is not None)

    def mediator_signed(self) -> bool:
        return any(s.party is None for s in self.current())


class AgreementChanged(Conflict):
    """The signer saw another text than the one frozen now."""

    def __init__(self) -> None:
        super().__init__(
            "协议内容已变更，请阅读最新的协议文本后再签名。"
            " / The agreement has changed: read its current text before signing.",
            code="agreement_changed",
        )


def _sealed() -> WrongState:
    return WrongState(
        "调解协议已签章生效，不能再修改或签名。 / The agreement is sealed: it cannot change."
    )


def may_edit(agreement: Agreement | None) -> None:
    """The mediator may change the draft until it is sealed; doing so once it is frozen takes
    it back to drafting and voids every signature made on it."""
    if agreement is not None and agreement.status is AgreementStatus.SEALED:
        raise _sealed()


def check_draft(draft: Draft) -> list[tuple[str, str]]:
    """Problems with a draft as a whole, by field (empty when it may be frozen)."""
    problems: list[tuple[str, str]] = []
    if not draft.terms:
        problems.append(("terms", "至少写明一项协议条款。 / Write at least one term."))
    if len(draft.terms) > MAX_TERMS:
        problems.append(("terms", f"协议条款不超过 {MAX_TERMS} 项。 / At most {MAX_TERMS} terms."))
    for i, term in enumerate(draft.terms):
        if term.amount is not None and term.amount <= 0:
            problems.append(
                (f"terms[{i}].amount", "金额须大于零。 / The amount must be above zero.")
            )
    return problems


def may_freeze(agreement: Agreement | None, seen_version: int) -> None:
    """Freezing fixes the text the mediator has in front of them, and only that."""
    if agreement is None:
        raise WrongState("尚未起草调解协议。 / No agreement has been drafted yet.")
    if agreement.status is AgreementStatus.SEALED:
        raise _sealed()
    if agreement.status is AgreementStatus.FROZEN:
        raise Conflict(
            "调解协议已定稿，等待签名。 / The agreement is already fixed for signing.",
            code="already_frozen",
        )
    if agreement.version != seen_version:
        raise Conflict(
            "协议草稿已被修改，请在最新版本上定稿。"
            " / The draft has changed since you saw it: fix the latest version.",
            code="stale_draft",
        )


def may_party_sign(
    agreement: Agreement | None,
    party: int,
    parties: int,
    seen_digest: str,
    now: dt.datetime,
    due_at: dt.datetime | None,
) -> None:
    """A party signs the frozen text they saw, once, within the mediation's time limit."""
    _open_for_signatures(agreement, seen_digest, now, due_at)
    assert agreement is not None
    if not 0 <= party < parties:
        raise NotPermitted("没有这一方当事人。 / There is no such party.", code="no_such_party")
    if party in agreement.signed_parties():
        raise Conflict("该当事人已签名。 / This party has signed already.", code="already_signed")


def may_mediator_sign(
    agreement: Agreement | None,
    parties: int,
    seen_digest: str,
    now: dt.datetime,
    due_at: dt.datetime | None,
) -> None:
    """The mediator signs last, after every party, and only once."""
    _open_for_signatures(agreement, seen_digest, now, due_at)
    assert agreement is not None
    missing = parties - len(agreement.signed_parties())
    if missing:
        raise WrongState(
            f"还有 {missing} 方当事人未签名，调解员不能先签。"
            f" / {missing} party(ies) have not signed yet: the mediator signs last."
        )
    if agreement.mediator_signed():
        raise Conflict("调解员已签名。 / The mediator has signed already.", code="already_signed")


def may_seal(agreement: Agreement | None, parties: int) -> None:
    """The committee seals once every party and the mediator have signed this text."""
    if agreement is None or agreement.status is AgreementStatus.DRAFTING:
        raise WrongState("调解协议尚未定稿。 / The agreement is not fixed for signing yet.")
    if agreement.status is AgreementStatus.SEALED:
        raise _sealed()
    if len(agreement.signed_parties()) < parties or not agreement.mediator_signed():
        raise WrongState(
            "各方当事人和调解员签名后才能加盖调解委员会印章。"
            " / The committee seals only after every party and the mediator have signed."
        )


def _open_for_signatures(
    agreement: Agreement | None, seen_digest: str, now: dt.datetime, due_at: dt.datetime | None
) -> None:
    if agreement is None or agreement.status is AgreementStatus.DRAFTING:
        raise WrongState(
            "调解协议尚未定稿，不能签名。 / The agreement is not fixed for signing yet."
        )
    if agreement.status is AgreementStatus.SEALED:
        raise _sealed()
    if due_at is not None and now > due_at:
        raise WrongState(
            "调解期限已过，不能再签署调解协议。"
            " / The mediation's time limit has passed: the agreement can no longer be signed.",
            code="time_limit_passed",
        )
    if seen_digest != agreement.digest:
        raise AgreementChanged()


def confirmation_deadline(effective_at: dt.datetime) -> dt.datetime:
    """The last moment to apply jointly for judicial confirmation (art 33)."""
    return effective_at + CONFIRMATION_WINDOW


def draft_from_body(body: AgreementDraftBody) -> Draft:
    return Draft(
        facts=body.facts.strip(),
        responsibility=body.responsibility.strip(),
        terms=tuple(
            Term(
                t.text.strip(),
                Decimal(t.amount) if t.amount is not None else None,
                t.due,
            )
            for t in body.terms
        ),
        performance=body.performance.strip(),
    )


def draft_dict(draft: Draft) -> dict[str, Any]:
    """The draft as JSON keeps it: stored with each version and shown by the API."""
    return {
        "facts": draft.facts,
        "responsibility": draft.responsibility,
        "terms": [
            {
                "text": t.text,
                "amount": None if t.amount is None else f"{t.amount:.2f}",
                "due": None if t.due is None else t.due.isoformat(),
            }
            for t in draft.terms
        ],
        "performance": draft.performance,
    }


def draft_json(draft: Draft) -> str:
    return json.dumps(draft_dict(draft), ensure_ascii=False, sort_keys=True)


def draft_from_json(text: str) -> Draft:
    data = json.loads(text)
    return Draft(
        facts=data["facts"],
        responsibility=data["responsibility"],
        terms=tuple(
            Term(
                t["text"],
                None if t["amount"] is None else Decimal(t["amount"]),
                None if t["due"] is None else dt.date.fromisoformat(t["due"]),
            )
            for t in data["terms"]
        ),
        performance=data["performance"],
    )
