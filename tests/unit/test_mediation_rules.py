"""The mediation case's lifecycle and time limit (app/domain/mediation.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.domain.errors import NotPermitted
from app.domain.mediation import (
    ENDED,
    TIME_LIMIT,
    MediationRefused,
    MediationState,
    MediationStep,
    Urgency,
    advance,
    steps_from,
    time_limit,
)
from app.domain.roles import Role

S, St = MediationState, MediationStep
NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)


def test_the_straight_way_from_filing_to_agreement() -> None:
    state = S.FILED
    for step in (St.ACCEPT, St.SCHEDULE, St.SCHEDULE, St.START, St.AGREE):
        state = advance(state, step, Role.MEDIATOR)
    assert state is S.AGREED


@pytest.mark.parametrize("source", [S.FILED, S.ACCEPTED, S.SCHEDULED, S.IN_MEDIATION])
def test_a_party_may_refuse_or_end_it_until_it_has_ended(source: MediationState) -> None:
    assert advance(source, St.REFUSE, Role.MEDIATOR) is S.REFUSED
    assert advance(source, St.WITHDRAW, Role.MEDIATOR) is S.WITHDRAWN


@pytest.mark.parametrize("ended", sorted(ENDED))
def test_nothing_moves_an_ended_mediation(ended: MediationState) -> None:
    assert steps_from(ended) == []
    for step in MediationStep:
        with pytest.raises(MediationRefused) as refused:
            advance(ended, step, Role.MEDIATOR)
        message = refused.value.message
        assert message.startswith("本调解案件") and " / Cannot " in message, message


def test_an_agreement_only_comes_out_of_a_session() -> None:
    for source in (S.FILED, S.ACCEPTED, S.SCHEDULED):
        with pytest.raises(MediationRefused):
            advance(source, St.AGREE, Role.MEDIATOR)
    with pytest.raises(MediationRefused) as refused:
        advance(S.FILED, St.START, Role.MEDIATOR)
    assert refused.value.message == (
        "本调解案件待受理，不能开始调解。 / Cannot start the session: this mediation is filed."
    )


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.MEDIATOR])
def test_only_a_mediator_acts_on_a_mediation(role: Role) -> None:
    with pytest.raises(NotPermitted):
        advance(S.FILED, St.ACCEPT, role)


def test_the_time_limit_runs_from_acceptance() -> None:
    assert time_limit(S.FILED, None, NOW).due_at is None
    accepted = NOW - dt.timedelta(days=10)
    limit = time_limit(S.ACCEPTED, accepted, NOW)
    assert limit.due_at == accepted + TIME_LIMIT
    assert (limit.days_left, limit.urgency) == (20, Urgency.ON_TIME)
    # One hour into the last day still reads one day left, and is due soon.
    last = time_limit(S.IN_MEDIATION, NOW - TIME_LIMIT + dt.timedelta(hours=1), NOW)
    assert (last.days_left, last.urgency) == (1, Urgency.DUE_SOON)
    late = time_limit(S.SCHEDULED, NOW - TIME_LIMIT - dt.timedelta(days=2), NOW)
    assert (late.days_left, late.urgency) == (-2, Urgency.OVERDUE)
    assert time_limit(S.AGREED, accepted, NOW).urgency is Urgency.CLOSED
