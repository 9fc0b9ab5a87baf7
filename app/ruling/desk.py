"""The courts' ruling desk: one renderer per process, and each court's own signing key."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.ruling.court_keys import Court, CourtKeys, DevKeys, P12Keys
from app.ruling.model import RulingData, VoucherData
from app.ruling.render import RenderConfig, RulingRenderer
from app.ruling.screen import draft_blocks, screen_text
from app.ruling.sign import PadesLevel, SignOptions
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
    signing_p12: Path | None = None  # the configured court's production key
    signing_p12_dir: Path | None = None  # other courts' production keys, {court code}.p12
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
    """Renders and signs rulings, vouchers and transcripts, each with the key of the court the
    document names, and that court's name as the signature's location."""

    def __init__(self, config: DeskConfig) -> None:
        self.renderer = shared_renderer(config.font_path, config.font_index, config.seal_image)
        options = SignOptions(timestamp_url=config.tsa_url)
        self.level: PadesLevel = "B-T" if options.timestamp_url else "B-B"
        configured = Court(config.court_code, config.court_name)
        # Told how long each ruling took to render and sign (the app's metrics).
        self.on_ruling_issued: Callable[[float], None] = lambda _seconds: None
        self.keys: CourtKeys
        if config.signing_p12 is None and config.signing_p12_dir is None:
            self.keys = DevKeys(config.certs_dir, configured, options)
        else:
            self.keys = P12Keys(
                configured,
                config.signing_p12,
                config.signing_p12_dir,
                config.signing_p12_password,
                options,
            )

    def _signing(self, court_name: str, case_number: str, reason: str) -> Callable[[bytes], bytes]:
        """The named court's signer, found (or refused: NoSigningKey) before anything is drawn."""
        court = Court.of(court_name, case_number)
        signer = self.keys.signer(court)
        return functools.partial(signer.sign, reason=reason, location=court.name)

    def _ruling(self, data: RulingData) -> IssuedText:
        sign = self._signing(data.court_name, data.case_number, "民事裁定书")
        # One template render: the screen copy is made from the very blocks the PDF is drawn
        # from, not from a second render that would agree only as long as nothing changed.
        doc = self.renderer.templates.ruling(data)
        pdf = self.renderer.render_ruling_document(doc, data)
        return IssuedText(sign(pdf), screen_text(doc, data))

    def _voucher(self, data: VoucherData) -> bytes:
        sign = self._signing(data.court_name, data.case_number, "电子送达凭证")
        return sign(self.renderer.render_voucher(data))

    def _transcript(self, context: Mapping[str, Any]) -> bytes:
        sign = self._signing(context["court_name"], context["case_number"], "笔录")
        return sign(self.renderer.render_transcript(context))

    def _paper_receipt(self, context: Mapping[str, Any]) -> bytes:
        sign = self._signing(context["court_name"], context["case_number"], "送达回证")
        return sign(self.renderer.render_paper_receipt(context))

    def ruling_draft(self, data: RulingData) -> list[dict[str, Any]]:
        """What the judge reads before signing: the same text, not yet signed or numbered."""
        return draft_blocks(self.renderer.templates.ruling(data), data)

    # Rendering and signing take tens of milliseconds of CPU: off the event loop, so video
    # signaling in the same process keeps its latency.
    def missing_glyphs(self, text: str) -> str:
        return self.renderer.missing_glyphs(text)

    async def signer_sha256(self, court_name: str, case_number: str) -> str:
        """The fingerprint of the certificate that signs this court's documents: asked before
        issuing, so a court without a key (NoSigningKey) is refused before anything is made."""
        court = Court.of(court_name, case_number)
        signer = await asyncio.get_running_loop().run_in_executor(None, self.keys.signer, court)
        return signer.certificate_sha256

    async def ruling(self, data: RulingData) -> IssuedText:
        started = time.perf_counter()
        issued = await asyncio.get_running_loop().run_in_executor(None, self._ruling, data)
        self.on_ruling_issued(time.perf_counter() - started)
        return issued

    async def voucher(self, data: VoucherData) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, self._voucher, data)

    async def transcript(self, context: Mapping[str, Any]) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, self._transcript, context)

    async def paper_form(self, context: Mapping[str, Any]) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(None, self._paper_receipt, context)

    async def verify(self, pdf: bytes, expected_sha256: str | None) -> VerificationResult:
        def check() -> VerificationResult:
            return verify_pdf(pdf, self.keys.trust_roots(), expected_sha256)

        return await asyncio.get_running_loop().run_in_executor(None, check)
