"""Rendering rulings and vouchers to PDF with reportlab.

Build one RulingRenderer per process: it registers the CJK font and compiles the templates
once (registering a CJK TrueType font costs about 200 ms; a render afterwards about 30 ms).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from app.ruling import marks
from app.ruling.blocks import Document
from app.ruling.errors import FontError, GlyphError, SealError, SignatureImageError
from app.ruling.layout import (
    ImageOp,
    LineOp,
    Op,
    Page,
    QrOp,
    RectOp,
    SealOp,
    Style,
    TextOp,
    layout,
)
from app.ruling.model import RulingData, VoucherData
from app.ruling.templates import TemplateSet

DEFAULT_FONT = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
# A font that lacks these cannot be a Chinese text font, whatever else it is.
_PROBE = "民事裁定书人民法院审判员，。（）一二三〇"
# A signature is a small picture: these bounds refuse a photograph or a decompression bomb
# long before reportlab would try to embed it.
MAX_SIGNATURE_BYTES = 2_000_000
MAX_SIGNATURE_SIDE = 4000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class RenderConfig:
    font_path: Path = DEFAULT_FONT
    subfont_index: int = 0  # uming.ttc: 0 = AR PL UMing CN (simplified-Chinese glyph forms)
    templates_dir: Path | None = None  # None: the repo's templates/rulings
    seal_image: Path | None = None  # None: a drawn placeholder marked 开发用样章
    style: Style = field(default_factory=Style)
    creator: str = "Sifa 司法确认平台"


class RulingRenderer:
    """Renders rulings and vouchers. Thread-safe; renders are serialised by a lock because
    reportlab's font subsetting state is shared per font."""

    def __init__(self, config: RenderConfig | None = None) -> None:
        self.config = config or RenderConfig()
        self.font, self._cmap = _register_font(self.config.font_path, self.config.subfont_index)
        self.templates = TemplateSet(self.config.templates_dir)
        self._seal = _load_seal(self.config.seal_image)
        self._lock = threading.Lock()

    def render_ruling(self, data: RulingData) -> bytes:
        return self.render_ruling_document(self.templates.ruling(data), data)

    def render_ruling_document(self, doc: Document, data: RulingData) -> bytes:
        """A ruling already rendered to blocks (the caller also keeps its screen copy)."""
        title = doc.first("title")
        name = title.text if title else "民事裁定书"
        return self._render(doc, f"{name}{data.case_number}", data.court_name, name)

    def render_voucher(self, data: VoucherData) -> bytes:
        doc = self.templates.voucher(data)
        title = doc.first("title")
        name = title.text if title else "电子送达凭证"
        return self._render(doc, f"{name}{data.case_number}", data.court_name, name)

    def render_transcript(self, context: Mapping[str, Any]) -> bytes:
        return self._render_context(self.templates.transcript(context), context, "笔录")

    def render_paper_receipt(self, context: Mapping[str, Any]) -> bytes:
        return self._render_context(self.templates.paper_receipt(context), context, "送达回证")

    def render_document(
        self,
        doc: Document,
        *,
        title: str,
        issuer: str,
        subject: str,
        images: Mapping[str, bytes] | None = None,
    ) -> bytes:
        """Any parsed document. images holds the PNG for each @autograph block's key; issuer
        is the PDF's author (and the name on the development seal, if the document has a date).
        Raises SignatureImageError for a key without a usable PNG; unused images are ignored."""
        return self._render(doc, title, issuer, subject, images)

    def _render_context(self, doc: Document, context: Mapping[str, Any], name: str) -> bytes:
        return self._render(doc, f"{name}{context['case_number']}", context["court_name"], name)

    def measure(self, text: str, size: float) -> float:
        return float(pdfmetrics.stringWidth(text, self.font, size))

    def _render(
        self,
        doc: Document,
        title: str,
        court: str,
        subject: str,
        images: Mapping[str, bytes] | None = None,
    ) -> bytes:
        pages = layout(doc, self.measure, self.config.style)
        self._check_glyphs(pages)
        readers = _signature_images(pages, images or {})
        with self._lock:
            return self._draw(pages, title, court, subject, readers)

    def missing_glyphs(self, text: str) -> str:
        """The distinct characters of text the font cannot draw, in code-point order."""
        cmap = self._cmap
        return "".join(sorted({ch for ch in text if ord(ch) not in cmap and not ch.isspace()}))

    def _check_glyphs(self, pages: list[Page]) -> None:
        # A character the font lacks would print as a blank box in a legal document
        # (a rare character in a name, typically): refuse instead.
        text = "".join(op.text for p in pages for op in p.ops if isinstance(op, TextOp))
        missing = self.missing_glyphs(text)
        if missing:
            raise GlyphError(self.config.font_path, missing)

    def _draw(
        self,
        pages: list[Page],
        title: str,
        court: str,
        subject: str,
        images: Mapping[str, ImageReader],
    ) -> bytes:
        buf = io.BytesIO()
        st = self.config.style
        # initialFontName: otherwise reportlab's page setup references an unembedded Helvetica.
        c = Canvas(
            buf,
            pagesize=(st.page_width, st.page_height),
            initialFontName=self.font,
            initialFontSize=st.body_size,
            lang="zh-CN",
        )
        c.setTitle(title)
        c.setAuthor(court)
        c.setSubject(subject)
        c.setCreator(self.config.creator)
        for page in pages:
            # Seals last: the seal is stamped over the date, as ink would be.
            for op in sorted(page.ops, key=lambda o: isinstance(o, SealOp)):
                self._draw_op(c, op, court, images)
            c.showPage()
        c.save()
        return buf.getvalue()

    def _draw_op(self, c: Canvas, op: Op, court: str, images: Mapping[str, ImageReader]) -> None:
        if isinstance(op, TextOp):
            # Character spacing and render mode are graphics state that outlives a text
            # object (and reportlab only emits a change from its own per-object default):
            # fence each line in q/Q so one line's settings never leak into the next.
            c.saveState()
            t = c.beginText(op.x, op.y)
            t.setFont(self.font, op.size)
            if op.char_space:
                t.setCharSpace(op.char_space)
            if op.bold:
                # Song has no bold face: bold is the outline filled and stroked thinly.
                t.setTextRenderMode(2)
                c.setLineWidth(op.size * 0.03)
            t.textOut(op.text)
            c.drawText(t)
            c.restoreState()
        elif isinstance(op, RectOp):
            c.setLineWidth(op.line_width)
            c.rect(op.x, op.y, op.width, op.height, stroke=1, fill=0)
        elif isinstance(op, LineOp):
            c.setLineWidth(op.line_width)
            c.line(op.x1, op.y1, op.x2, op.y2)
        elif isinstance(op, QrOp):
            marks.draw_qr(c, op.data, op.x, op.y, op.size)
        elif isinstance(op, ImageOp):
            # Bottom-left anchored: the signature sits on its line, beside its label.
            c.drawImage(
                images[op.key],
                op.x,
                op.y,
                op.width,
                op.height,
                mask="auto",
                preserveAspectRatio=True,
                anchor="sw",
            )
        elif self._seal is not None:
            d = op.diameter
            c.saveState()
            c.setBlendMode("Multiply")
            c.drawImage(
                self._seal,
                op.cx - d / 2,
                op.cy - d / 2,
                d,
                d,
                mask="auto",
                preserveAspectRatio=True,
                anchor="c",
            )
            c.restoreState()
        else:
            marks.draw_placeholder_seal(c, self.font, court, op.cx, op.cy, op.diameter)


def _register_font(path: Path, subfont_index: int) -> tuple[str, frozenset[int]]:
    """Register the TrueType CJK font once per process; return its name and covered code points."""
    key = hashlib.sha256(f"{path.resolve()}#{subfont_index}".encode()).hexdigest()[:12]
    name = f"SifaSong-{key}"
    if name not in pdfmetrics.getRegisteredFontNames():
        if not path.is_file():
            raise FontError(path, "no such file")
        try:
            font = TTFont(name, str(path), subfontIndex=subfont_index)
        except Exception as e:  # reportlab raises TTFError, OSError, IndexError, …
            raise FontError(path, f"{type(e).__name__}: {e}") from e
        cmap = frozenset(font.face.charToGlyph)
        lacking = [ch for ch in _PROBE if ord(ch) not in cmap]
        if lacking:
            raise FontError(path, f"not a Chinese font: no glyph for {''.join(lacking)}")
        pdfmetrics.registerFont(font)
    registered = pdfmetrics.getFont(name)
    return name, frozenset(registered.face.charToGlyph)


def _load_seal(path: Path | None) -> ImageReader | None:
    if path is None:
        return None
    try:
        reader = ImageReader(str(path))
        reader.getSize()
    except Exception as e:
        raise SealError(f"cannot read seal image {str(path)!r}: {e}") from e
    return reader


def _signature_images(pages: list[Page], images: Mapping[str, bytes]) -> dict[str, ImageReader]:
    """A reader for every image the pages draw, each checked before anything is drawn."""
    keys = {op.key for page in pages for op in page.ops if isinstance(op, ImageOp)}
    return {key: _signature_image(key, images.get(key)) for key in sorted(keys)}


def _signature_image(key: str, data: bytes | None) -> ImageReader:
    if data is None:
        raise SignatureImageError(
            key, f"没有“{key}”的签名图像。", f"No signature image was supplied for {key!r}."
        )
    if len(data) > MAX_SIGNATURE_BYTES:
        raise SignatureImageError(
            key,
            f"签名图像“{key}”超过 {MAX_SIGNATURE_BYTES:,} 字节。",
            f"Signature image {key!r} is larger than {MAX_SIGNATURE_BYTES:,} bytes.",
        )
    if not data.startswith(_PNG_MAGIC):
        raise SignatureImageError(
            key, f"签名图像“{key}”不是 PNG 文件。", f"Signature image {key!r} is not a PNG file."
        )
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
            width, height = img.size
            # The size is in the header: refuse a huge canvas before decoding a pixel of it.
            if max(width, height) > MAX_SIGNATURE_SIDE:
                raise SignatureImageError(
                    key,
                    f"签名图像“{key}”超过 {MAX_SIGNATURE_SIDE}×{MAX_SIGNATURE_SIDE} 像素"
                    f"（{width}×{height}）。",
                    f"Signature image {key!r} is larger than {MAX_SIGNATURE_SIDE}x"
                    f"{MAX_SIGNATURE_SIDE} pixels ({width}x{height}).",
                )
            img.load()  # a truncated or corrupt stream fails here, not halfway through drawing
    except SignatureImageError:
        raise
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error, …
        raise SignatureImageError(
            key,
            f"签名图像“{key}”无法读取：{e}。",
            f"Signature image {key!r} cannot be read: {type(e).__name__}: {e}.",
        ) from e
    return ImageReader(io.BytesIO(data))
