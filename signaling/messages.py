"""Wire format, protocol version 1: JSON objects with a "type" field. Pure.

Client messages are parsed into small frozen dataclasses; anything else raises
ProtocolError with a code the client can act on. Server messages are built as
dicts and serialised once: `seal` adds the per-recipient sequence number by
splicing text, so a broadcast is serialised once however many receive it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
MAX_ID_CHARS = 128
MAX_REASON_CHARS = 200
MAX_CASE_ID = 2**31 - 1
MAX_SEQ = 2**53  # what a browser's JSON numbers hold exactly
DESCRIPTION_TYPES = frozenset({"offer", "answer", "pranswer", "rollback"})

_loads = json.loads
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode = _encoder.encode
# Errors echo parts of what the client sent; escaped to ASCII they can always be written.
_encode_ascii = json.JSONEncoder(separators=(",", ":")).encode
# Ids and reasons are shown to people and written to the audit log, which cannot store these.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Join:
    case_id: int
    token: str


@dataclass(frozen=True, slots=True)
class Resume:
    case_id: int
    participant: str
    resume_token: str
    last_seq: int


@dataclass(frozen=True, slots=True)
class Admit:
    participant: str


@dataclass(frozen=True, slots=True)
class Remove:
    participant: str
    reason: str


@dataclass(frozen=True, slots=True)
class Signal:
    to: str
    description: dict[str, str] | None
    candidate: dict[str, object] | None
    # The validated client text, relayed as is: re-serialising an SDP costs more
    # than everything else the server does with it.
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Stats:
    packet_loss: float
    rtt_ms: float | None
    bitrate_kbps: float | None


@dataclass(frozen=True, slots=True)
class Leave:
    pass


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientMessage = Join | Resume | Admit | Remove | Signal | Stats | Leave | Ping


def _bad(kind: str, message: str) -> ProtocolError:
    return ProtocolError("bad_message", message, ref=kind)


def _id(raw: Mapping[str, Any], kind: str, key: str) -> str:
    value = raw.get(key)
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_ID_CHARS
        or _CONTROL.search(value)
    ):
        raise _bad(kind, f'"{key}" must be a non-empty string of at most {MAX_ID_CHARS} chars')
    return value


def _int(raw: Mapping[str, Any], kind: str, key: str, *, low: int, high: int) -> int:
    value = raw.get(key)
    if type(value) is not int or not low <= value <= high:
        raise _bad(kind, f'"{key}" must be an integer from {low} to {high}')
    return value


def _case_id(raw: Mapping[str, Any], kind: str) -> int:
    # A case is a row with an INTEGER key: a larger number names none, and must not reach a
    # store that would overflow on it.
    return _int(raw, kind, "case_id", low=1, high=MAX_CASE_ID)


def _number(raw: Mapping[str, Any], kind: str, key: str, *, required: bool) -> float | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if (type(value) is not int and type(value) is not float) or not 0 <= value < 1e12:
        raise _bad(kind, f'"{key}" must be a non-negative number')
    return float(value)


def _versioned(raw: Mapping[str, Any], kind: str) -> None:
    version = raw.get("v", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            "unsupported_version",
            f"this server speaks protocol version {PROTOCOL_VERSION}",
            ref=kind,
        )


def _join(raw: Mapping[str, Any]) -> Join:
    _versioned(raw, "join")
    token = raw.get("token")
    if not isinstance(token, str) or not token:
        raise ProtocolError("token_missing", "join needs a room token", ref="join")
    return Join(_case_id(raw, "join"), token)


def _resume(raw: Mapping[str, Any]) -> Resume:
    _versioned(raw, "resume")
    last_seq = _int(raw, "resume", "last_seq", low=0, high=MAX_SEQ)
    return Resume(
        _case_id(raw, "resume"),
        _id(raw, "resume", "participant"),
        _id(raw, "resume", "resume_token"),
        last_seq,
    )


def _admit(raw: Mapping[str, Any]) -> Admit:
    return Admit(_id(raw, "admit", "participant"))


def _remove(raw: Mapping[str, Any]) -> Remove:
    reason = raw.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS or _CONTROL.search(reason):
        raise _bad(
            "remove",
            f'"reason" must be a string of at most {MAX_REASON_CHARS} chars, '
            "without control characters",
        )
    return Remove(_id(raw, "remove", "participant"), reason)


# Signals are relayed as the client wrote them, so they may hold these keys and
# no others: nothing unvalidated (a forged "from", say) ever reaches a peer.
SIGNAL_KEYS = frozenset({"type", "v", "to", "description", "candidate"})
DESCRIPTION_KEYS = frozenset({"type", "sdp"})
CANDIDATE_KEYS = frozenset({"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"})


def _description(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not value.keys() <= DESCRIPTION_KEYS:
        raise _bad("signal", '"description" is an object with "type" and "sdp" only')
    kind, sdp = value.get("type"), value.get("sdp", "")
    if kind not in DESCRIPTION_TYPES or not isinstance(sdp, str):
        raise _bad("signal", '"description" needs "type" (offer/answer/pranswer/rollback), "sdp"')
    return value


def _candidate(value: object) -> dict[str, object]:
    if not isinstance(value, dict) or not value.keys() <= CANDIDATE_KEYS:
        raise _bad("signal", f'"candidate" is an object with {sorted(CANDIDATE_KEYS)} only')
    candidate, mid = value.get("candidate"), value.get("sdpMid")
    index, ufrag = value.get("sdpMLineIndex"), value.get("usernameFragment")
    if (
        not isinstance(candidate, str)
        or not (mid is None or isinstance(mid, str))
        or not (index is None or type(index) is int)
        or not (ufrag is None or isinstance(ufrag, str))
    ):
        raise _bad("signal", '"candidate" needs "candidate" and "sdpMid" or "sdpMLineIndex"')
    if mid is None and index is None:
        raise _bad("signal", '"candidate" needs "sdpMid" or "sdpMLineIndex"')
    return value


def _signal(raw: Mapping[str, Any], text: str = "") -> Signal:
    if not raw.keys() <= SIGNAL_KEYS:
        raise _bad("signal", f"signal has fields {sorted(SIGNAL_KEYS)} only")
    to = _id(raw, "signal", "to")
    description, candidate = raw.get("description"), raw.get("candidate")
    if (description is None) == (candidate is None):
        raise _bad("signal", 'signal carries exactly one of "description" or "candidate"')
    if description is not None:
        return Signal(to, _description(description), None, text)
    return Signal(to, None, _candidate(candidate), text)


def _stats(raw: Mapping[str, Any]) -> Stats:
    loss = _number(raw, "stats", "packet_loss", required=True)
    assert loss is not None
    if loss > 1.0:
        raise _bad("stats", '"packet_loss" is a fraction between 0 and 1')
    return Stats(
        loss,
        _number(raw, "stats", "rtt_ms", required=False),
        _number(raw, "stats", "bitrate_kbps", required=False),
    )


_PARSERS: dict[str, Callable[[Mapping[str, Any]], ClientMessage]] = {
    "join": _join,
    "resume": _resume,
    "admit": _admit,
    "remove": _remove,
    "signal": _signal,
    "stats": _stats,
    "leave": lambda raw: Leave(),
    "ping": lambda raw: Ping(),
}
CLIENT_TYPES = frozenset(_PARSERS)


def _may_hold_surrogates(text: str) -> bool:
    """Socket text is decoded UTF-8 and cannot hold a surrogate; only a JSON escape such as
    \\ud800 makes one. Two substring scans keep the relay's hot path from walking every value."""
    return "\\ud" in text or "\\uD" in text


def _encodable(raw: object) -> bool:
    """Whether every string in the parsed message can be written as UTF-8: a lone surrogate
    cannot, and would fail later in a socket write or the audit log."""
    try:
        _encode(raw).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> ClientMessage:
    if not isinstance(text, str):
        raise ProtocolError("bad_message", "messages are JSON text frames, not binary")
    # A str has at most 4 bytes per character: only encode when it could be too long.
    if len(text) > max_bytes // 4 and len(text.encode("utf-8")) > max_bytes:
        raise ProtocolError("too_large", f"messages are limited to {max_bytes} bytes")
    try:
        raw = _loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_json", "the message is not valid JSON") from exc
    if not isinstance(raw, dict):
        raise ProtocolError("bad_message", "a message is a JSON object")
    kind = raw.get("type")
    if _may_hold_surrogates(text) and not _encodable(raw):
        raise ProtocolError(
            "bad_message",
            "a message's text must be valid Unicode (no lone surrogate escapes)",
            ref=kind if isinstance(kind, str) and kind in _PARSERS else None,
        )
    if kind == "signal":
        # The hot path: keep the text for relaying, trimmed only if it needs it.
        if text[0] != "{" or text[-1] != "}":
            text = text.strip()
        return _signal(raw, text)
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}", ref=str(kind))
    return parser(raw)


def dump(message: Mapping[str, object]) -> str:
    return _encode(message)


def seal(body: str, seq: int) -> str:
    """Number a serialised server message for one recipient without re-serialising it."""
    return '{"seq":' + str(seq) + "," + body[1:]


def error(code: str, message: str, ref: str | None = None) -> str:
    out: dict[str, object] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        out["ref"] = ref
    return _encode_ascii(out)


PONG = dump({"type": "pong"})


def sender_prefix(sender: str) -> str:
    return '{"from":' + _encode(sender) + ","


def signal_body(prefix: str, signal: Signal) -> str:
    """The relayed signal: the client's validated text with "from" spliced in."""
    if signal.raw:
        return prefix + signal.raw[1:]
    payload = {"type": "signal", "to": signal.to}
    if signal.description is not None:
        payload["description"] = signal.description  # type: ignore[assignment]
    else:
        payload["candidate"] = signal.candidate  # type: ignore[assignment]
    return prefix + dump(payload)[1:]
