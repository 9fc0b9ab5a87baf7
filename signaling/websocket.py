"""RFC 6455 framing, server side, for /ws. Pure: bytes in, whole messages out; no I/O.

Signaling owns its WebSocket framing instead of going through aiohttp's WebSocketResponse:
that path queues every message and wakes the handler's task for it, which cost more than
everything signaling itself does with a relayed message (issue 16's profile). Here the
socket's bytes are cut into messages in the protocol callback and handled there.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

try:
    # aiohttp's unmasking runs in C where it is compiled; unmasking in Python costs ten times
    # more on a 2 KB offer.
    from aiohttp._websocket.helpers import websocket_mask
except ImportError:  # pragma: no cover - an aiohttp that moved it

    def websocket_mask(mask: bytes, data: bytearray) -> None:
        key = int.from_bytes((mask * (len(data) // 4 + 1))[: len(data)], "little")
        data[:] = (int.from_bytes(data, "little") ^ key).to_bytes(len(data), "little")


OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
DATA_OPS = frozenset({OP_TEXT, OP_BINARY})
CONTROL_OPS = frozenset({OP_CLOSE, OP_PING, OP_PONG})

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL = 1002
CLOSE_NO_STATUS = 1005
CLOSE_BAD_DATA = 1007
CLOSE_TOO_BIG = 1009
# Codes a peer may send in a close frame (RFC 6455 7.4): 1005/1006/1015 are never on the wire.
_SENDABLE = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})
MAX_CLOSE_REASON_BYTES = 123

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

Frame = tuple[int, bytes | bytearray]


class FrameError(Exception):
    """The peer broke the protocol; close the connection with this code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def accept_key(headers: Mapping[str, str]) -> str | None:
    """Sec-WebSocket-Accept for a valid version 13 upgrade request, or None if it is not one."""
    if headers.get("Upgrade", "").strip().lower() != "websocket":
        return None
    if "upgrade" not in headers.get("Connection", "").lower():
        return None
    if headers.get("Sec-WebSocket-Version", "").strip() != "13":
        return None
    key = headers.get("Sec-WebSocket-Key", "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except ValueError:
        return None
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


class FrameReader:
    """Cuts a client's byte stream into whole messages: data messages reassembled from their
    fragments, control frames as they come. Anything outside the protocol raises FrameError."""

    __slots__ = ("_buffer", "_kind", "_parts", "_size", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = b""
        # A fragmented data message in progress: its opcode, fragments and size so far.
        self._kind = 0
        self._parts: list[bytes | bytearray] | None = None
        self._size = 0

    def feed(self, data: bytes) -> list[Frame]:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        out: list[Frame] = []
        pos, end = 0, len(data)
        while end - pos >= 2:
            first, second = data[pos], data[pos + 1]
            if first & 0x70:
                raise FrameError(CLOSE_PROTOCOL, "no extension was negotiated")
            if not second & 0x80:
                raise FrameError(CLOSE_PROTOCOL, "client frames must be masked")
            length = second & 0x7F
            head = pos + 2
            if length == 126:
                if end - head < 2:
                    break
                length = int.from_bytes(data[head : head + 2], "big")
                head += 2
            elif length == 127:
                if end - head < 8:
                    break
                length = int.from_bytes(data[head : head + 8], "big")
                head += 8
            opcode, fin = first & 0x0F, first & 0x80
            if opcode in CONTROL_OPS:
                if length > 125 or not fin:
                    raise FrameError(CLOSE_PROTOCOL, "control frames are short and whole")
            elif self._size + length > self.max_size:
                raise FrameError(CLOSE_TOO_BIG, "message too big")
            stop = head + 4 + length
            if stop > end:
                break
            payload = bytearray(data[head + 4 : stop])
            websocket_mask(data[head : head + 4], payload)
            pos = stop
            if opcode in CONTROL_OPS:
                out.append((opcode, payload))
            elif opcode in DATA_OPS:
                if self._parts is not None:
                    raise FrameError(CLOSE_PROTOCOL, "a new message began inside a fragmented one")
                if fin:
                    out.append((opcode, payload))
                else:
                    self._kind, self._parts, self._size = opcode, [payload], length
            elif opcode == OP_CONTINUATION:
                if self._parts is None:
                    raise FrameError(CLOSE_PROTOCOL, "continuation without a message")
                self._parts.append(payload)
                self._size += length
                if fin:
                    out.append((self._kind, b"".join(self._parts)))
                    self._parts, self._size = None, 0
            else:
                raise FrameError(CLOSE_PROTOCOL, f"unknown opcode {opcode}")
        if pos < end:
            self._buffer = data[pos:]
        return out


_TEXT_HEADS = [bytes((0x80 | OP_TEXT, n)) for n in range(126)]


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (servers never mask)."""
    n = len(payload)
    if opcode == OP_TEXT and n < 126:
        return _TEXT_HEADS[n] + payload
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def close_frame(code: int, reason: str = "") -> bytes:
    # Reasons are ours and short; cut at a character boundary all the same.
    raw = reason.encode("utf-8")[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")
    return frame(OP_CLOSE, code.to_bytes(2, "big") + raw.encode("utf-8"))


def read_close(payload: bytes | bytearray) -> int:
    """The code in a peer's close frame; FrameError if the frame itself is malformed."""
    if not payload:
        return CLOSE_NO_STATUS
    if len(payload) == 1:
        raise FrameError(CLOSE_PROTOCOL, "a close frame's code is two bytes")
    code = int.from_bytes(payload[:2], "big")
    if code not in _SENDABLE and not 3000 <= code <= 4999:
        raise FrameError(CLOSE_PROTOCOL, f"close code {code} is not allowed")
    try:
        bytes(payload[2:]).decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError(CLOSE_BAD_DATA, "a close reason must be UTF-8") from None
    return code
