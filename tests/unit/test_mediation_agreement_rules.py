"""The agreement's rules (People's Mediation Law arts 29, 33): one frozen text signed by every
party and then the mediator; a change voids every signature; nothing after the seal or the
time limit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.domain import mediation_agreement as rules
from app.domain.errors import Conflict, NotPermitted, WrongState
from app.domain.mediation_agreement import Agreement, AgreementStatus, Signature

NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
DUE = NOW + dt.timedelta(days=3)
A, B = "a" * 64, "b" * 64


def agreement(status: AgreementStatus, digest: str | None = A, *signed: int | None) -> Agreement:
    sigs = tuple(Signature(p, 2, A, NOW) for p in signed)
    return Agreement(status, 2, digest, sigs)


def test_a_signature_counts_only_on_the_text_frozen_now() -> None:
    old = Signature(0, 2, B, NOW)
    now = Signature(1, 3, A, NOW)
    frozen = Agreement(AgreementStatus.FROZEN, 3, A, (old, now))
    assert frozen.current() == (now,)
    assert frozen.signed_parties() == {1}
    # Changed and changed back: the same words, but a new version, signed again.
    again = Agreement(AgreementStatus.FROZEN, 5, A, (old, now))
    assert again.current() == () and again.signed_parties() == frozenset()
    # Back to drafting after a change: nothing counts until the new text is frozen and signed.
    drafting = Agreement(AgreementStatus.DRAFTING, 4, None, (old, now))
    assert drafting.current() == () and not drafting.mediator_signed()


def test_each_party_signs_the_text_they_saw_once() -> None:
    frozen = agreement(AgreementStatus.FROZEN, A, 0)
    rules.may_party_sign(frozen, 1, 2, A, NOW, DUE)
    with pytest.raises(Conflict) as twice:
        rules.may_party_sign(frozen, 0, 2, A, NOW, DUE)
    assert twice.value.code == "already_signed"
    with pytest.raises(rules.AgreementChanged):
        rules.may_party_sign(frozen, 1, 2, B, NOW, DUE)
    with pytest.raises(NotPermitted):
        rules.may_party_sign(frozen, 2, 2, A, NOW, DUE)


def test_nothing_is_signed_while_drafting_after_the_seal_or_after_the_time_limit() -> None:
    with pytest.raises(WrongState, match="尚未定稿"):
        rules.may_party_sign(agreement(AgreementStatus.DRAFTING, None), 0, 2, A, NOW, DUE)
    with pytest.raises(WrongState, match="已签章生效"):
        rules.may_party_sign(agreement(AgreementStatus.SEALED), 0, 2, A, NOW, DUE)
    late = DUE + dt.timedelta(seconds=1)
    with pytest.raises(WrongState, match="调解期限已过") as refused:
        rules.may_party_sign(agreement(AgreementStatus.FROZEN), 0, 2, A, late, DUE)
    assert refused.value.code == "time_limit_passed"
    with pytest.raises(WrongState, match="调解期限已过"):
        rules.may_mediator_sign(agreement(AgreementStatus.FROZEN, A, 0, 1), 2, A, late, DUE)


def test_the_mediator_signs_last_and_the_committee_seals_after_everyone() -> None:
    with pytest.raises(WrongState, match="还有 1 方当事人未签名"):
        rules.may_mediator_sign(agreement(AgreementStatus.FROZEN, A, 0), 2, A, NOW, DUE)
    both = agreement(AgreementStatus.FROZEN, A, 0, 1)
    rules.may_mediator_sign(both, 2, A, NOW, DUE)
    with pytest.raises(WrongState, match="签名后才能加盖"):
        rules.may_seal(both, 2)
    everyone = agreement(AgreementStatus.FROZEN, A, 0, 1, None)
    rules.may_seal(everyone, 2)
    with pytest.raises(Conflict):
        rules.may_mediator_sign(everyone, 2, A, NOW, DUE)
    with pytest.raises(WrongState):
        rules.may_seal(agreement(AgreementStatus.SEALED, A, 0, 1, None), 2)


def test_freezing_fixes_the_version_the_mediator_sees_and_a_sealed_text_never_changes() -> None:
    drafting = agreement(AgreementStatus.DRAFTING, None)
    rules.may_freeze(drafting, 2)
    with pytest.raises(Conflict) as stale:
        rules.may_freeze(drafting, 1)
    assert stale.value.code == "stale_draft"
    with pytest.raises(Conflict):
        rules.may_freeze(agreement(AgreementStatus.FROZEN), 2)
    with pytest.raises(WrongState):
        rules.may_freeze(None, 1)
    rules.may_edit(None)
    rules.may_edit(agreement(AgreementStatus.FROZEN, A, 0))  # allowed: it voids the signature
    with pytest.raises(WrongState):
        rules.may_edit(agreement(AgreementStatus.SEALED))


def test_a_draft_needs_a_term_and_positive_amounts() -> None:
    empty = rules.Draft("事实", "责任", (), "履行")
    assert [f for f, _ in rules.check_draft(empty)] == ["terms"]
    bad = rules.Draft("事实", "责任", (rules.Term("支付", Decimal("0")),), "履行")
    assert [f for f, _ in rules.check_draft(bad)] == ["terms[0].amount"]
    good = rules.Draft("事实", "责任", (rules.Term("支付", Decimal("12000.50")),), "履行")
    assert rules.check_draft(good) == []


def test_the_window_to_apply_for_confirmation_is_thirty_days_from_the_seal() -> None:
    assert rules.confirmation_deadline(NOW) == NOW + dt.timedelta(days=30)
