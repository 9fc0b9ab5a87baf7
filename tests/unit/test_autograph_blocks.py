"""The @autograph block (a label and a handwritten signature image): parsing and layout.
Pure: a monospace measure, no fonts, no images."""

from __future__ import annotations

import pytest

from app.ruling.blocks import parse_blocks
from app.ruling.errors import TemplateError
from app.ruling.layout import MM, ImageOp, LineOp, Page, Style, TextOp, layout

STYLE = Style()


def measure(text: str, size: float) -> float:
    return sum(0.5 if ord(ch) < 128 else 1.0 for ch in text) * size


def test_an_autograph_block_is_a_label_and_a_key() -> None:
    doc = parse_blocks("@autograph 甲方（签名）| party-1 \n@autograph 乙方（签名）|b_2.x\n", "t")
    assert [(b.kind, b.parts()) for b in doc.blocks] == [
        ("autograph", ("甲方（签名）", "party-1")),
        ("autograph", ("乙方（签名）", "b_2.x")),
    ]


def test_a_label_may_continue_on_the_next_line() -> None:
    doc = parse_blocks("@autograph 当事人（签名）\n张三|party-0\n", "t")
    assert doc.blocks[0].parts() == ("当事人（签名）张三", "party-0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@autograph 甲方（签名）\n", r"label\|key"),  # no key at all
        ("@autograph 甲方（签名）|\n", r"label\|key"),
        ("@autograph 甲方（签名）|  \n", r"label\|key"),
        ("@autograph |party-1\n", r"label\|key"),  # no label
        ("@autograph\n", "has no text"),
        ("@autograph 甲方|张三\n", "ASCII"),  # a name where the key belongs
        ("@autograph 甲方|party 1\n", "ASCII"),
        ("@autograph 甲方|a|b\n", "ASCII"),
        ("@autograph 甲方|-party\n", "ASCII"),
        ("@autograph 甲方|party-1\n（盖章）\n", "ASCII"),  # a continuation line runs into the key
        ("@autograph 甲方|" + "k" * 65 + "\n", "ASCII"),
    ],
)
def test_malformed_autograph_blocks_are_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as info:
        parse_blocks(text, "agreement.txt.j2")
    assert info.value.line == 1


def test_a_key_of_64_characters_is_taken() -> None:
    assert parse_blocks("@autograph 甲方|" + "k" * 64 + "\n", "t").blocks[0].parts()[1] == "k" * 64


def _images(page: Page) -> list[ImageOp]:
    return [op for op in page.ops if isinstance(op, ImageOp)]


def test_the_box_stands_beside_the_label_on_a_signature_line() -> None:
    doc = parse_blocks("@title 人民调解协议书\n@autograph 甲方（签名）|a\n", "t")
    [page] = layout(doc, measure, STYLE)
    [box] = _images(page)
    label = next(op for op in page.ops if isinstance(op, TextOp) and op.text == "甲方（签名）")
    assert (box.key, box.width, box.height) == ("a", 36 * MM, 14 * MM)
    assert box.x > label.x + measure(label.text, label.size)
    assert box.x + box.width <= STYLE.right
    assert box.y < label.y < box.y + box.height  # the label's baseline is on the box's line
    line = next(op for op in page.ops if isinstance(op, LineOp))
    assert (line.x1, line.y1, line.x2, line.y2) == (box.x, box.y, box.x + box.width, box.y)


def test_a_long_label_wraps_and_the_box_stays_inside_the_margin() -> None:
    label = "当事人（签名）" + "深圳市光明区某某物业管理有限公司法定代表人" * 2
    doc = parse_blocks(f"@autograph {label}|a\n", "t")
    [page] = layout(doc, measure, STYLE)
    [box] = _images(page)
    lines = [op for op in page.ops if isinstance(op, TextOp)]
    assert len(lines) > 1
    assert "".join(op.text for op in lines) == label
    assert box.x + box.width <= STYLE.right + 1e-6
    assert all(op.x + measure(op.text, op.size) < box.x for op in lines)
    assert max(op.y for op in lines) <= STYLE.page_height - STYLE.margin_top  # not above the top


@pytest.mark.parametrize("body_lines", range(14, 30))
def test_a_signature_never_leaves_its_label_or_the_text(body_lines: int) -> None:
    text = "".join(f"@plain 第{n}行\n" for n in range(body_lines))
    text += "@autograph 甲方（签名）|a\n@autograph 乙方（签名）|b\n"
    pages = layout(parse_blocks(text, "t"), measure, STYLE)
    for label, key in (("甲方（签名）", "a"), ("乙方（签名）", "b")):
        [with_label] = [p for p in pages for op in p.ops if getattr(op, "text", "") == label]
        assert [op.key for op in _images(with_label)].count(key) == 1
    last = pages[-1]
    assert any(isinstance(op, TextOp) and op.text.startswith("第") for op in last.ops), (
        "the signatures stand on a page of their own"
    )
    for page in pages:
        for box in _images(page):
            assert box.y >= STYLE.margin_bottom - 1e-6


def test_documents_without_autographs_have_no_image_ops() -> None:
    doc = parse_blocks("@title 民事裁定书\n@para 正文。\n@sign 审判员|张三\n", "t")
    assert not any(_images(p) for p in layout(doc, measure, STYLE))
