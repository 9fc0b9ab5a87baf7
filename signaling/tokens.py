"""Short-lived, signed room tokens: pure functions, the caller passes the clock."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from signaling.roles import ROLES

# Binds the MAC to this use, so a MAC made with the same secret for another
# purpose can never pass as a room token.
_DOMAIN = b"sifa-room-token-v1."
MAX_TOKEN_CHARS = 2048


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class RoomClaims:
    case_id: int
    participant_id: str
    role: str
    display_name: str
    expires_at: int


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> bytes:
    return hmac.new(secret, _DOMAIN + payload.encode("ascii"), hashlib.sha256).digest()


def issue_room_token(
    secret: bytes,
    *,
    case_id: int,
    participant_id: str,
    role: str,
    display_name: str,
    ttl_seconds: int,
    now: float,
) -> str:
    if not secret:
        raise ValueError("the room-token secret is empty")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not participant_id or ttl_seconds <= 0:
        raise ValueError("a room token needs a participant id and a positive ttl")
    claims = {
        "c": case_id,
        "p": participant_id,
        "r": role,
        "n": display_name,
        "e": int(now) + ttl_seconds,
    }
    body = json.dumps(claims, separators=(",", ":"), ensure_ascii=False)
    payload = _b64encode(body.encode("utf-8"))
    return f"{payload}.{_b64encode(_mac(secret, payload))}"


def verify_room_token(secret: bytes, token: str, *, now: float) -> RoomClaims:
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenError("token_malformed", "the room token is not a signed token")
    payload, signature = token.split(".")
    try:
        given = _b64decode(signature)
        payload.encode("ascii")
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise TokenError("token_malformed", "the room token is not valid base64") from exc
    # Checked before parsing, so nothing unauthenticated reaches the JSON parser.
    if not hmac.compare_digest(given, _mac(secret, payload)):
        raise TokenError("token_invalid", "the room token's signature does not match")
    try:
        raw = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("token_malformed", "the room token's claims are unreadable") from exc
    claims = _claims_from(raw)
    if now >= claims.expires_at:
        raise TokenError("token_expired", "the room token has expired")
    return claims


def _claims_from(raw: object) -> RoomClaims:
    if not isinstance(raw, dict):
        raise TokenError("token_malformed", "the room token's claims are not an object")
    case_id, participant, role, name, expires = (raw.get(k) for k in ("c", "p", "r", "n", "e"))
    if (
        type(case_id) is not int
        or not isinstance(participant, str)
        or not participant
        or role not in ROLES
        or not isinstance(name, str)
        or type(expires) is not int
    ):
        raise TokenError("token_malformed", "the room token's claims are incomplete")
    assert isinstance(role, str)
    return RoomClaims(case_id, participant, role, name, expires)
