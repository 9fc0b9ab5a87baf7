"""Rendering: font start-up errors, glyph coverage, seal image, metadata and timing."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from ruling_support import LI, ZHANG, ruling, run, save

from app.ruling.errors import FontError, GlyphError, SealError
from app.ruling.render import RenderConfig, RulingRenderer


def test_missing_font_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(FontError, match="no such file") as info:
        RulingRenderer(RenderConfig(font_path=tmp_path / "nope.ttc"))
    assert info.value.path == tmp_path / "nope.ttc"


def test_unreadable_font_fails_at_start_up(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font at all")
    with pytest.raises(FontError, match=r"bogus\.ttf"):
        RulingRenderer(RenderConfig(font_path=bogus))


def test_font_without_chinese_is_refused() -> None:
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not dejavu.exists():
        pytest.skip("DejaVuSans.ttf is not installed")
    with pytest.raises(FontError, match="not a Chinese font"):
        RulingRenderer(RenderConfig(font_path=dejavu))


def test_postscript_outline_font_is_refused() -> None:
    otf = Path("/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Italic.otf")
    if not otf.exists():
        pytest.skip("no CFF-outline font installed to try")
    with pytest.raises(FontError):
        RulingRenderer(RenderConfig(font_path=otf))


def test_bad_subfont_index_fails_at_start_up() -> None:
    with pytest.raises(FontError):
        RulingRenderer(RenderConfig(subfont_index=42))


def test_character_missing_from_the_font_is_refused(renderer: RulingRenderer) -> None:
    person = dataclasses.replace(ZHANG, name="𠮷田")  # U+20BB7: not in AR PL UMing
    with pytest.raises(GlyphError, match="𠮷"):
        renderer.render_ruling(ruling(applicants=(person, LI), agents=()))


def test_missing_seal_image_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(SealError):
        RulingRenderer(RenderConfig(seal_image=tmp_path / "seal.png"))


def test_configured_seal_image_is_used(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((10, 10, 290, 290), outline=(220, 20, 30, 255), width=12)
    seal = tmp_path / "seal.png"
    img.save(seal)
    pdf = RulingRenderer(RenderConfig(seal_image=seal)).render_ruling(ruling())
    assert b"/Subtype /Image" in pdf
    assert "开发用样章".encode("utf-16-be") not in pdf  # no placeholder when a seal is set
    path = save("ruling-with-seal-image.pdf", pdf)
    assert "开发用样章" not in run("pdftotext", path, "-").stdout


def test_metadata(renderer: RulingRenderer, tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    path.write_bytes(renderer.render_ruling(ruling()))
    info = run("pdfinfo", path).stdout
    assert "Title:           民事裁定书（2026）粤0311民特123号" in info
    assert "Author:          深圳市光明区人民法院" in info
    assert "Page size:       595.276 x 841.89 pts (A4)" in info


def test_rerendering_is_fast_and_deterministic_in_content(renderer: RulingRenderer) -> None:
    data = ruling()
    renderer.render_ruling(data)
    started = time.perf_counter()
    for _ in range(5):
        renderer.render_ruling(data)
    per_render = (time.perf_counter() - started) / 5
    assert per_render < 0.25, f"{per_render * 1000:.0f} ms per render"
