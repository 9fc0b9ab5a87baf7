"""A refusal for the wrong state is a whole sentence in each language, with the state in words."""

from __future__ import annotations

import re

from app.domain.cases import State, Step
from app.domain.errors import TransitionRefused
from app.domain.state_words import STATE_LABEL, STEP_DOING, wrong_state

CODE = re.compile(r"[a-z]+_[a-z_]+|\b(?:served|scheduled|draft|archived)\b\"")


def test_every_state_and_step_has_words() -> None:
    assert set(STATE_LABEL) == {s.value for s in State}
    assert set(STEP_DOING) == {s.value for s in Step}
    for state in State:
        zh, en = wrong_state(state, "核验身份", "record an identity check").split(" / ")
        assert zh.startswith("本案") and zh.endswith("。") and state.value not in zh
        assert en.startswith("Cannot record an identity check: this case is") and en.endswith(".")
        assert not CODE.search(en), en


def test_the_judge_reads_served_as_words() -> None:
    message = wrong_state("served", "核验身份", "record an identity check")
    assert message == (
        "本案裁定书已送达，不能核验身份。 / "
        "Cannot record an identity check: this case is already served."
    )


def test_a_refused_step_names_state_and_step_in_words() -> None:
    refused = TransitionRefused("served", "issue_ruling")
    assert refused.message == (
        "本案裁定书已送达，不能出具裁定书。 / Cannot issue the ruling: this case is already served."
    )
    assert (refused.state, refused.step) == ("served", "issue_ruling")
