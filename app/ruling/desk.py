"""The court's ruling desk: one renderer and one loaded signing key per process."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from app.ruling.model import RulingData, VoucherData
from app.ruling.pki import (
    SigningIdentity,
    ensure_dev_pki,
    load_dev_identity,
    load_pkcs12_identity,
    read_certificates,
)
from app.ruling.render import RenderConfig, RulingRenderer
from app.ruling.screen import draft_blocks, screen_text
from app.ruling.sign import PdfSigner, SignOptions
from app.ruling.verify import VerificationResult, verify_pdf


@dataclass(frozen=True)
class DeskConfig:
    certs_dir: Path
    court_name: str
    court_code: str
    font_path: Path
    font_index: int = 0
    seal_image: Path | None = None
    tsa_url: str | None = None
    signing_p12: Path | None = None
    signing_p12_password: str = ""


@functools.lru_cache(maxsize=4)
def shared_renderer(font_path: Path, font_index: int, seal_image: Path | None) -> RulingRenderer:
    """Fonts are registered once per process, whatever number of apps it builds."""
    return RulingRenderer(RenderConfig(font_path, font_index, seal_image=seal_image))


@dataclass(frozen=True)
class IssuedText:
    """A signed ruling and its screen copy (ID numbers masked; app/ruling/screen.py). The copy
    may be None only for rulings issued before screen copies existed."""

    pdf: bytes
    screen: str | None


class RulingDesk:
    def __init__(self, config: DeskConfig) -> None:
        self.renderer = shared_renderer(config.font_path, config.font_index, config.seal_image)
        identity, roots = _identity(config)
        self.trust_roots: list[x509.Certificate] = roots
        self.signer = PdfSigner(identity, SignOptions(timestamp_url=config.tsa_url))
        self.location = config.court_name

    def _ruling(self, data: RulingData) -> IssuedText:
        # One template render: the screen copy is made from the very blocks the PDF is drawn
        # from, not from a second render that would agree only as long as nothing changed.
        doc = self.renderer.templates.ruling(data)
        pdf = self.renderer.render_ruling_document(doc, data)
        signed = self.signer.sign(pdf, reason="民事裁定书", location=self.location)
        return IssuedText(signed, screen_text(doc, data))

    def _voucher(self, data: VoucherData) -> bytes:
        pdf = self.renderer.render_voucher(data)
        return self.signer.sign(pdf, reason="电子送达凭证", location=self.location)

    def _transcript(self, context: Mapping[str, Any]) -> bytes:
        pdf = self.renderer.render_transcript(context)
        return self.signer.sign(pdf, reason="笔录", location=self.location)

    def ruling_draft(self, data: RulingData) -> list[dict[str, Any]]:
        """What the judge reads before signing: the same text, not yet signed or numbered."""
        return draft_blocks(self.renderer.templates.ruling(data), data)

    # Rendering and signing take tens of milliseconds of CPU: off the event loop, so video
    # signaling in the same process keeps its latency.
    def missing_glyphs(self, text: str) -> str:
        return self.renderer.missing_glyphs(text)

    async def ruling(self, data: RulingData) -> IssuedText:
        return await asyncio.get_running_loop().run_in_executor(None, self._ruling, data)

    async def voucher(self, data: VoucherData) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, self._voucher, data)

    async def transcript(self, context: Mapping[str, Any]) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, self._transcript, context)

    async def verify(self, pdf: bytes, expected_sha256: str | None) -> VerificationResult:
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(verify_pdf, pdf, self.trust_roots, expected_sha256)
        )

    @property
    def level(self) -> str:
        return self.signer.level

    @property
    def certificate_sha256(self) -> str:
        return self.signer.certificate_sha256


def _identity(config: DeskConfig) -> tuple[SigningIdentity, list[x509.Certificate]]:
    if config.signing_p12 is not None:
        identity = load_pkcs12_identity(config.signing_p12, config.signing_p12_password)
        return identity, [identity.chain[-1]] if identity.chain else [identity.cert]
    paths = ensure_dev_pki(config.certs_dir, config.court_name, config.court_code)
    return load_dev_identity(paths), read_certificates([paths.root_cert])
