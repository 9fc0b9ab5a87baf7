"""Small signed tokens: a JSON object of claims and an HMAC over it, bound to one use by a
domain string, so a token made with the same secret for another use never passes here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, domain: bytes, payload: str) -> bytes:
    return hmac.new(secret, domain + payload.encode("ascii"), hashlib.sha256).digest()


def sign(secret: bytes, domain: bytes, claims: Mapping[str, object]) -> str:
    payload = _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, domain, payload))}"


def read(secret: bytes, domain: bytes, token: str, *, max_chars: int) -> dict[str, object] | None:
    """The claims, if the token is well formed and its MAC matches; None otherwise. The MAC is
    checked before anything parses the payload."""
    if not token or len(token) > max_chars or token.count(".") != 1:
        return None
    payload, signature = token.split(".")
    try:
        if not hmac.compare_digest(_unb64(signature), _mac(secret, domain, payload)):
            return None
        body = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    return body if isinstance(body, dict) else None
