"""The parties' review of the transcript, as pure rules: a confirmation counts for the draft it
names, a correction makes earlier confirmations stale, a party noted as not signing is settled,
and the transcript may be archived only when every party is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.domain.errors import Conflict, ValidationError
from app.domain.session import Event, Kind
from app.domain.transcript_review import (
    NotSigned,
    check_archive,
    check_ask,
    check_confirm,
    check_not_signed,
    fold,
    read_correction,
    read_draft_hash,
    read_not_signed,
)

AT = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
PARTIES = {0: "张三", 1: "赵六"}
FIRST, SECOND = "a" * 64, "b" * 64


def event(seq: int, kind: Kind, party: int, **payload: Any) -> Event:
    return Event(1, seq, kind, party, payload, AT + dt.timedelta(seconds=seq), "kiosk1")


def confirmed(seq: int, party: int, sha: str) -> Event:
    return event(seq, Kind.TRANSCRIPT_CONFIRMED, party, device="kiosk", draft_sha256=sha)


def test_a_confirmation_counts_for_the_draft_it_names() -> None:
    review = fold([confirmed(1, 0, FIRST)], PARTIES)
    assert review.party(0).confirmed(FIRST) and not review.party(0).confirmed(SECOND)
    with pytest.raises(Conflict) as refused:
        check_archive(review, FIRST)
    assert refused.value.code == "transcript_unconfirmed" and "赵六" in refused.value.message
    # 张三 again on the same draft: refused; 赵六 on a draft no longer current: refused.
    with pytest.raises(Conflict, match="已确认笔录"):
        check_confirm(review, 0, FIRST, FIRST)
    with pytest.raises(Conflict) as changed:
        check_confirm(review, 1, FIRST, SECOND)
    assert changed.value.code == "transcript_changed"
    check_confirm(review, 1, FIRST, FIRST)
    done = fold([confirmed(1, 0, FIRST), confirmed(2, 1, FIRST)], PARTIES)
    check_archive(done, FIRST)


def test_a_correction_makes_earlier_confirmations_stale() -> None:
    events = [
        confirmed(1, 0, FIRST),
        event(2, Kind.TRANSCRIPT_CORRECTION_ASKED, 1, device="kiosk"),
    ]
    asked = fold(events, PARTIES)
    assert asked.party(1).asked_at is not None
    events.append(
        event(3, Kind.TRANSCRIPT_CORRECTION, 1, request="我说的是三万元", granted=True, text="改正")
    )
    corrected = fold(events, PARTIES)
    assert corrected.party(1).asked_at is None  # decided
    assert [c.name for c in corrected.corrections] == ["赵六"]
    # The draft changed with the correction: 张三's confirmation of the first one is stale.
    assert [p.name for p in corrected.outstanding(SECOND)] == ["张三", "赵六"]


def test_a_party_noted_as_not_signing_is_settled() -> None:
    events = [
        confirmed(1, 0, FIRST),
        event(2, Kind.TRANSCRIPT_NOT_SIGNED, 1, reason="refused", note="拒绝"),
    ]
    review = fold(events, PARTIES)
    assert review.party(1).not_signed is NotSigned.REFUSED
    check_archive(review, FIRST)
    for check in (
        lambda: check_confirm(review, 1, FIRST, FIRST),
        lambda: check_ask(review, 1),
        lambda: check_not_signed(review, 1, FIRST),
    ):
        with pytest.raises(Conflict):
            check()
    # A party who confirmed is not noted as refusing.
    with pytest.raises(Conflict):
        check_not_signed(review, 0, FIRST)


def test_only_the_latest_sessions_records_count() -> None:
    earlier = Event(
        1, 1, Kind.TRANSCRIPT_CONFIRMED, 0, {"device": "kiosk", "draft_sha256": FIRST}, AT, "k"
    )
    opened = Event(2, 1, Kind.OPENED, None, {}, AT, "judge")
    assert not fold([earlier, opened], PARTIES).party(0).confirmed(FIRST)


@pytest.mark.parametrize(
    "data",
    [
        {"request": "x", "granted": "yes", "text": "y"},
        {"request": "", "granted": True, "text": "y"},
        {"request": "x", "granted": False, "text": " "},
        {"request": "身份证440300199001010014", "granted": True, "text": "y"},
        {"request": "x" * 1001, "granted": True, "text": "y"},
    ],
)
def test_corrections_are_read_strictly(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        read_correction(data)


def test_what_the_judge_and_the_parties_send_is_read_strictly() -> None:
    assert read_correction({"request": " 漏记 ", "granted": False, "text": "与录像一致"}) == {
        "request": "漏记",
        "granted": False,
        "text": "与录像一致",
    }
    assert read_not_signed({"reason": "left"}) == {"reason": "left", "note": ""}
    for bad in ({"reason": "gone"}, {"reason": "refused", "note": 5}):
        with pytest.raises(ValidationError):
            read_not_signed(bad)
    assert read_draft_hash({"draft_sha256": FIRST}) == FIRST
    for bad_hash in ({}, {"draft_sha256": "abc"}, {"draft_sha256": 7}):
        with pytest.raises(ValidationError):
            read_draft_hash(bad_hash)
