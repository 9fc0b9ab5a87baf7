"""Keys kept under the certs folder: the app secret and the personal-data encryption key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.files import write_atomically

SECRET_FILE = "secret.key"
DATA_KEY_FILE = "data.key"
_FORMAT = b"\x01"  # first byte of every ciphertext: lets the key or scheme change later


def _load_or_create(path: Path, size: int) -> bytes:
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != size:
            raise ValueError(f"{path} does not hold a {size}-byte key")
        return key
    key = secrets.token_bytes(size)
    write_atomically(path, key.hex().encode() + b"\n", mode=0o600)
    return key


def app_secret(certs_dir: Path, configured: bytes | None) -> bytes:
    """Signs room tokens and similar; SIFA_SECRET_KEY wins over the generated file."""
    return configured if configured is not None else _load_or_create(certs_dir / SECRET_FILE, 32)


class FieldCipher:
    """AES-256-GCM for personal data: single fields such as ID numbers, and whole files such
    as scanned ID cards. What the ciphertext is for is bound in as AAD, so a blob moved to
    another field, case or file does not decrypt."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_certs(cls, certs_dir: Path) -> FieldCipher:
        return cls(_load_or_create(certs_dir / DATA_KEY_FILE, 32))

    def encrypt(self, plaintext: str, *, purpose: str) -> bytes:
        return self.seal(plaintext.encode(), purpose=purpose)

    def decrypt(self, blob: bytes, *, purpose: str) -> str:
        return self.open(blob, purpose=purpose).decode()

    def seal(self, data: bytes, *, purpose: str) -> bytes:
        nonce = os.urandom(12)
        return _FORMAT + nonce + self._aead.encrypt(nonce, data, purpose.encode())

    def open(self, blob: bytes, *, purpose: str) -> bytes:
        """The plaintext, or cryptography's InvalidTag when the blob or its purpose is wrong."""
        if blob[:1] != _FORMAT:
            raise ValueError("unknown ciphertext format")
        nonce, body = blob[1:13], blob[13:]
        return self._aead.decrypt(nonce, body, purpose.encode())
