"""Page layout and pagination: pure tests with a monospace measure."""

from __future__ import annotations

from ruling_support import ruling

from app.ruling.blocks import parse_blocks
from app.ruling.chinese import CLOSING
from app.ruling.layout import Page, QrOp, SealOp, Style, TextOp, layout
from app.ruling.templates import TemplateSet

STYLE = Style()


def measure(text: str, size: float) -> float:
    return sum(0.5 if ord(ch) < 128 else 1.0 for ch in text) * size


def texts(page: Page) -> list[TextOp]:
    return [op for op in page.ops if isinstance(op, TextOp)]


def long_ruling_pages(n_terms: int) -> list[Page]:
    terms = tuple(f"第{i}项约定：" + "申请人应当按照约定履行给付义务，" * 6 for i in range(n_terms))
    return layout(TemplateSet().ruling(ruling(terms=terms)), measure, STYLE)


def test_footer_counts_pages() -> None:
    pages = long_ruling_pages(12)
    assert len(pages) >= 3
    for page in pages:
        footer = texts(page)[-1]
        assert footer.text == f"第 {page.number} 页 共 {len(pages)} 页"
        assert footer.y == STYLE.footer_baseline


def test_text_stays_inside_the_margins() -> None:
    for page in long_ruling_pages(12):
        for op in texts(page)[:-1]:
            width = measure(op.text, op.size) + op.char_space * (len(op.text) - 1)
            assert op.x >= STYLE.left - 1e-6
            assert op.x + width <= STYLE.right + 1e-6, op.text
            assert STYLE.margin_bottom - 1 <= op.y <= STYLE.page_height - STYLE.margin_top


def test_justified_lines_end_at_the_right_margin() -> None:
    pages = long_ruling_pages(3)
    spread = [op for p in pages for op in texts(p) if op.char_space > 0 and not op.bold]
    assert spread
    for op in spread:
        width = measure(op.text, op.size) + op.char_space * (len(op.text) - 1)
        assert abs(op.x + width - STYLE.right) < 1e-6


def test_no_line_starts_with_closing_punctuation() -> None:
    for page in long_ruling_pages(12):
        for op in texts(page):
            assert op.text[0] not in CLOSING, op.text


def test_signature_block_stays_together_with_body_text() -> None:
    for n in range(1, 16):  # whatever the length, the block never splits or stands alone
        pages = long_ruling_pages(n)
        last = pages[-1]
        assert any(isinstance(op, SealOp) for op in last.ops)
        assert any(isinstance(op, QrOp) for op in last.ops)
        roles = [op.text for op in texts(last) if op.text in ("审判员", "书记员")]
        assert roles == ["审判员", "书记员"]
        body = [op for op in texts(last) if op.size == STYLE.body_size and op.x < STYLE.left + 40]
        assert body, f"{n} terms: the last page carries signatures only"
        for page in pages[:-1]:
            assert not any(isinstance(op, SealOp | QrOp) for op in page.ops)


def test_seal_sits_over_the_date() -> None:
    page = layout(TemplateSet().ruling(ruling()), measure, STYLE)[-1]
    seal = next(op for op in page.ops if isinstance(op, SealOp))
    date = next(op for op in texts(page) if op.text == "二〇二六年十一月二十七日")
    width = measure(date.text, date.size)
    assert abs(seal.cx - (date.x + width / 2)) < 1e-6
    # The date lies inside the seal, a little below its centre (GB/T 9704).
    assert seal.cy - seal.diameter / 2 < date.y < seal.cy


def test_a_block_taller_than_a_page_still_breaks() -> None:
    doc = parse_blocks("@para " + "字" * 27 * 80 + "\n", "t")
    pages = layout(doc, measure, STYLE)
    assert len(pages) >= 3
    assert sum(len(texts(p)) for p in pages) == 80 + 1  # 80 lines (first indented: +1)
