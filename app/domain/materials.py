"""Uploaded materials (Interp 354): categories and type detection by content. Pure."""

from __future__ import annotations

from enum import StrEnum

from app.domain.roles import Role


class Category(StrEnum):
    AGREEMENT = "agreement"  # 调解协议
    COMMITTEE_PROOF = "committee_proof"  # 调解组织主持调解的证明
    IDENTITY = "identity"  # 身份证明
    PROPERTY = "property"  # 财产权利证明
    OTHER = "other"  # 其他材料


# A kiosk is a shared screen in a public hall: it may show what the parties agreed and who
# mediated it, never copies of identity papers or property titles, nor whatever "other" holds.
ON_PUBLIC_SCREENS = frozenset({Category.AGREEMENT, Category.COMMITTEE_PROOF})


def may_open(role: Role, category: str) -> bool:
    """Whether an account of `role` that may see the case may also open a material of this
    category."""
    return role is not Role.KIOSK or category in ON_PUBLIC_SCREENS


# Magic numbers: the declared type and the file name are not trusted.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF, PNG or JPEG by its first bytes; None otherwise."""
    for magic, content_type, extension in _SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def safe_filename(name: str) -> str:
    """A display name without path parts or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*')
    return cleaned.strip()[:200] or "upload"
