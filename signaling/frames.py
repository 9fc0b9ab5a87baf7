"""What nodes say to each other over the bus. Pure.

A bus message is a JSON array of frames, each [kind, a, b, payload] of strings, so that all a
node has for one other node in one loop tick goes out as one publish. Client text is carried
as it came (validated by the node hosting the room), so any content, however malformed, is
just a string here.

Edge (holds the client's socket) to host (holds the room):
  J/R  case, connection, the client's join/resume text
  M    case, connection, a later text message
  D    case, connection, "" (the socket closed)
Host to edge:
  W    "", connection, text to write
  C    close code, connection, reason
Either way (a request to a node, and its answer):
  Q    request id, reply-to node, JSON {"op": ..., "args": {...}}
  A    request id, "", JSON {"ok": ..., "result"|"error": ...}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec

JOIN, RESUME, MESSAGE, DISCONNECT = "J", "R", "M", "D"
WRITE, CLOSE = "W", "C"
REQUEST, ANSWER = "Q", "A"
KINDS = frozenset({JOIN, RESUME, MESSAGE, DISCONNECT, WRITE, CLOSE, REQUEST, ANSWER})

Frame = tuple[str, str, str, str]


class BadFrame(ValueError):
    pass


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[list[str]]).decode


def pack(frames: Sequence[Frame]) -> bytes:
    try:
        return _encode(frames)
    except UnicodeEncodeError:
        # Text from a socket is decoded UTF-8 and cannot hold a lone surrogate, but should
        # one come some other way, ASCII escapes carry it.
        return json.dumps(frames, separators=(",", ":")).encode("ascii")


def unpack(data: bytes) -> list[Frame]:
    """The frames of one bus message. Only the shape is checked here; what a frame's strings
    say is checked where they are used (client text is parsed like a socket's)."""
    try:
        items: list[Any] = _decode(data)
    except msgspec.DecodeError as exc:
        # msgspec refuses a lone surrogate escape, which pack writes for text that holds one.
        try:
            items = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise BadFrame(f"not a bus message: {exc}") from None
    except RecursionError as exc:
        raise BadFrame(f"not a bus message: {exc}") from None
    if type(items) is not list:
        raise BadFrame("a bus message is a list of frames")
    for item in items:
        if (
            type(item) is not list
            or len(item) != 4
            or item[0] not in KINDS
            or not all(type(part) is str for part in item)
        ):
            raise BadFrame(f"bad frame {str(item)[:80]!r}")
    return items


def connection_id(node: str, number: int) -> str:
    """Node names never hold '#' (config.node_name), so the edge is read back from the id."""
    return f"{node}#{number}"


def edge_of(connection: str) -> str:
    return connection.partition("#")[0]
