"""Graphic marks drawn on a ruling: the vector QR code and the development seal."""

from __future__ import annotations

import math
from functools import lru_cache

import segno
from reportlab.pdfgen.canvas import Canvas

SEAL_RED = (0.86, 0.08, 0.10)


@lru_cache(maxsize=64)
def qr_runs(data: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR matrix as horizontal runs of dark modules: (size in modules, (row, col, length)).

    Error correction M; the 4-module quiet zone is left to the caller's placement.
    Cached: a ruling and its re-renders share one URL."""
    qr = segno.make(data, error="m", micro=False, boost_error=False)
    runs: list[tuple[int, int, int]] = []
    matrix = qr.matrix
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), tuple(runs)


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as one filled vector path (never a bitmap: sharp at any zoom,
    and a few hundred bytes). (x, y) is the bottom-left of the area including the quiet zone."""
    n, runs = qr_runs(data)
    module = size / (n + 8)
    top = y + size - 4 * module
    left = x + 4 * module
    path = canvas.beginPath()
    for r, c, length in runs:
        path.rect(left + c * module, top - (r + 1) * module, length * module, module)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def draw_placeholder_seal(
    canvas: Canvas, font: str, court_name: str, cx: float, cy: float, diameter: float
) -> None:
    """A red round seal with a star and the court's name along the rim, plainly marked
    开发用样章 (development sample): used only when no real seal image is configured."""
    r = diameter / 2
    canvas.saveState()
    # Multiply, as ink does: black text under the seal stays black and readable.
    canvas.setBlendMode("Multiply")
    canvas.setStrokeColorRGB(*SEAL_RED)
    canvas.setFillColorRGB(*SEAL_RED)
    canvas.setLineWidth(r * 0.055)
    canvas.circle(cx, cy, r * 0.95, stroke=1, fill=0)
    _star(canvas, cx, cy + r * 0.12, r * 0.25)

    # The name runs clockwise along the upper rim, each character upright to the centre.
    size = r * 0.24
    text_r = r * 0.70
    span = min(220.0, 24.0 * len(court_name))  # degrees of arc the name occupies
    n = len(court_name)
    for i, ch in enumerate(court_name):
        angle = 90 + span / 2 - (span * i / (n - 1) if n > 1 else span / 2)
        rad = math.radians(angle)
        canvas.saveState()
        canvas.translate(cx + text_r * math.cos(rad), cy + text_r * math.sin(rad))
        canvas.rotate(angle - 90)
        canvas.setFont(font, size)
        canvas.drawCentredString(0, -size * 0.35, ch)
        canvas.restoreState()

    canvas.setFont(font, r * 0.15)
    canvas.drawCentredString(cx, cy - r * 0.60, "开发用样章")
    canvas.setFont(font, r * 0.11)
    canvas.drawCentredString(cx, cy - r * 0.78, "不具法律效力")
    canvas.restoreState()


def _star(canvas: Canvas, cx: float, cy: float, outer: float) -> None:
    inner = outer * 0.382
    path = canvas.beginPath()
    for k in range(10):
        rad = math.radians(90 + 36 * k)
        rr = outer if k % 2 == 0 else inner
        px, py = cx + rr * math.cos(rad), cy + rr * math.sin(rad)
        if k == 0:
            path.moveTo(px, py)
        else:
            path.lineTo(px, py)
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)
