"""Page layout: blocks → positioned drawing operations on A4 pages. Pure.

The only outside knowledge is a measure function (text, size) → width, so layout and
pagination are computed before anything is drawn: the total page count for the footer
("第 1 页 共 2 页") is known without a second rendering pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from app.ruling.blocks import Block, Document
from app.ruling.chinese import break_lines

MM = 72 / 25.4
Measure = Callable[[str, float], float]


@dataclass(frozen=True, slots=True)
class Style:
    """Geometry after GB/T 9704 (official documents): A4, body 16 pt (三号), 28 lines."""

    page_width: float = 210 * MM
    page_height: float = 297 * MM
    margin_top: float = 37 * MM
    margin_bottom: float = 35 * MM
    margin_left: float = 28 * MM
    margin_right: float = 26 * MM
    body_size: float = 16.0
    leading: float = 28.0
    court_size: float = 22.0
    title_size: float = 26.0
    title_spacing: float = 0.6  # em between title characters: 民 事 裁 定 书
    table_size: float = 14.0
    table_label_em: float = 6.5
    small_size: float = 10.5
    qr_size: float = 26 * MM
    seal_diameter: float = 42 * MM  # the usual court seal
    footer_baseline: float = 20 * MM  # above the page's bottom edge
    # Justify a line only while the added spacing stays below this (em per gap):
    # a line with a long unbreakable run is left ragged rather than spaced out.
    max_justify: float = 0.15
    # The box a handwritten signature image is fitted into, beside its label.
    autograph_width: float = 36 * MM
    autograph_height: float = 14 * MM

    @property
    def text_width(self) -> float:
        return self.page_width - self.margin_left - self.margin_right

    @property
    def left(self) -> float:
        return self.margin_left

    @property
    def right(self) -> float:
        return self.page_width - self.margin_right

    @property
    def body_height(self) -> float:
        return self.page_height - self.margin_top - self.margin_bottom


# Drawing operations, in PDF coordinates once placed (origin bottom-left, y up).
@dataclass(frozen=True, slots=True)
class TextOp:
    x: float
    y: float  # baseline
    text: str
    size: float
    char_space: float = 0.0
    bold: bool = False


@dataclass(frozen=True, slots=True)
class RectOp:
    x: float
    y: float  # bottom
    width: float
    height: float
    line_width: float = 0.6


@dataclass(frozen=True, slots=True)
class LineOp:
    x1: float
    y1: float
    x2: float
    y2: float
    line_width: float = 0.6


@dataclass(frozen=True, slots=True)
class QrOp:
    x: float
    y: float  # bottom
    size: float
    data: str


@dataclass(frozen=True, slots=True)
class SealOp:
    cx: float
    cy: float
    diameter: float


@dataclass(frozen=True, slots=True)
class ImageOp:
    """A box for an image the caller supplies at render time under key (a signature)."""

    x: float
    y: float  # bottom
    width: float
    height: float
    key: str


Op = TextOp | RectOp | LineOp | QrOp | SealOp | ImageOp


@dataclass(slots=True)
class _Item:
    """A slice of the flow: ops with y measured downward from the item's top."""

    height: float
    ops: list[Op] = field(default_factory=list)
    glue: bool = False  # no page break directly before this item
    keep_next: bool = False  # no page break directly after this item


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    ops: tuple[Op, ...]


def layout(doc: Document, measure: Measure, style: Style = Style()) -> list[Page]:
    items = list(_items(doc, measure, style))
    pages = _paginate(items, style)
    total = len(pages)
    out = []
    for n, ops in enumerate(pages, 1):
        if doc.footer is not None:
            text = doc.footer.format(page=n, pages=total)
            w = measure(text, style.small_size)
            ops.append(
                TextOp((style.page_width - w) / 2, style.footer_baseline, text, style.small_size)
            )
        out.append(Page(n, tuple(ops)))
    return out


# Kinds that make up the signature block: kept on one page together with the last line
# before them, so that no page carries signatures alone.
_SIGNATURE_KINDS = frozenset({"sign", "autograph", "date", "note", "qr", "gap"})


def _items(doc: Document, measure: Measure, s: Style) -> Iterator[_Item]:
    blocks = doc.blocks
    # The signature group starts at the first block after which only signature kinds follow.
    tail_start = len(blocks)
    while tail_start > 0 and blocks[tail_start - 1].kind in _SIGNATURE_KINDS:
        tail_start -= 1
    for i, block in enumerate(blocks):
        in_tail = i >= tail_start
        first = True
        for item in _block_items(block, measure, s):
            if in_tail:
                item.glue = True
            if first and block.kind in ("court", "title", "right"):
                item.keep_next = True
            first = False
            yield item


def _block_items(b: Block, measure: Measure, s: Style) -> list[_Item]:
    fs = s.body_size
    if b.kind in ("court", "title"):
        size = s.court_size if b.kind == "court" else s.title_size
        spacing = s.title_spacing * size if b.kind == "title" else 0.0
        w = measure(b.text, size) + spacing * (len(b.text) - 1)
        x = s.left + (s.text_width - w) / 2
        height = size * 1.9
        return [_Item(height, [TextOp(x, size * 1.25, b.text, size, spacing, bold=True)])]
    if b.kind == "right":
        w = measure(b.text, fs)
        return [_Item(s.leading * 1.2, [TextOp(s.right - w, fs, b.text, fs)])]
    if b.kind in ("para", "plain"):
        return _paragraph(b.text, measure, s, indent=2 * fs if b.kind == "para" else 0.0)
    if b.kind == "gap":
        return [_Item(s.leading)]
    if b.kind == "field":
        return [_table_row(b, measure, s)]
    if b.kind == "sign":
        role, name = b.parts()
        x = s.right - 11 * fs
        return [_Item(s.leading, [TextOp(x, fs, role, fs), TextOp(x + 5 * fs, fs, name, fs)])]
    if b.kind == "autograph":
        return [_autograph(b, measure, s)]
    if b.kind == "date":
        w = measure(b.text, fs)
        x = s.right - fs - w
        # GB/T 9704: the seal presses down on the date, which sits a little below its centre.
        cy_down = 0.65 * fs - 0.25 * s.seal_diameter / 2
        item = _Item(s.leading, [TextOp(x, fs, b.text, fs)])
        item.ops.append(SealOp(x + w / 2, cy_down, s.seal_diameter))
        return [item]
    if b.kind == "note":
        size = s.table_size
        w = measure(b.text, size)
        pad = 0.4 * size
        box = RectOp(s.left, fs + pad * 0.9, w + 2 * pad, size + 2 * pad, 0.8)
        return [_Item(s.leading, [box, TextOp(s.left + pad, fs, b.text, size)])]
    if b.kind == "qr":
        return [_qr(b, measure, s)]
    raise AssertionError(f"block kind {b.kind} has no layout")  # parse_blocks rejects these


def _paragraph(text: str, measure: Measure, s: Style, indent: float) -> list[_Item]:
    fs = s.body_size
    lines = break_lines(text, lambda t: measure(t, fs), s.text_width, s.text_width - indent)
    items = []
    for n, line in enumerate(lines):
        x = s.left + (indent if n == 0 else 0.0)
        avail = s.right - x
        last = n == len(lines) - 1
        cs = _spacing(line, measure(line, fs), avail, fs, s, justify=not last)
        # No orphan (a lone first line at a page's foot) and no widow (a lone last line).
        glue = n == 1 or (last and n > 0)
        items.append(_Item(s.leading, [TextOp(x, fs, line, fs, cs)], glue=glue))
    return items


def _spacing(
    line: str, natural: float, avail: float, size: float, s: Style, justify: bool
) -> float:
    """Character spacing that fits the line to avail: squeeze a line with a hung mark,
    spread a full line to the margin (justify), within limits."""
    gaps = len(line) - 1
    if gaps <= 0:
        return 0.0
    if natural > avail:
        return (avail - natural) / gaps
    if not justify:
        return 0.0
    cs = (avail - natural) / gaps
    return cs if cs <= s.max_justify * size else 0.0


def _table_row(b: Block, measure: Measure, s: Style) -> _Item:
    size = s.table_size
    label, value = b.parts()
    pad = 0.35 * size
    line_h = size * 1.4
    label_w = s.table_label_em * size
    value_w = s.text_width - label_w - 2 * pad
    lines = break_lines(value, lambda t: measure(t, size), value_w)
    height = len(lines) * line_h + 2 * pad
    ops: list[Op] = [
        RectOp(s.left, height, s.text_width, height),
        LineOp(s.left + label_w, 0, s.left + label_w, height),
        TextOp(s.left + pad, pad + size, label, size),
    ]
    for n, line in enumerate(lines):
        last = n == len(lines) - 1
        cs = _spacing(line, measure(line, size), value_w, size, s, justify=not last)
        ops.append(TextOp(s.left + label_w + pad, pad + size + n * line_h, line, size, cs))
    return _Item(height, ops)


def _qr(b: Block, measure: Measure, s: Style) -> _Item:
    caption, url = b.parts()
    size = s.small_size
    q = s.qr_size
    x_text = s.left + q + 3 * MM
    width = s.right - x_text
    lines = break_lines(caption, lambda t: measure(t, size), width)
    lines += break_lines(url, lambda t: measure(t, size), width)
    top = 0.4 * s.leading
    ops: list[Op] = [QrOp(s.left, top + q, q, url)]
    y = top + q / 2 - (len(lines) * size * 1.5) / 2 + size
    for line in lines:
        ops.append(TextOp(x_text, y, line, size))
        y += size * 1.5
    return _Item(top + q + 0.2 * s.leading, ops)


def _autograph(b: Block, measure: Measure, s: Style) -> _Item:
    """The label, then the box the signature image is fitted into, on a signature line.
    One item: a page break never parts a signature from its label."""
    label, key = b.parts()
    fs = s.body_size
    gap = 0.5 * fs
    w, h = s.autograph_width, s.autograph_height
    lines = break_lines(label, lambda t: measure(t, fs), s.text_width - gap - w)
    # The label's last line sits on the signature line, as handwriting would; a long label
    # grows upward from there, and the whole item downward if it reaches above the top.
    line_y = 0.25 * s.leading + h
    first = line_y - 0.2 * fs - (len(lines) - 1) * s.leading
    shift = max(0.0, fs - first)
    line_y += shift
    ops: list[Op] = [
        TextOp(s.left, first + shift + n * s.leading, text, fs) for n, text in enumerate(lines)
    ]
    x = s.left + max(measure(text, fs) for text in lines) + gap
    ops.append(ImageOp(x, line_y, w, h, key))
    ops.append(LineOp(x, line_y, x + w, line_y, 0.5))
    return _Item(line_y + 0.35 * s.leading, ops)


def _paginate(items: list[_Item], s: Style) -> list[list[Op]]:
    # Runs of items that must share a page.
    runs: list[list[_Item]] = []
    for i, item in enumerate(items):
        if runs and (item.glue or items[i - 1].keep_next):
            runs[-1].append(item)
        else:
            runs.append([item])
    pages: list[list[Op]] = [[]]
    used = 0.0
    for run in runs:
        height = sum(i.height for i in run)
        if used > 0 and used + height > s.body_height:
            pages.append([])
            used = 0.0
        for item in run:
            if used > 0 and used + item.height > s.body_height:
                pages.append([])  # a run taller than a page: break it where it overflows
                used = 0.0
            top = s.page_height - s.margin_top - used
            pages[-1].extend(_place(op, top) for op in item.ops)
            used += item.height
    return pages


def _place(op: Op, top: float) -> Op:
    """Turn an item-relative op (y down from the item's top) into page coordinates."""
    if isinstance(op, TextOp):
        return TextOp(op.x, top - op.y, op.text, op.size, op.char_space, op.bold)
    if isinstance(op, RectOp):
        return RectOp(op.x, top - op.y, op.width, op.height, op.line_width)
    if isinstance(op, LineOp):
        return LineOp(op.x1, top - op.y1, op.x2, top - op.y2, op.line_width)
    if isinstance(op, QrOp):
        return QrOp(op.x, top - op.y, op.size, op.data)
    if isinstance(op, ImageOp):
        return ImageOp(op.x, top - op.y, op.width, op.height, op.key)
    return SealOp(op.cx, top - op.cy, op.diameter)
