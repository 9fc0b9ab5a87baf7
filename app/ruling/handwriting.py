"""A handwritten signature as a touch screen sends it: a PNG, checked before it is kept.

The canvas on the kiosk or phone exports a data URL. What is kept is the PNG's bytes, once they
are known to be a real, bounded image with ink on it: a blank canvas is no signature.
"""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, ImageChops, UnidentifiedImageError

from app.domain.errors import ValidationError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 150_000
MAX_SIDE = 2000
# A stroke across a small canvas marks a few hundred pixels; a tap or a slip of the finger,
# a handful. Below this the canvas counts as blank.
MIN_INK_PIXELS = 150
_PREFIX = "data:image/png;base64,"


def _refused(zh: str, en: str) -> ValidationError:
    return ValidationError([("signature", f"{zh} / {en}")])


def read_signature(text: str) -> bytes:
    """The PNG of a signature from its data URL (or bare base64), or a refusal naming the field."""
    raw = text[len(_PREFIX) :] if text.startswith(_PREFIX) else text
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise _refused("签名图像无法读取。", "The signature image cannot be read.") from None
    if len(data) > MAX_BYTES:
        raise _refused("签名图像过大。", "The signature image is too large.")
    if not data.startswith(PNG_MAGIC):
        raise _refused("签名须为 PNG 图像。", "The signature must be a PNG image.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_SIDE:
                raise _refused("签名图像尺寸过大。", "The signature image is too large.")
            image.load()
            ink = _ink_pixels(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refused("签名图像已损坏。", "The signature image is damaged.") from None
    if ink < MIN_INK_PIXELS:
        raise _refused("请在签名框内手写签名。", "Please sign by hand inside the box.")
    return data


def _ink_pixels(image: Image.Image) -> int:
    """Pixels a pen drew: opaque and dark (a canvas is transparent or white where untouched)."""
    rgba = image.convert("RGBA")
    dark = rgba.convert("L").point(lambda v: 255 if v < 128 else 0)
    opaque = rgba.getchannel("A").point(lambda v: 255 if v > 128 else 0)
    both = ImageChops.multiply(dark, opaque)
    return int(both.histogram()[255])
