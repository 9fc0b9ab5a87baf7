"""The live session model: event sequences → state, refusals naming what is missing, timings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.domain.errors import Conflict, ValidationError, WrongState
from app.domain.grounds import RejectGround
from app.domain.session import (
    TARGET,
    Answers,
    Event,
    Gap,
    IdentityCheck,
    Kind,
    NotReady,
    Phase,
    SelfTest,
    SessionRefused,
    SessionView,
    check_answers,
    check_consent,
    check_decision,
    check_identity,
    check_review,
    check_warning,
    derive,
    read_review,
)

T0 = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
PARTIES = {0: "张三", 1: "赵六"}
PASSED = {"method": "id_card_camera", "result": "passed", "reference": "", "note": ""}
YES = {"agreed_freely": True, "understands": True, "note": ""}
ALL_ABSENT = {"items": {g.value: {"present": False, "note": ""} for g in RejectGround}}


class Script:
    """Builds a session's events minute by minute."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.session = 1

    def add(self, minute: float, kind: Kind, party: int | None = None, **payload: Any) -> Script:
        seq = sum(1 for e in self.events if e.session == self.session) + 1
        at = T0 + dt.timedelta(minutes=minute)
        self.events.append(Event(self.session, seq, kind, party, payload, at, "someone"))
        return self

    def reconvene(self, minute: float) -> Script:
        self.session += 1
        return self.add(minute, Kind.OPENED)

    def view(self, minute: float = 60, **facts: Any) -> SessionView:
        return derive(self.events, PARTIES, now=T0 + dt.timedelta(minutes=minute), **facts)


def at(minute: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minute)


def through_identity(s: Script | None = None) -> Script:
    s = s or Script()
    s.add(0, Kind.ADMIT)
    s.add(2, Kind.IDENTITY, 0, **PASSED)
    s.add(4, Kind.IDENTITY, 1, **PASSED)
    return s


def through_inquiry(s: Script | None = None) -> Script:
    s = through_identity(s)
    for p in (0, 1):
        s.add(5, Kind.WARNING_ACK, p)
        s.add(6, Kind.ANSWERS, p, **YES)
        s.add(7 + p, Kind.CONSENT, p, device="kiosk")
    return s


def complete() -> Script:
    return through_inquiry().add(10, Kind.REVIEW, **ALL_ABSENT)


# --- reading records -----------------------------------------------------------------------


def test_an_empty_session_waits_in_identity_with_no_clock_running() -> None:
    view = Script().view()
    assert view.number == 1 and view.phase is Phase.IDENTITY
    assert view.started_at is None and view.timings == () and view.elapsed_seconds == 0
    assert [p.name for p in view.parties] == ["张三", "赵六"]


def test_identity_check_values_validate_themselves() -> None:
    check = IdentityCheck.read(
        {"method": "identity_platform", "result": "passed", "reference": "CTID-2026-778"}
    )
    assert check.passed and check.reference == "CTID-2026-778"
    with pytest.raises(ValidationError) as refused:
        IdentityCheck.read({"method": "fingerprint", "result": "maybe"})
    assert {f for f, _ in refused.value.problems} == {"method", "result"}


def test_a_platform_check_needs_its_reference() -> None:
    with pytest.raises(ValidationError) as refused:
        IdentityCheck.read({"method": "identity_platform", "result": "passed"})
    assert refused.value.problems[0][0] == "reference"


@pytest.mark.parametrize("field", ["note", "reference"])
def test_id_numbers_are_refused_in_notes_and_references(field: str) -> None:
    data = {"method": "id_photo", "result": "passed", field: "证件号440311198005120015"}
    with pytest.raises(ValidationError) as refused:
        IdentityCheck.read(data)
    assert refused.value.problems[0][0] == field


def test_answers_and_self_test_need_true_or_false() -> None:
    with pytest.raises(ValidationError):
        Answers.read({"agreed_freely": "yes", "understands": True})
    assert not Answers.read({"agreed_freely": True, "understands": False}).all_yes
    assert SelfTest.read({"camera": True, "microphone": True, "network": True}).ok
    with pytest.raises(ValidationError):
        SelfTest.read({"camera": True})


def test_review_items_must_be_grounds_and_a_present_one_needs_a_note() -> None:
    with pytest.raises(ValidationError) as refused:
        read_review({"items": {"astrology": {"present": False}}})
    assert refused.value.problems[0][0] == "items.astrology"
    with pytest.raises(ValidationError) as refused:
        read_review({"items": {"unclear": {"present": True}}})
    assert refused.value.problems[0][0] == "items.unclear.note"
    with pytest.raises(ValidationError):
        read_review({"items": {}})


# --- the rules -----------------------------------------------------------------------------


def test_consent_before_identity_names_what_is_missing() -> None:
    view = Script().add(0, Kind.ADMIT).add(1, Kind.WARNING_ACK, 0).view()
    with pytest.raises(SessionRefused) as refused:
        check_consent(view, 0)
    assert refused.value.missing == ("申请人张三的身份核验尚未通过",)
    assert refused.value.code == "session_refused"
    assert isinstance(refused.value, WrongState)  # answered as 409


def test_consent_after_a_failed_check_is_refused() -> None:
    s = Script().add(0, Kind.IDENTITY, 0, **{**PASSED, "result": "failed"})
    with pytest.raises(SessionRefused, match="身份核验尚未通过"):
        check_consent(s.view(), 0)


def test_consent_needs_the_sham_mediation_warning_acknowledged() -> None:
    view = through_identity().view()
    with pytest.raises(SessionRefused) as refused:
        check_consent(view, 1)
    assert refused.value.missing == ("申请人赵六尚未确认知悉虚假调解风险告知",)


def test_consent_once_per_party() -> None:
    view = through_inquiry().view()
    with pytest.raises(Conflict):
        check_consent(view, 0)
    with pytest.raises(Conflict):
        check_warning(view, 0)


def test_answers_only_after_identity_passed() -> None:
    with pytest.raises(SessionRefused, match="申请人赵六"):
        check_answers(Script().add(0, Kind.IDENTITY, 0, **PASSED).view(), 1, YES)
    assert check_answers(through_identity().view(), 1, YES).all_yes


def test_an_unknown_party_is_refused() -> None:
    with pytest.raises(ValidationError, match="No party 7"):
        check_identity(Script().view(), 7, PASSED)


def test_a_later_identity_check_replaces_an_earlier_one() -> None:
    s = Script().add(0, Kind.IDENTITY, 0, **{**PASSED, "result": "failed"})
    assert not s.view().party(0).identity_passed
    s.add(1, Kind.IDENTITY, 0, **{**PASSED, "method": "id_photo"})
    record = s.view().party(0)
    assert record.identity_passed and record.identity is not None
    assert record.identity.method.value == "id_photo" and record.identity_at == at(1)


def test_review_answers_merge_item_by_item() -> None:
    s = Script().add(0, Kind.REVIEW, items={"unclear": {"present": False, "note": ""}})
    s.add(1, Kind.REVIEW, items={"unclear": {"present": True, "note": "给付期限不明"}})
    s.add(2, Kind.REVIEW, items={"other": {"present": False, "note": ""}})
    view = s.view()
    assert view.review[RejectGround.UNCLEAR].present
    assert set(view.unanswered()) == set(RejectGround) - {RejectGround.UNCLEAR, RejectGround.OTHER}
    assert check_review(view, ALL_ABSENT)[RejectGround.OTHER].present is False


def test_confirm_only_when_everything_is_in_place() -> None:
    check_decision(complete().view(), "confirm", None)


def test_confirm_refusal_lists_every_missing_item() -> None:
    s = through_identity().add(5, Kind.WARNING_ACK, 0).add(6, Kind.ANSWERS, 0, **YES)
    s.add(7, Kind.CONSENT, 0)
    with pytest.raises(NotReady) as refused:
        check_decision(s.view(), "confirm", None)
    missing = refused.value.missing
    assert "申请人赵六尚未确认知悉虚假调解风险告知" in missing
    assert "申请人赵六尚未在终端确认" in missing
    assert "申请人赵六尚未回答询问" in missing
    assert not [m for m in missing if "张三" in m]
    assert sum("尚未审查" in m for m in missing) == 6
    assert refused.value.code == "session_not_ready"


def test_missing_items_carry_a_code_the_party_and_both_languages() -> None:
    view = through_identity().add(5, Kind.WARNING_ACK, 0).view()
    items = view.missing_for_confirm()
    consent = next(m for m in items if m.gap is Gap.CONSENT_PENDING and m.party == 1)
    assert consent.name == "赵六" and consent.zh == "申请人赵六尚未在终端确认"
    assert consent.en == "Applicant 赵六: not yet confirmed at the kiosk"
    review = next(m for m in items if m.grounds == (RejectGround.PUBLIC_ORDER,))
    assert review.gap is Gap.REVIEW_PENDING and review.party is None
    assert review.zh == "审查事项“违背公序良俗”尚未审查"
    assert review.en == "Review item “Against public order” not yet reviewed"
    # Only the names stay Chinese in English wording.
    english = " ".join(m.en.replace("赵六", "").replace("张三", "") for m in items)
    assert not any("\u4e00" <= c <= "\u9fff" for c in english), english
    # The refusal keeps one "中文 / English" message: each half lists the items in its language.
    with pytest.raises(NotReady) as refused:
        check_decision(view, "confirm", None)
    zh, en = refused.value.message.split(" / ")
    assert "申请人赵六尚未在终端确认" in zh
    assert "Applicant 赵六: not yet confirmed at the kiosk" in en
    assert refused.value.items == tuple(items)


def test_confirm_refused_when_a_party_said_no_or_a_ground_is_present() -> None:
    s = complete().add(11, Kind.ANSWERS, 1, **{**YES, "understands": False})
    with pytest.raises(NotReady, match="申请人赵六表示不清楚协议内容"):
        check_decision(s.view(), "confirm", None)
    s = complete().add(11, Kind.REVIEW, items={"public_order": {"present": True, "note": "赌债"}})
    with pytest.raises(NotReady, match="违背公序良俗"):
        check_decision(s.view(), "confirm", None)


def test_reject_needs_its_ground_found_in_the_review() -> None:
    s = complete().add(11, Kind.REVIEW, items={"public_order": {"present": True, "note": "赌债"}})
    check_decision(s.view(), "reject", RejectGround.PUBLIC_ORDER)
    with pytest.raises(NotReady) as refused:
        check_decision(s.view(), "reject", RejectGround.UNCLEAR)
    assert refused.value.missing == ("审查中认定存在的事项：违背公序良俗",)
    with pytest.raises(ValidationError):
        check_decision(s.view(), "reject", None)


def test_a_no_answer_supports_rejection_as_not_voluntary_only() -> None:
    s = through_identity().add(5, Kind.ANSWERS, 0, **{**YES, "agreed_freely": False})
    check_decision(s.view(), "reject", RejectGround.NOT_VOLUNTARY)
    with pytest.raises(NotReady):
        check_decision(s.view(), "reject", RejectGround.MANDATORY_LAW)
    with pytest.raises(NotReady, match="也没有申请人在询问中作出否定回答"):
        check_decision(complete().view(), "reject", RejectGround.NOT_VOLUNTARY)


def test_withdrawal_is_always_allowed() -> None:
    check_decision(Script().view(), "withdraw", None)
    check_decision(through_identity().view(), "withdraw", None)


def test_an_unknown_decision_is_refused() -> None:
    with pytest.raises(ValidationError):
        check_decision(complete().view(), "postpone", None)


# --- phases and timings --------------------------------------------------------------------


def test_phases_follow_the_records() -> None:
    assert through_identity().view().phase is Phase.INQUIRY
    assert through_inquiry().view().phase is Phase.REVIEW
    assert complete().view().phase is Phase.REVIEW  # until the judge decides
    assert complete().view(decided_at=at(12)).phase is Phase.SERVICE
    assert complete().view(decided_at=at(12), served_at=at(15)).phase is Phase.CLOSED


def test_a_no_answer_ends_the_inquiry_without_a_consent() -> None:
    s = through_identity()
    s.add(5, Kind.ANSWERS, 0, **{**YES, "agreed_freely": False})
    s.add(6, Kind.ANSWERS, 1, **{**YES, "agreed_freely": False})
    assert s.view().phase is Phase.REVIEW


def test_time_spent_in_each_phase() -> None:
    view = complete().view(minute=14, decided_at=at(12))
    got = [(t.phase, t.started_at, t.ended_at, t.seconds) for t in view.timings]
    assert got == [
        (Phase.IDENTITY, at(0), at(4), 240),
        (Phase.INQUIRY, at(4), at(8), 240),
        (Phase.REVIEW, at(8), at(12), 240),
        (Phase.SERVICE, at(12), None, 120),  # running: up to now
    ]
    assert view.elapsed_seconds == 14 * 60 and not view.over_target
    assert view.target_seconds == TARGET.total_seconds() == 1200


def test_the_clock_stops_when_service_completes_and_reports_overrun() -> None:
    view = complete().view(minute=90, decided_at=at(12), served_at=at(25))
    assert view.timings[-1].ended_at == at(25) and view.elapsed_seconds == 25 * 60
    assert view.over_target


def test_the_clock_starts_at_admission_not_at_the_kiosk_self_test() -> None:
    s = Script().add(-15, Kind.CHECK_IN, camera=True, microphone=True, network=False)
    s.add(0, Kind.ADMIT)
    view = s.view(minute=3)
    assert view.started_at == at(0) and view.elapsed_seconds == 180
    assert view.check_in is not None and not view.check_in.ok and view.checked_in_at == at(-15)


def test_a_withdrawal_during_identity_closes_the_phases_in_progress() -> None:
    s = Script().add(0, Kind.ADMIT).add(2, Kind.IDENTITY, 0, **PASSED)
    view = s.view(minute=6, decided_at=at(5))
    assert view.phase is Phase.SERVICE
    assert [(t.phase, t.seconds) for t in view.timings] == [
        (Phase.IDENTITY, 300),
        (Phase.INQUIRY, 0),
        (Phase.REVIEW, 0),
        (Phase.SERVICE, 60),
    ]


def test_a_failed_recheck_reopens_identity() -> None:
    s = through_identity().add(5, Kind.IDENTITY, 1, **{**PASSED, "result": "failed"})
    view = s.view(minute=6)
    assert view.phase is Phase.IDENTITY and view.timings[0].ended_at is None


def test_a_new_session_starts_fresh() -> None:
    s = complete().reconvene(30)
    view = s.view(minute=31)
    assert view.number == 2 and view.phase is Phase.IDENTITY
    assert all(p.identity is None and p.consented_at is None for p in view.parties)
    assert view.review == {} and view.started_at == at(30) and view.elapsed_seconds == 60
    with pytest.raises(NotReady, match="申请人张三尚未核验身份"):
        check_decision(view, "confirm", None)


def test_deriving_twice_gives_the_same_state() -> None:
    s = complete()
    assert s.view(minute=20) == s.view(minute=20)
    shuffled = list(reversed(s.events))
    assert derive(shuffled, PARTIES, now=at(20)) == s.view(minute=20)
