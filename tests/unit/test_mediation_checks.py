"""A mediation session's checks of a party, in the pure core: the mediator checks identity; the
party taps consent, rights and the sham-mediation warning, each once, in order; a party signs
only after all four."""

from __future__ import annotations

import pytest

from app.domain.errors import Conflict, NotPermitted, WrongState
from app.domain.mediation_checks import (
    ORDER,
    WORDING,
    Check,
    Done,
    done_by_party,
    may_record,
    next_check,
    ready,
    require_ready,
)


def test_the_four_checks_in_order() -> None:
    done: set[Check] = set()
    for check in ORDER:
        assert next_check(done) is check and not ready(done)
        may_record(done, check, by_mediator=check is Check.IDENTITY)
        done.add(check)
    assert next_check(done) is None and ready(done)
    require_ready(done)


def test_who_makes_which_check() -> None:
    with pytest.raises(NotPermitted, match="调解员不能代为确认"):
        may_record({Check.IDENTITY}, Check.CONSENT, by_mediator=True)
    with pytest.raises(NotPermitted, match="身份核验由调解员完成"):
        may_record(set(), Check.IDENTITY, by_mediator=False)


def test_no_check_out_of_turn_or_twice() -> None:
    with pytest.raises(WrongState, match="请先完成：调解员已通过视频核对"):
        may_record(set(), Check.CONSENT, by_mediator=False)
    with pytest.raises(WrongState, match="同意"):
        may_record({Check.IDENTITY}, Check.SHAM_WARNING, by_mediator=False)
    with pytest.raises(Conflict) as refused:
        may_record({Check.IDENTITY, Check.CONSENT}, Check.CONSENT, by_mediator=False)
    assert refused.value.code == "already_done"


def test_signing_waits_for_every_check() -> None:
    with pytest.raises(WrongState, match="尚未完成：本人已知悉：与他人恶意串通"):
        require_ready({Check.IDENTITY, Check.CONSENT, Check.RIGHTS})


def test_what_each_tap_says() -> None:
    assert "第二十三条" in WORDING[Check.RIGHTS][0] and "art 23" in WORDING[Check.RIGHTS][1]
    assert "虚假调解" in WORDING[Check.SHAM_WARNING][0]
    assert set(WORDING) == set(ORDER)


def test_checks_are_counted_per_party() -> None:
    found = done_by_party(
        [Done(0, Check.IDENTITY), Done(1, Check.IDENTITY), Done(0, Check.CONSENT)]
    )
    assert found == {0: {Check.IDENTITY, Check.CONSENT}, 1: {Check.IDENTITY}}
