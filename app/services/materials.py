"""Storing uploaded materials: checked by content, size-limited, hashed, sealed, written atomically.

Materials are ID card copies, agreements naming people and addresses: personal data as much
as the ID numbers in the database, so they are encrypted at rest with the same data key. The
file's purpose (case and content hash) is bound in, so a sealed file copied under another
case's name does not open. Files stored before sealing existed (no ".sealed" suffix) are still
read as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import refusals
from app.domain.access import Actor
from app.domain.cases import State
from app.domain.errors import (
    DomainError,
    NotFound,
    NotPermitted,
    StoredFileDamaged,
    ValidationError,
    WrongState,
)
from app.domain.materials import Category, may_open, safe_filename, sniff
from app.domain.roles import Role
from app.domain.state_words import wrong_state
from app.files import read_verified, write_atomically
from app.keyring import FieldCipher
from app.services import audit
from app.services.cases import load_case
from app.store.models import Material

log = logging.getLogger(__name__)

UPLOAD_STATES = frozenset({State.DRAFT, State.SUBMITTED})
SEALED_SUFFIX = ".sealed"


class TooLarge(DomainError):
    code = "too_large"


def check_upload(data: bytes, *, limit: int) -> tuple[str, str, str]:
    """(content type, extension, sha256) or a clear refusal."""
    if not data:
        raise ValidationError([("file", "文件为空。 / The file is empty.")])
    if len(data) > limit:
        raise TooLarge(
            f"文件超过 {limit // (1024 * 1024)} MB 上限。 / The file exceeds "
            f"{limit // (1024 * 1024)} MB."
        )
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationError(
            [("file", "只接受 PDF、JPEG 或 PNG 文件。 / Only PDF, JPEG or PNG files are accepted.")]
        )
    return kind[0], kind[1], hashlib.sha256(data).hexdigest()


async def add_material(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    *,
    category: str,
    filename: str,
    data: bytes,
    folder: Path,
    cipher: FieldCipher,
    limit: int,
    now: dt.datetime,
) -> Material:
    case = await load_case(session, actor, case_id)
    if actor.role is not Role.MEDIATOR:
        raise NotPermitted("只有调解员可以上传材料。 / Only the mediator uploads materials.")
    if State(case.state) not in UPLOAD_STATES:
        raise WrongState(wrong_state(case.state, "再上传材料", "add materials"))
    try:
        kind = Category(category)
    except ValueError:
        raise ValidationError([("category", refusals.one_of(Category))]) from None
    content_type, extension, digest = check_upload(data, limit=limit)
    storage_name = f"{case.id}/{digest}.{extension}{SEALED_SUFFIX}"
    target = folder / storage_name
    if not target.exists():  # same content, same name: identical bytes need no second copy
        sealed = cipher.seal(data, purpose=_purpose(case.id, digest))
        write_atomically(target, sealed, mode=0o640)
    material = Material(
        case_id=case.id,
        category=kind.value,
        filename=safe_filename(filename),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_name=storage_name,
        uploaded_by=actor.account_id,
        uploaded_at=now,
    )
    case.materials.append(material)
    await session.flush()
    await audit.append(
        session,
        actor=actor.username,
        action="material.added",
        case_id=case.id,
        details={
            "material": material.id,
            "category": kind.value,
            "sha256": digest,
            "size": len(data),
        },
        now=now,
    )
    return material


def _purpose(case_id: int, sha256: str) -> str:
    return f"material:{case_id}:{sha256}"


def extension_of(material: Material) -> str:
    return material.storage_name.removesuffix(SEALED_SUFFIX).rsplit(".", 1)[-1]


def read_material(material: Material, folder: Path, cipher: FieldCipher) -> bytes:
    """The material's bytes as uploaded, checked against the hash taken at upload."""
    damaged = StoredFileDamaged(
        "材料文件已损坏或被改动，请联系管理员。 / The stored material is damaged or was "
        "altered; contact the administrator."
    )
    purpose = _purpose(material.case_id, material.sha256)

    def unseal(stored: bytes) -> bytes:
        try:
            return cipher.open(stored, purpose=purpose)
        except InvalidTag:
            raise ValueError("does not decrypt") from None

    sealed = material.storage_name.endswith(SEALED_SUFFIX)
    path = folder / material.storage_name
    data = read_verified(path, material.sha256, unseal if sealed else None)
    if data is None:
        log.error("material %s of case %s is unreadable or altered", material.id, material.case_id)
        raise damaged
    return data


async def open_material(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    material_id: int,
    folder: Path,
    cipher: FieldCipher,
    now: dt.datetime,
) -> tuple[Material, bytes]:
    case = await load_case(session, actor, case_id)
    material = next((m for m in case.materials if m.id == material_id), None)
    if material is None:
        raise NotFound("没有该材料。 / No such material.")
    if not may_open(actor.role, material.category):
        raise NotPermitted(
            "确认室终端不能显示身份证明等材料。 / A confirmation room's kiosk cannot show "
            "identity papers and similar materials."
        )
    await audit.append(
        session,
        actor=actor.username,
        action="material.viewed",
        case_id=case.id,
        details={"material": material.id},
        now=now,
    )
    return material, read_material(material, folder, cipher)
