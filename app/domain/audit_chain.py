"""The audit chain's links and their check. Pure: rows (and a key) in, verdict out.

Every event is one link. Its canonical bytes are the compact JSON array
`[seq, at (UTC, microseconds), actor, action, case_id, details, prev_hash]`, so each link
covers the one before it through `prev_hash`. Two kinds of link:

- unkeyed (before this installation was keyed): `hash = SHA-256(canonical)`. Anyone with
  database access can recompute these after editing a row, so they prove nothing on their own;
- keyed: `hash = HMAC-SHA256(audit key, "sifa audit link v2\\0" || canonical)`, i.e. an HMAC of
  the previous link and the event. Without the key (certs/audit.key, app/audit_key.py) nobody
  can recompute one.

The chain is keyed once, by a seal: an event `audit.keyed` whose own link is keyed and whose
details name how many unkeyed events precede it and the last one's hash
(`{"key_id", "legacy_events", "legacy_head"}`). Every event from the seal on must be keyed.
The unkeyed events before it are vouched for by the seal only as they stood when it was
written: an edit made to them before sealing cannot be found, and an edit after sealing
breaks the seal (it is reported at the seal, the first link that no longer holds, because
unkeyed links can be recomputed to hide the row that was changed). A fresh installation is
sealed by `sifa init` before its first event, so it has no unkeyed events at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from app.domain.free_text import ID_LIKE  # such a shape must never reach the log

GENESIS = "0" * 64
SEAL_ACTION = "audit.keyed"
_KEYED = b"sifa audit link v2\0"  # keyed and unkeyed links of the same bytes never coincide


class LinkKey(Protocol):
    @property
    def key_id(self) -> str: ...

    def mac(self, data: bytes) -> str: ...


@dataclass(frozen=True)
class Link:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    case_id: int | None
    details: str
    prev_hash: str
    hash: str


def encode_details(details: dict[str, Any]) -> str:
    text = json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if ID_LIKE.search(text):
        raise ValueError("audit details must not contain an ID number")
    return text


def canonical(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    case_id: int | None,
    details: str,
    prev_hash: str,
) -> bytes:
    return json.dumps(
        [
            seq,
            at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            actor,
            action,
            case_id,
            details,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def link_hash(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    case_id: int | None,
    details: str,
    prev_hash: str,
) -> str:
    """An unkeyed link: what events written before keying carry."""
    return hashlib.sha256(
        canonical(seq, at, actor, action, case_id, details, prev_hash)
    ).hexdigest()


def keyed_link(
    key: LinkKey,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    case_id: int | None,
    details: str,
    prev_hash: str,
) -> str:
    return key.mac(_KEYED + canonical(seq, at, actor, action, case_id, details, prev_hash))


def seal_details(key_id: str, legacy_events: int, legacy_head: str) -> dict[str, Any]:
    return {"key_id": key_id, "legacy_events": legacy_events, "legacy_head": legacy_head}


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # the first sequence number whose link does not hold
    reason: str | None
    sealed_at: int | None = None  # the seal's sequence number: events before it are unkeyed
    key_id: str | None = None  # the key the keyed links were checked with

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    @property
    def unkeyed(self) -> int:
        """How many intact events carry only an unkeyed link."""
        return self.checked if self.sealed_at is None else self.sealed_at - 1


def _keyed_problem(link: Link, key: LinkKey, sealed_at: int | None) -> str | None:
    expected = keyed_link(
        key, link.seq, link.at, link.actor, link.action, link.case_id, link.details, link.prev_hash
    )
    if not hmac.compare_digest(expected, link.hash):
        return "its keyed link does not hold (changed, or linked without this audit key)"
    if link.action == SEAL_ACTION:
        if sealed_at is not None:
            return f"a second seal: the chain was already sealed at event {sealed_at}"
        if json.loads(link.details) != seal_details(key.key_id, link.seq - 1, link.prev_hash):
            return "the seal does not describe the events before it"
    return None


def check_chain(
    links: Iterable[Link], head_seq: int, head_hash: str, key: LinkKey | None = None
) -> ChainReport:
    """Walk the chain in order: an altered row breaks its own link, a removed one the sequence.

    With a key, a chain that has events but no seal is not intact: its links are all unkeyed,
    and anyone with database access could have rewritten them. Without a key, only an
    unsealed chain can be checked (what tests that never configure a key write).
    """
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    sealed_at: int | None = None
    key_id = key.key_id if key is not None else None

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(checked, seq, reason, sealed_at, key_id)

    for link in links:
        if link.seq != expected_seq:
            return broken(expected_seq, f"row {expected_seq} is missing")
        if link.prev_hash != expected_prev:
            return broken(link.seq, "does not link to the row before it")
        if sealed_at is not None or link.action == SEAL_ACTION:
            if key is None:
                return broken(link.seq, "it is keyed: it cannot be checked without the audit key")
            problem = _keyed_problem(link, key, sealed_at)
            if problem is not None:
                return broken(link.seq, problem)
            sealed_at = sealed_at or link.seq
        elif link.hash != link_hash(
            link.seq, link.at, link.actor, link.action, link.case_id, link.details, link.prev_hash
        ):
            return broken(link.seq, "its content does not match its hash")
        expected_prev, expected_seq, checked = link.hash, expected_seq + 1, checked + 1
    if expected_seq - 1 != head_seq or expected_prev != head_hash:
        return broken(expected_seq, "rows after this point were removed")
    if key is not None and sealed_at is None and checked > 0:
        return ChainReport(
            0,
            1,
            f"the chain was never sealed with the audit key: its {checked} links are unkeyed and "
            "could have been recomputed by anyone with database access (`sifa init` seals it)",
            None,
            key_id,
        )
    return ChainReport(checked, None, None, sealed_at, key_id)
