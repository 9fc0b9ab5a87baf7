"""The few errors the ruling package raises; each says what failed and carries the detail."""

from __future__ import annotations

from pathlib import Path


class RulingError(Exception):
    """Base class: anything the ruling package refuses or cannot do."""


class InvalidRulingData(RulingError, ValueError):
    """The input for a ruling or voucher is inconsistent (raised by the model's own checks)."""


class FontError(RulingError):
    """The CJK font is missing or unusable. Raised at start-up: there is no silent fallback,
    because a ruling with substituted or unembedded fonts is not an acceptable original."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot use font {str(path)!r}: {reason}")
        self.path = path
        self.reason = reason


class TemplateError(RulingError):
    """A ruling template is missing, fails to render, or breaks the block markup."""

    def __init__(self, template: str, reason: str, line: int | None = None) -> None:
        where = f"{template}:{line}" if line is not None else template
        super().__init__(f"ruling template {where}: {reason}")
        self.template = template
        self.reason = reason
        self.line = line


class SealError(RulingError):
    """The configured seal image is missing or unreadable."""


class PkiError(RulingError):
    """Key or certificate material is missing, unreadable or unfit for signing."""


class SigningError(RulingError):
    """Signing failed (including a timestamp authority that did not answer)."""


class GlyphError(RulingError):
    """The document holds characters the font cannot draw (a rare character in a name):
    refused, since they would print as blank boxes."""

    def __init__(self, font: Path, characters: str) -> None:
        super().__init__(f"font {str(font)!r} has no glyph for: {characters}")
        self.font = font
        self.characters = characters


class SignatureImageError(RulingError, ValueError):
    """A handwritten signature image for an @autograph block is missing or unusable: refused,
    since a document with a blank where a party's signature belongs is not what was signed."""

    def __init__(self, key: str, chinese: str, english: str) -> None:
        super().__init__(f"{chinese} / {english}")
        self.key = key
