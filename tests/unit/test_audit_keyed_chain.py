"""The keyed audit chain's pure check: a row edited and its chain recomputed without the key,
a wrong key, a forged or repeated seal, and unkeyed rows edited after sealing are all found."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets

from app.audit_key import AuditKey
from app.domain.audit_chain import (
    GENESIS,
    SEAL_ACTION,
    Link,
    check_chain,
    encode_details,
    keyed_link,
    link_hash,
    seal_details,
)

START = dt.datetime(2026, 12, 4, 1, 2, 3, 456789, tzinfo=dt.UTC)
KEY = AuditKey(secrets.token_bytes(32))


def _link(seq: int, prev: str, key: AuditKey | None, action: str, details: str) -> Link:
    at = START + dt.timedelta(seconds=seq)
    fields = (seq, at, "clerk", action, seq * 10, details, prev)
    digest = keyed_link(key, *fields) if key is not None else link_hash(*fields)
    return Link(seq, at, "clerk", action, seq * 10, details, prev, digest)


def chain(unkeyed: int, keyed: int, key: AuditKey = KEY) -> list[Link]:
    """`unkeyed` events as written before keying, the seal, then `keyed` events."""
    links: list[Link] = []
    prev = GENESIS
    for seq in range(1, unkeyed + 1):
        links.append(_link(seq, prev, None, "case.accept", encode_details({"n": seq})))
        prev = links[-1].hash
    seal = encode_details(seal_details(key.key_id, unkeyed, prev))
    links.append(_link(unkeyed + 1, prev, key, SEAL_ACTION, seal))
    prev = links[-1].hash
    for seq in range(unkeyed + 2, unkeyed + 2 + keyed):
        links.append(_link(seq, prev, key, "case.accept", encode_details({"n": seq})))
        prev = links[-1].hash
    return links


def head(links: list[Link]) -> tuple[int, str]:
    return links[-1].seq, links[-1].hash


def recompute_plainly(links: list[Link], start: int) -> list[Link]:
    """What an intruder without the key can do: SHA-256 over the same bytes from `start` on."""
    out = links[: start - 1]
    prev = out[-1].hash if out else GENESIS
    for link in links[start - 1 :]:
        digest = link_hash(
            link.seq, link.at, link.actor, link.action, link.case_id, link.details, prev
        )
        out.append(dataclasses.replace(link, prev_hash=prev, hash=digest))
        prev = digest
    return out


def test_a_keyed_link_is_the_documented_hmac() -> None:
    body = json.dumps(
        [1, START.isoformat(timespec="microseconds"), "clerk", "case.accept", 7, "{}", GENESIS],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    expected = hmac.new(KEY.secret, b"sifa audit link v2\0" + body, hashlib.sha256).hexdigest()
    assert keyed_link(KEY, 1, START, "clerk", "case.accept", 7, "{}", GENESIS) == expected
    assert expected != link_hash(1, START, "clerk", "case.accept", 7, "{}", GENESIS)
    assert KEY.key_id not in repr(KEY) and KEY.secret.hex() not in repr(KEY)


def test_a_sealed_chain_verifies_and_says_what_is_keyed() -> None:
    links = chain(unkeyed=3, keyed=4)
    report = check_chain(links, *head(links), KEY)
    assert report.intact and report.checked == 8
    assert report.sealed_at == 4 and report.unkeyed == 3 and report.key_id == KEY.key_id
    fresh = chain(unkeyed=0, keyed=5)
    report = check_chain(fresh, *head(fresh), KEY)
    assert report.intact and report.sealed_at == 1 and report.unkeyed == 0


def test_an_event_edited_and_the_chain_recomputed_without_the_key_is_named() -> None:
    links = chain(unkeyed=2, keyed=6)
    links[5] = dataclasses.replace(links[5], details=encode_details({"n": 999}))
    forged = recompute_plainly(links, 6)
    report = check_chain(forged, *head(forged), KEY)
    assert report.broken_at == 6 and report.checked == 5
    assert "keyed link does not hold" in (report.reason or "")


def test_a_chain_recomputed_under_another_key_is_named_at_its_first_keyed_link() -> None:
    links = chain(unkeyed=0, keyed=4)
    report = check_chain(links, *head(links), AuditKey(secrets.token_bytes(32)))
    assert report.broken_at == 1 and report.checked == 0


def test_an_unkeyed_event_edited_after_sealing_breaks_the_seal() -> None:
    links = chain(unkeyed=4, keyed=2)
    links[1] = dataclasses.replace(links[1], details=encode_details({"n": -1}))
    forged = recompute_plainly(links, 2)  # the seal, too, recomputed as the intruder can
    report = check_chain(forged, *head(forged), KEY)
    assert report.broken_at == 5 and report.checked == 4


def test_a_chain_stripped_of_its_seal_is_not_intact_with_the_key() -> None:
    links = chain(unkeyed=3, keyed=3)
    stripped = recompute_plainly(
        [dataclasses.replace(x, action="case.accept") if x.action == SEAL_ACTION else x
         for x in links],
        1,
    )  # fmt: skip
    report = check_chain(stripped, *head(stripped), KEY)
    assert not report.intact and report.broken_at == 1 and "never sealed" in (report.reason or "")
    # Without a key (a process never given one) the same rows are only unkeyed links.
    assert check_chain(stripped, *head(stripped)).intact
    assert check_chain([], 0, GENESIS, KEY).intact


def test_keyed_links_cannot_be_checked_without_the_key() -> None:
    links = chain(unkeyed=1, keyed=1)
    report = check_chain(links, *head(links))
    assert report.broken_at == 2 and "without the audit key" in (report.reason or "")


def test_a_seal_that_misdescribes_the_chain_or_a_second_seal_is_found() -> None:
    links = chain(unkeyed=2, keyed=0)
    lie = encode_details(seal_details(KEY.key_id, 1, links[1].hash))
    bad = [*links[:2], _link(3, links[1].hash, KEY, SEAL_ACTION, lie)]
    report = check_chain(bad, *head(bad), KEY)
    assert report.broken_at == 3 and "does not describe" in (report.reason or "")
    again = encode_details(seal_details(KEY.key_id, 3, links[2].hash))
    twice = [*links, _link(4, links[2].hash, KEY, SEAL_ACTION, again)]
    report = check_chain(twice, *head(twice), KEY)
    assert report.broken_at == 4 and "second seal" in (report.reason or "")
