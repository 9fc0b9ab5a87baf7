"""The audit chain's HMAC key: `certs/audit.key`, outside the database it protects.

Whoever can write the database can rewrite rows and recompute plain hashes; without this key
they cannot recompute keyed links (app/domain/audit_chain.py), so `sifa audit verify` catches
them. Like the app secret and the data key (app/keyring.py) it is 32 random bytes in hex,
mode 0600, created by `sifa init` or at first use, never logged and never in the database.

Which key a database session uses, in this order:
1. the key attached to the session's engine (`attach`: the app built by create_app);
2. the installation this process serves (`serve_installation`: every `sifa` command
   declares its SIFA_CERTS_DIR, so code that opens its own Database, such as restore,
   uses the same key);
3. none: a process that was given no key (a test that builds its own Database) may still
   append unkeyed links while the chain has never been sealed, as before this change; once
   sealed, appending without the key is refused (AuditKeyUnavailable).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.domain.errors import Unavailable
from app.files import write_atomically

AUDIT_KEY_FILE = "audit.key"
_SIZE = 32


class AuditKeyUnavailable(Unavailable):
    code = "audit_key_unavailable"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(
            f"审计密钥不可用，审计记录无法写入或核验：{zh}。"
            f" / The audit key is unavailable, so the audit log can be neither written nor"
            f" checked: {en}."
        )


@dataclass(frozen=True)
class AuditKey:
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != _SIZE:
            raise ValueError(f"an audit key is {_SIZE} bytes")

    @property
    def key_id(self) -> str:
        """Names the key in the chain and in reports, and says nothing about it."""
        return hashlib.sha256(b"sifa audit key id\0" + self.secret).hexdigest()[:16]

    def mac(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def load(certs_dir: Path) -> AuditKey:
    """The installation's key; a missing or unreadable file is an error, never "no key"."""
    path = certs_dir / AUDIT_KEY_FILE
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise AuditKeyUnavailable(f"{path} 不存在", f"{path} does not exist") from None
    except OSError as error:
        raise AuditKeyUnavailable(
            f"{path} 无法读取", f"{path} is unreadable ({error.strerror})"
        ) from None
    try:
        return AuditKey(bytes.fromhex(text))
    except ValueError:
        raise AuditKeyUnavailable(
            f"{path} 不是 {_SIZE} 字节的密钥", f"{path} does not hold a {_SIZE}-byte key"
        ) from None


def ensure(certs_dir: Path) -> AuditKey:
    """The key, created first if there is none. Nodes sharing certs/ may race to create it:
    the file is linked into place exclusively, so the loser reads the winner's key rather
    than replacing it (two keys would split the chain)."""
    path = certs_dir / AUDIT_KEY_FILE
    if not path.exists():
        fresh = secrets.token_bytes(_SIZE).hex().encode() + b"\n"
        with contextlib.suppress(FileExistsError):
            write_atomically(path, fresh, mode=0o600, exclusive=True)
    return load(certs_dir)


_attached: weakref.WeakKeyDictionary[Engine, AuditKey] = weakref.WeakKeyDictionary()
_installation: Path | None = None


def attach(engine: AsyncEngine, key: AuditKey) -> None:
    """Every session on this engine writes and checks links under `key`."""
    _attached[engine.sync_engine] = key


def serve_installation(certs_dir: Path | None) -> None:
    """Declare the certs folder of the installation this process serves (None: forget it)."""
    global _installation
    _installation = certs_dir


def _bound(session: AsyncSession) -> AuditKey | None:
    bind = session.bind
    if isinstance(bind, AsyncEngine):
        return _attached.get(bind.sync_engine)
    return None


def for_writing(session: AsyncSession) -> AuditKey | None:
    """The key appends use: created at first use under the declared installation."""
    found = _bound(session)
    if found is None and _installation is not None:
        found = ensure(_installation)
    return found


def for_checking(session: AsyncSession) -> AuditKey | None:
    """The key verification uses: never created here, a missing file is an error."""
    found = _bound(session)
    if found is None and _installation is not None:
        found = load(_installation)
    return found
