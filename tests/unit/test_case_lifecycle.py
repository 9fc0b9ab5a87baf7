"""The transition table, checked exhaustively against a table written by hand from the issue.

Lifecycle from the issue: draft → submitted → accepted (or not accepted) → scheduled →
in session → confirmed / rejected / withdrawn → ruling issued → served → archived; plus the
clerk's return (submitted → draft), rescheduling, withdrawal from accepted / scheduled /
in session, and archiving a case that was not accepted.
"""

from __future__ import annotations

import itertools

import pytest

from app.domain.cases import TERMINAL, State, Step, advance, steps_from, transition_for
from app.domain.errors import NotPermitted, TransitionRefused
from app.domain.roles import Role
from app.domain.state_words import STEP_DOING, standing

S, T, R = State, Step, Role

# (state, step) → (target, roles allowed). Written out by hand, not derived from the code.
EXPECTED: dict[tuple[State, Step], tuple[State, frozenset[Role]]] = {
    (S.DRAFT, T.SUBMIT): (S.SUBMITTED, frozenset({R.MEDIATOR})),
    (S.SUBMITTED, T.RETURN): (S.DRAFT, frozenset({R.CLERK})),
    (S.SUBMITTED, T.ACCEPT): (S.ACCEPTED, frozenset({R.CLERK})),
    (S.SUBMITTED, T.DECLINE): (S.NOT_ACCEPTED, frozenset({R.CLERK})),
    (S.ACCEPTED, T.SCHEDULE): (S.SCHEDULED, frozenset({R.CLERK})),
    (S.SCHEDULED, T.SCHEDULE): (S.SCHEDULED, frozenset({R.CLERK})),
    (S.SCHEDULED, T.OPEN_SESSION): (S.IN_SESSION, frozenset({R.JUDGE})),
    (S.ACCEPTED, T.WITHDRAW): (S.WITHDRAWN, frozenset({R.JUDGE})),
    (S.SCHEDULED, T.WITHDRAW): (S.WITHDRAWN, frozenset({R.JUDGE})),
    (S.IN_SESSION, T.WITHDRAW): (S.WITHDRAWN, frozenset({R.JUDGE})),
    (S.IN_SESSION, T.CONFIRM): (S.CONFIRMED, frozenset({R.JUDGE})),
    (S.IN_SESSION, T.REJECT): (S.REJECTED, frozenset({R.JUDGE})),
    (S.CONFIRMED, T.ISSUE_RULING): (S.RULING_ISSUED, frozenset({R.JUDGE})),
    (S.REJECTED, T.ISSUE_RULING): (S.RULING_ISSUED, frozenset({R.JUDGE})),
    (S.WITHDRAWN, T.ISSUE_RULING): (S.RULING_ISSUED, frozenset({R.JUDGE})),
    (S.RULING_ISSUED, T.SERVE): (S.SERVED, frozenset({R.SYSTEM, R.CLERK})),
    (S.SERVED, T.ARCHIVE): (S.ARCHIVED, frozenset({R.CLERK})),
    (S.NOT_ACCEPTED, T.ARCHIVE): (S.ARCHIVED, frozenset({R.CLERK})),
}

PAIRS = list(itertools.product(State, Step))


@pytest.mark.parametrize(("state", "step"), PAIRS, ids=[f"{s.value}-{t.value}" for s, t in PAIRS])
def test_every_state_step_and_role_against_the_hand_written_table(state: State, step: Step) -> None:
    expected = EXPECTED.get((state, step))
    for role in Role:
        if expected is None:
            with pytest.raises(TransitionRefused) as refused:
                advance(state, step, role)
            message = str(refused.value)
            # In words, not codes: the state where the case stands and the step refused.
            assert standing(state)[0] in message and STEP_DOING[step][0] in message, message
            assert (refused.value.state, refused.value.step) == (state.value, step.value)
            assert refused.value.code == "transition_refused"
        elif role in expected[1]:
            assert advance(state, step, role) is expected[0]
        else:
            with pytest.raises(NotPermitted) as denied:
                advance(state, step, role)
            assert role.value in str(denied.value) and step.value in str(denied.value)
            assert denied.value.code == "forbidden"


def test_the_table_has_exactly_the_expected_transitions() -> None:
    found = {
        (s, t): (tr.target, tr.roles) for s, t in PAIRS if (tr := transition_for(s, t)) is not None
    }
    assert found == EXPECTED


@pytest.mark.parametrize("role", list(Role))
def test_steps_offered_to_a_role_are_exactly_those_it_may_take(role: Role) -> None:
    for state in State:
        expected = [t for t in Step if role in EXPECTED.get((state, t), (None, frozenset()))[1]]
        assert sorted(steps_from(state, role)) == sorted(expected), (state, role)


def test_every_case_can_reach_the_archive_and_the_archive_is_final() -> None:
    for start in State:
        seen, frontier = {start}, [start]
        while frontier:
            state = frontier.pop()
            for (source, _step), (target, _roles) in EXPECTED.items():
                if source is state and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert State.ARCHIVED in seen, f"{start} cannot reach the archive"
    assert {State.ARCHIVED} == TERMINAL
    assert all(transition_for(State.ARCHIVED, step) is None for step in Step)


def test_the_main_path_walks_through_in_order() -> None:
    path = [
        (T.SUBMIT, R.MEDIATOR, S.SUBMITTED),
        (T.ACCEPT, R.CLERK, S.ACCEPTED),
        (T.SCHEDULE, R.CLERK, S.SCHEDULED),
        (T.SCHEDULE, R.CLERK, S.SCHEDULED),
        (T.OPEN_SESSION, R.JUDGE, S.IN_SESSION),
        (T.CONFIRM, R.JUDGE, S.CONFIRMED),
        (T.ISSUE_RULING, R.JUDGE, S.RULING_ISSUED),
        (T.SERVE, R.SYSTEM, S.SERVED),
        (T.ARCHIVE, R.CLERK, S.ARCHIVED),
    ]
    state = S.DRAFT
    for step, role, target in path:
        state = advance(state, step, role)
        assert state is target
