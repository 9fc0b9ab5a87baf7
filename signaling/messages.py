"""Wire format, protocol version 1: JSON objects with a "type" field. Pure.

Each client message is described once, as a msgspec Struct tagged by its "type": one pass
of msgspec's decoder parses and validates a message (ten times faster than json.loads and
checks in Python did, on the relay's hot path). Anything else raises ProtocolError with a
code the client can act on. Server messages are built as dicts and serialised once: `seal`
adds the per-recipient sequence number by splicing text, so a broadcast is serialised once
however many receive it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

PROTOCOL_VERSION = 1
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
MAX_ID_CHARS = 128
MAX_REASON_CHARS = 200
MAX_CASE_ID = 2**31 - 1
MAX_SEQ = 2**53  # what a browser's JSON numbers hold exactly
DESCRIPTION_TYPES = frozenset({"offer", "answer", "pranswer", "rollback"})

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode = _encoder.encode
# Errors echo parts of what the client sent; escaped to ASCII they can always be written.
_encode_ascii = json.JSONEncoder(separators=(",", ":")).encode

# Ids and reasons are shown to people and written to the audit log, which cannot store
# control characters.
_PRINTABLE = "^[^\x00-\x1f\x7f]*$"
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS, pattern=_PRINTABLE)]
# A case is a row with an INTEGER key: a larger number names none, and must not reach a
# store that would overflow on it.
CaseId = Annotated[int, msgspec.Meta(ge=1, le=MAX_CASE_ID)]
Amount = Annotated[float, msgspec.Meta(ge=0, lt=1e12)]
Version = Literal[1]


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.ref = ref


class _Message(msgspec.Struct, frozen=True, tag_field="type"):
    pass


class Join(_Message, frozen=True, tag="join"):
    case_id: CaseId
    token: Annotated[str, msgspec.Meta(min_length=1)]
    v: Version = 1


class Resume(_Message, frozen=True, tag="resume"):
    case_id: CaseId
    participant: Id
    resume_token: Id
    last_seq: Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
    v: Version = 1


class Admit(_Message, frozen=True, tag="admit"):
    participant: Id


class Remove(_Message, frozen=True, tag="remove"):
    participant: Id
    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON_CHARS, pattern=_PRINTABLE)] = ""


DESCRIPTION_KEYS = frozenset({"type", "sdp"})
CANDIDATE_KEYS = frozenset({"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"})


# Signals are relayed as the client wrote them, so they may hold these fields and no
# others: nothing unvalidated (a forged "from", say) ever reaches a peer.
class Signal(_Message, frozen=True, tag="signal", forbid_unknown_fields=True):
    to: Id
    description: dict[str, str] | None = None
    candidate: dict[str, str | int | None] | None = None
    # The validated client text, relayed as is: re-serialising an SDP costs more than
    # everything else the server does with it. Never taken from the wire (parse refuses it).
    raw: str = ""
    v: object = None

    def __post_init__(self) -> None:
        # Checked here rather than as nested Structs so that description and candidate stay
        # the plain objects the client sent, as they are relayed.
        description, candidate = self.description, self.candidate
        if description is not None:
            if candidate is not None:
                raise ValueError('signal carries exactly one of "description" or "candidate"')
            if description.get("type") not in DESCRIPTION_TYPES:
                raise ValueError('"description" needs "type": offer/answer/pranswer/rollback')
            if len(description) > 1 and not description.keys() <= DESCRIPTION_KEYS:
                raise ValueError('"description" is an object with "type" and "sdp" only')
        elif candidate is not None:
            if not candidate.keys() <= CANDIDATE_KEYS:
                raise ValueError(f'"candidate" is an object with {sorted(CANDIDATE_KEYS)} only')
            get = candidate.get
            mid, index = get("sdpMid"), get("sdpMLineIndex")
            if (
                type(get("candidate")) is not str
                or type(index) is str
                or type(mid) is int
                or type(get("usernameFragment")) is int
            ):
                raise ValueError('"candidate" needs "candidate" and "sdpMid" or "sdpMLineIndex"')
            if mid is None and index is None:
                raise ValueError('"candidate" needs "sdpMid" or "sdpMLineIndex"')
        else:
            raise ValueError('signal carries exactly one of "description" or "candidate"')


class Stats(_Message, frozen=True, tag="stats"):
    packet_loss: Annotated[float, msgspec.Meta(ge=0, le=1)]
    rtt_ms: Amount | None = None
    bitrate_kbps: Amount | None = None


class Leave(_Message, frozen=True, tag="leave"):
    pass


class Ping(_Message, frozen=True, tag="ping"):
    pass


ClientMessage = Join | Resume | Admit | Remove | Signal | Stats | Leave | Ping
_decode = msgspec.json.Decoder(ClientMessage).decode
CLIENT_TYPES = frozenset(
    str(kind.__struct_config__.tag)
    for kind in (Join, Resume, Admit, Remove, Signal, Stats, Leave, Ping)
)


class _Kind(msgspec.Struct):
    type: object = None


_kind_of = msgspec.json.Decoder(_Kind).decode


def _refusal(text: str, problem: str) -> ProtocolError:
    """The client's error for a message the decoder refused, said by what was wrong where."""
    where = problem.rpartition(" - at `")[2].rstrip("`") if " - at `" in problem else "$"
    if problem.startswith("Expected `object`") and where == "$":
        return ProtocolError("bad_message", "a message is a JSON object")
    try:
        kind = _kind_of(text).type
    except (msgspec.DecodeError, RecursionError):
        kind = None
    if where == "$.type" or "field `type`" in problem:
        return ProtocolError("unknown_type", f"unknown message type {kind!r}", ref=str(kind))
    ref = kind if isinstance(kind, str) else None
    if where == "$.v":
        message = f"this server speaks protocol version {PROTOCOL_VERSION}"
        return ProtocolError("unsupported_version", message, ref=ref)
    if kind == "join" and (where == "$.token" or "field `token`" in problem):
        return ProtocolError("token_missing", "join needs a room token", ref="join")
    return ProtocolError("bad_message", problem, ref=ref)


def _may_hold_surrogates(text: str) -> bool:
    """Socket text is decoded UTF-8 and cannot hold a surrogate; only a JSON escape such as
    \\ud800 makes one. Two substring scans keep the relay's hot path from walking every value."""
    return "\\ud" in text or "\\uD" in text


def _unencodable(text: str) -> ProtocolError | None:
    """The refusal of a message holding a string that cannot be written as UTF-8 (a lone
    surrogate), which would fail later in a socket write or the audit log."""
    try:
        raw = json.loads(text)
        _encode(raw).encode("utf-8")
    except UnicodeEncodeError:
        kind = raw.get("type") if isinstance(raw, dict) else None
        return ProtocolError(
            "bad_message",
            "a message's text must be valid Unicode (no lone surrogate escapes)",
            ref=kind if isinstance(kind, str) and kind in CLIENT_TYPES else None,
        )
    except (ValueError, RecursionError):
        pass  # not JSON at all: the decoder says so
    return None


def parse(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> ClientMessage:
    if not isinstance(text, str):
        raise ProtocolError("bad_message", "messages are JSON text frames, not binary")
    # A str has at most 4 bytes per character: only encode when it could be too long.
    if len(text) > max_bytes // 4 and len(text.encode("utf-8")) > max_bytes:
        raise ProtocolError("too_large", f"messages are limited to {max_bytes} bytes")
    if _may_hold_surrogates(text):
        refusal = _unencodable(text)
        if refusal is not None:
            raise refusal
    try:
        message = _decode(text)
    except msgspec.ValidationError as exc:
        raise _refusal(text, str(exc)) from None
    except (msgspec.DecodeError, RecursionError):
        raise ProtocolError("bad_json", "the message is not valid JSON") from None
    except UnicodeEncodeError:
        # A lone surrogate as a character, not an escape: no socket's text holds one, but a
        # message made in the process (the recorder's) could.
        raise ProtocolError(
            "bad_message", "a message's text must be valid Unicode (no lone surrogates)"
        ) from None
    if type(message) is Signal:
        if message.raw:
            raise ProtocolError("bad_message", 'signal has no field "raw"', ref="signal")
        # The hot path: keep the text for relaying, trimmed only if it needs it.
        if text[0] != "{" or text[-1] != "}":
            text = text.strip()
        # Set after validation, so __post_init__ does not run twice on the hot path.
        msgspec.structs.force_setattr(message, "raw", text)
    return message


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
