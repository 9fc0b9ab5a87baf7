"""The certs folder (data key, app secret, signing keys) sealed under a passphrase.

scrypt stretches the passphrase (a stolen backup costs an attacker 32 MiB and tens of
milliseconds per guess); AES-256-GCM seals a tar of the folder, with the header bound in as
associated data so its parameters cannot be swapped. The passphrase itself is never stored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.backup.errors import BackupError, WrongPassphrase
from app.backup.files import is_temporary
from app.keyring import DATA_KEY_FILE

MAGIC = b"SIFA-KEYS-1\n"
KEYS_FILE = "keys.enc"
PASSPHRASE_ENV = "SIFA_BACKUP_PASSPHRASE"
MIN_PASSPHRASE = 12
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(
            f"口令至少 {MIN_PASSPHRASE} 个字符。 / The passphrase needs at least "
            f"{MIN_PASSPHRASE} characters."
        )


def _key(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"])
    return kdf.derive(passphrase.encode())


def _tar(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not is_temporary(path.name):
                archive.add(path, arcname=path.relative_to(folder).as_posix())
    return buffer.getvalue()


def seal_keys(folder: Path, passphrase: str) -> bytes:
    check_passphrase(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    header = json.dumps({"kdf": "scrypt", **SCRYPT, "salt": salt.hex(), "nonce": nonce.hex()})
    head = MAGIC + header.encode() + b"\n"
    sealed = AESGCM(_key(passphrase, salt, SCRYPT)).encrypt(nonce, _tar(folder), head)
    return head + sealed


def open_keys(blob: bytes, passphrase: str) -> bytes:
    """The tar of the certs folder; WrongPassphrase when it does not open."""
    if not blob.startswith(MAGIC):
        raise BackupError("密钥文件格式未知。 / The keys file has an unknown format.")
    end = blob.index(b"\n", len(MAGIC)) + 1
    head, sealed = blob[:end], blob[end:]
    header = json.loads(head[len(MAGIC) :])
    params = {k: int(header[k]) for k in ("n", "r", "p")}
    key = _key(passphrase, bytes.fromhex(header["salt"]), params)
    try:
        return AESGCM(key).decrypt(bytes.fromhex(header["nonce"]), sealed, head)
    except InvalidTag:
        raise WrongPassphrase() from None


def unpack_keys(tar: bytes, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:gz") as archive:
        archive.extractall(folder, filter="data")


def data_key_id(certs_dir: Path) -> str | None:
    """A fingerprint of the personal-data key: tells whether two installations share it,
    and says nothing about the key."""
    path = certs_dir / DATA_KEY_FILE
    if not path.is_file():
        return None
    return hashlib.sha256(b"sifa data key id\0" + path.read_bytes().strip()).hexdigest()[:32]


def data_key_id_in(tar: bytes) -> str | None:
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:gz") as archive:
        try:
            member = archive.extractfile(DATA_KEY_FILE)
        except KeyError:
            return None
        if member is None:
            return None
        return hashlib.sha256(b"sifa data key id\0" + member.read().strip()).hexdigest()[:32]
