"""Handwritten signature images in a rendered document, checked with real tools: poppler's
pdfimages for what is embedded, pdftoppm and Pillow for where the ink lands."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from app.ruling.blocks import Document, parse_blocks
from app.ruling.errors import RulingError, SignatureImageError
from app.ruling.layout import ImageOp, Page, layout
from app.ruling.render import MAX_SIGNATURE_BYTES, MAX_SIGNATURE_SIDE, RulingRenderer

from realdeps import require_tool

TEMPLATE = """\
@title 人民调解协议书
@para 经本委员会主持调解，当事人自愿达成如下协议：张三于2026年12月10日前向李四支付
人民币35,000.00元（大写：叁万伍仟元整）。
@autograph 甲方（签名）|party-a
@autograph 乙方（签名）|party-b
@footer 第 {page} 页 共 {pages} 页
"""
DPI = 50
INK = (20, 20, 70, 255)


def signature_png(width: int, height: int, seed: int) -> bytes:
    """A scribble of dark strokes on a transparent canvas, with a square in each corner so the
    drawn image's extent shows on the page. The transparent pixels are black with alpha 0: an
    image drawn without its mask would print as a black box."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    points = [
        (width * (0.08 + 0.84 * k / 11), height * (0.25 + 0.5 * ((k * 7 + seed) % 5) / 4))
        for k in range(12)
    ]
    draw.line(points, fill=INK, width=max(4, height // 12), joint="curve")
    c = max(6, min(width, height) // 8)
    for x, y in ((0, 0), (width - c, 0), (0, height - c), (width - c, height - c)):
        draw.rectangle((x, y, x + c - 1, y + c - 1), fill=INK)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


WIDE = signature_png(600, 200, 1)  # wider than the box's 36:14: fitted to its width
TALL = signature_png(300, 240, 3)  # narrower: fitted to its height
IMAGES = {"party-a": WIDE, "party-b": TALL}


def run(*args: str | Path) -> str:
    tool = require_tool(str(args[0]))
    done = subprocess.run(
        [tool, *map(str, args[1:])], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def renderer() -> RulingRenderer:
    return RulingRenderer()


@pytest.fixture(scope="module")
def doc() -> Document:
    return parse_blocks(TEMPLATE, "agreement-test")


def render(renderer: RulingRenderer, doc: Document, images: dict[str, bytes] | None) -> bytes:
    return renderer.render_document(
        doc,
        title="人民调解协议书（测试）",
        issuer="深圳市光明区光明街道人民调解委员会",
        subject="人民调解协议书",
        images=images,
    )


def boxes(renderer: RulingRenderer, doc: Document) -> dict[str, ImageOp]:
    pages: list[Page] = layout(doc, renderer.measure, renderer.config.style)
    assert len(pages) == 1
    return {op.key: op for op in pages[0].ops if isinstance(op, ImageOp)}


def rasterise(pdf: bytes, tmp_path: Path) -> Image.Image:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    run("pdftoppm", "-r", str(DPI), "-png", "-singlefile", path, tmp_path / "page")
    return Image.open(tmp_path / "page.png").convert("L")


def dark_pixels(page: Image.Image, box: tuple[float, float, float, float], height: float) -> int:
    """Pixels darker than mid-grey inside (x0, y0, x1, y1), given in PDF points (y up)."""
    x0, y0, x1, y1 = box
    scale = DPI / 72
    crop = page.crop(
        (
            round(x0 * scale),
            round((height - y1) * scale),
            round(x1 * scale),
            round((height - y0) * scale),
        )
    )
    return sum(crop.histogram()[:128])


def inside(op: ImageOp) -> tuple[float, float, float, float]:
    """The box less a margin: the signature line along its bottom edge is not ink."""
    m = 2.5
    return (op.x + m, op.y + m, op.x + op.width - m, op.y + op.height - m)


def test_both_signatures_are_embedded_with_their_transparency(
    renderer: RulingRenderer, doc: Document, tmp_path: Path
) -> None:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(render(renderer, doc, IMAGES))
    rows = [line.split() for line in run("pdfimages", "-list", path).splitlines()[2:]]
    images = [r for r in rows if r[2] == "image"]
    masks = [r for r in rows if r[2] == "smask"]
    assert sorted((int(r[3]), int(r[4])) for r in images) == [(300, 240), (600, 200)]
    assert len(masks) == 2  # the alpha channel travels as a soft mask
    box = renderer.config.style
    for r in images:
        width_px, height_px, x_ppi, y_ppi = int(r[3]), int(r[4]), int(r[12]), int(r[13])
        assert abs(x_ppi - y_ppi) <= 1, "the aspect ratio is kept"
        drawn_w, drawn_h = width_px * 72 / x_ppi, height_px * 72 / y_ppi
        assert drawn_w <= box.autograph_width + 1 and drawn_h <= box.autograph_height + 1
        # Fitted: it fills the box in one direction.
        assert max(drawn_w / box.autograph_width, drawn_h / box.autograph_height) > 0.98


def test_ink_lands_in_each_box_and_nowhere_else(
    renderer: RulingRenderer, doc: Document, tmp_path: Path
) -> None:
    page = rasterise(render(renderer, doc, IMAGES), tmp_path)
    height = renderer.config.style.page_height
    ops = boxes(renderer, doc)
    for key in ("party-a", "party-b"):
        dark = dark_pixels(page, inside(ops[key]), height)
        area = (ops[key].width - 5) * (ops[key].height - 5) * (DPI / 72) ** 2
        assert dark > 20, f"no ink in the box of {key}"
        # The transparent background stays paper-white, not the black under alpha 0.
        assert dark < 0.6 * area, f"the box of {key} is filled: its mask was lost"
    a = ops["party-a"]
    right = renderer.config.style.right
    empty = (a.x + a.width + 10, a.y - 60, right, a.y + a.height)  # beside both boxes
    assert dark_pixels(page, empty, height) == 0
    # The tall signature keeps its proportions: its ink stops where its fitted width ends.
    b = ops["party-b"]
    fitted = b.height * 300 / 240
    beyond = (b.x + fitted + 3, b.y + 3, b.x + b.width, b.y + b.height)
    assert dark_pixels(page, beyond, height) == 0


def test_a_fully_transparent_image_leaves_the_box_blank(
    renderer: RulingRenderer, doc: Document, tmp_path: Path
) -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (400, 150), (0, 0, 0, 0)).save(buf, "PNG")
    page = rasterise(render(renderer, doc, {**IMAGES, "party-b": buf.getvalue()}), tmp_path)
    ops = boxes(renderer, doc)
    height = renderer.config.style.page_height
    assert dark_pixels(page, inside(ops["party-b"]), height) == 0
    assert dark_pixels(page, inside(ops["party-a"]), height) > 20


def test_other_modes_of_png_are_drawn(
    renderer: RulingRenderer, doc: Document, tmp_path: Path
) -> None:
    rgba = Image.open(io.BytesIO(WIDE))
    for mode in ("LA", "P", "L", "RGB"):
        buf = io.BytesIO()
        rgba.convert(mode).save(buf, "PNG")
        pdf = render(renderer, doc, {**IMAGES, "party-a": buf.getvalue()})
        assert pdf.startswith(b"%PDF-")


def png_of_size(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("LA", (width, height), (0, 0)).save(buf, "PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 40), (255, 255, 255)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ({"party-a": WIDE}, "No signature image was supplied for 'party-b'"),
        (None, "没有“party-a”的签名图像"),
        ({**IMAGES, "party-b": jpeg()}, "not a PNG file"),
        ({**IMAGES, "party-b": b""}, "不是 PNG"),
        ({**IMAGES, "party-b": b"GIF89a" + TALL}, "not a PNG file"),
        ({**IMAGES, "party-b": TALL[:8] + b"\0" * 40}, "cannot be read"),
        ({**IMAGES, "party-b": TALL[: len(TALL) // 2]}, "cannot be read"),  # truncated
        ({**IMAGES, "party-b": TALL[:8] + b"\0" * MAX_SIGNATURE_BYTES}, "2,000,000 bytes"),
        ({**IMAGES, "party-b": png_of_size(MAX_SIGNATURE_SIDE + 1, 10)}, "4000x4000 pixels"),
        ({**IMAGES, "party-b": png_of_size(10, 30_000)}, r"超过 4000×4000 像素（10×30000）"),
    ],
)
def test_unusable_signature_images_are_refused(
    renderer: RulingRenderer,
    doc: Document,
    images: dict[str, bytes] | None,
    message: str,
) -> None:
    with pytest.raises(SignatureImageError, match=message) as info:
        render(renderer, doc, images)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RulingError)
    assert " / " in str(info.value)
    assert info.value.key in ("party-a", "party-b")


def test_an_image_at_the_limits_is_taken(renderer: RulingRenderer, doc: Document) -> None:
    big = png_of_size(MAX_SIGNATURE_SIDE, 40)
    assert len(big) <= MAX_SIGNATURE_BYTES
    assert render(renderer, doc, {**IMAGES, "party-b": big}).startswith(b"%PDF-")


def test_unused_images_are_ignored(renderer: RulingRenderer) -> None:
    plain = parse_blocks("@title 人民调解协议书\n@para 正文。\n", "t")
    assert render(renderer, plain, {"spare": b"not even a png"}).startswith(b"%PDF-")
