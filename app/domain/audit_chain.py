"""The audit chain's hashing and checking. Pure: rows in, verdict out."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
# Anything shaped like a resident ID number must never reach the log.
# Letters around the digits mean a hash or a token, not an ID number.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


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
    if _ID_LIKE.search(text):
        raise ValueError("audit details must not contain an ID number")
    return text


def link_hash(
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    case_id: int | None,
    details: str,
    prev_hash: str,
) -> str:
    body = json.dumps(
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
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # the first sequence number whose link does not hold
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def check_chain(links: Iterable[Link], head_seq: int, head_hash: str) -> ChainReport:
    """Walk the chain in order: an altered row breaks its own hash, a removed one the sequence."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for link in links:
        if link.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"row {expected_seq} is missing")
        if link.prev_hash != expected_prev:
            return ChainReport(checked, link.seq, "does not link to the row before it")
        recomputed = link_hash(
            link.seq, link.at, link.actor, link.action, link.case_id, link.details, link.prev_hash
        )
        if recomputed != link.hash:
            return ChainReport(checked, link.seq, "its content does not match its hash")
        expected_prev, expected_seq, checked = link.hash, expected_seq + 1, checked + 1
    if expected_seq - 1 != head_seq or expected_prev != head_hash:
        return ChainReport(checked, expected_seq, "rows after this point were removed")
    return ChainReport(checked, None, None)
