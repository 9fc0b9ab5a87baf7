"""The audit chain's pure check: every kind of tampering is found at the right row."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import pytest

from app.domain.audit_chain import GENESIS, Link, check_chain, encode_details, link_hash

START = dt.datetime(2026, 11, 20, 1, 2, 3, 456789, tzinfo=dt.UTC)


def build(count: int) -> list[Link]:
    links: list[Link] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        at = START + dt.timedelta(seconds=seq)
        details = encode_details({"n": seq, "who": "书记员"})
        digest = link_hash(seq, at, f"user{seq % 3}", "case.accept", seq * 10, details, prev)
        links.append(
            Link(seq, at, f"user{seq % 3}", "case.accept", seq * 10, details, prev, digest)
        )
        prev = digest
    return links


def head(links: list[Link]) -> tuple[int, str]:
    return (links[-1].seq, links[-1].hash) if links else (0, GENESIS)


def test_link_hash_is_sha256_of_the_documented_fields() -> None:
    at = START.astimezone(dt.timezone(dt.timedelta(hours=8)))
    body = json.dumps(
        [1, START.isoformat(timespec="microseconds"), "clerk", "case.accept", 7, "{}", GENESIS],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert (
        link_hash(1, at, "clerk", "case.accept", 7, "{}", GENESIS)
        == hashlib.sha256(body.encode()).hexdigest()
    )


def test_an_intact_chain_verifies() -> None:
    links = build(6)
    report = check_chain(links, *head(links))
    assert report.intact and report.checked == 6 and report.reason is None
    empty = check_chain([], 0, GENESIS)
    assert empty.intact and empty.checked == 0


@pytest.mark.parametrize("field", ["details", "actor", "action", "case_id", "at"])
def test_altered_content_is_found_at_that_row(field: str) -> None:
    links = build(6)
    changed = {
        "details": '{"n":999}',
        "actor": "mallory",
        "action": "case.decline",
        "case_id": 1,
        "at": links[3].at + dt.timedelta(microseconds=1),
    }[field]
    links[3] = dataclasses.replace(links[3], **{field: changed})
    report = check_chain(links, *head(links))
    assert report.broken_at == 4 and report.checked == 3
    assert "content" in (report.reason or "")


def test_an_altered_row_with_a_recomputed_hash_breaks_the_next_link() -> None:
    links = build(6)
    forged = dataclasses.replace(links[2], details='{"n":0}')
    forged = dataclasses.replace(
        forged,
        hash=link_hash(
            forged.seq,
            forged.at,
            forged.actor,
            forged.action,
            forged.case_id,
            forged.details,
            forged.prev_hash,
        ),
    )
    links[2] = forged
    report = check_chain(links, *head(links))
    assert report.broken_at == 4 and "link" in (report.reason or "")


def test_an_altered_last_row_with_a_recomputed_hash_no_longer_matches_the_head() -> None:
    links = build(4)
    original_head = head(links)
    last = dataclasses.replace(links[-1], actor="mallory")
    links[-1] = dataclasses.replace(
        last,
        hash=link_hash(
            last.seq, last.at, last.actor, last.action, last.case_id, last.details, last.prev_hash
        ),
    )
    report = check_chain(links, *original_head)
    assert not report.intact and report.broken_at == 5


def test_a_removed_middle_row_is_reported_by_its_number() -> None:
    links = build(6)
    del links[2]
    report = check_chain(links, 6, build(6)[-1].hash)
    assert report.broken_at == 3 and "missing" in (report.reason or "")
    assert report.checked == 2


def test_a_removed_first_row_is_reported() -> None:
    links = build(3)
    report = check_chain(links[1:], *head(links))
    assert report.broken_at == 1


def test_a_removed_last_row_is_found_through_the_head() -> None:
    links = build(6)
    report = check_chain(links[:-1], *head(links))
    assert report.broken_at == 6 and "removed" in (report.reason or "")
    assert report.checked == 5


def test_removing_every_row_is_found() -> None:
    links = build(3)
    report = check_chain([], *head(links))
    assert report.broken_at == 1 and not report.intact


def test_reordered_rows_are_found() -> None:
    links = build(6)
    links[2], links[3] = links[3], links[2]
    report = check_chain(links, *head(links))
    assert report.broken_at == 3 and report.checked == 2


def test_renumbered_rows_are_found() -> None:
    links = build(4)
    links[1] = dataclasses.replace(links[1], seq=7)
    report = check_chain(links, *head(links))
    assert report.broken_at == 2


def test_details_are_canonical_json_and_never_hold_an_id_number() -> None:
    assert encode_details({"b": 1, "a": "王"}) == '{"a":"王","b":1}'
    for number in ("11010519491231002X", "11010519491231002x", "440524188001010014"):
        with pytest.raises(ValueError):
            encode_details({"note": f"身份证{number}号"})
        with pytest.raises(ValueError):
            encode_details({"id": number})
    # masked numbers and other long numbers are fine
    assert "4405" in encode_details({"id": "4405**********0014"})
    assert encode_details({"n": 12345678901234567}) == '{"n":12345678901234567}'
