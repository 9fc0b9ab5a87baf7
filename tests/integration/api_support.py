"""Helpers shared by the API tests: a deterministic PDF and the shape of every refusal."""

from __future__ import annotations

import io
import re
from typing import Any

import aiohttp
from reportlab.pdfgen import canvas

ID_SHAPED = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def make_pdf(text: str = "Mediation agreement") -> bytes:
    buffer = io.BytesIO()
    # invariant: the same text gives the same bytes, so no run depends on a random digest
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


async def error_of(response: aiohttp.ClientResponse, status: int, code: str) -> dict[str, Any]:
    """Every refusal has the shape {"error": {"code", "message"}}."""
    body = await response.json()
    assert response.status == status, body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"], body
    assert error["code"] == code, body
    return error
