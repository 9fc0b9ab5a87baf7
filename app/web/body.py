"""Reading request bodies: JSON (every JSON endpoint, the login included) and page forms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from app.domain.errors import DomainError, UnsupportedMediaType
from app.domain.json_body import parse_body
from app.domain.text import UNSAFE_TEXT_MESSAGE, unsafe_text
from app.services.materials import TooLarge

MAX_JSON_BYTES = 256 * 1024
JSON_TYPE = "application/json"


def _too_large() -> TooLarge:
    kib = MAX_JSON_BYTES // 1024
    return TooLarge(f"请求体超过 {kib} KiB。 / The request body is larger than {kib} KiB.")


async def read_body_bytes(request: web.Request) -> bytes:
    """The whole body, refused as soon as it passes the limit (announced or found reading)."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a strict JSON object. A step that needs no fields may send no body at all;
    any body that is sent must say it is JSON, so a form or text post is never taken for one."""
    raw = await read_body_bytes(request)
    if raw and request.content_type != JSON_TYPE:
        raise UnsupportedMediaType(
            "请求体须为 application/json。 / The request body must be application/json."
        )
    return parse_body(raw)


def _unreadable() -> DomainError:
    return DomainError(
        "请求体格式不完整或无效。 / The request body is incomplete or malformed.",
        code="bad_request",
    )


@contextmanager
def malformed_as_bad_request() -> Iterator[None]:
    """A truncated or garbled form (a lost boundary, a bad part header) is the client's fault:
    aiohttp reports it as ValueError or an HTTP parsing error, answered here as 400."""
    try:
        yield
    except (ValueError, HttpProcessingError):
        raise _unreadable() from None


def require_safe_text(*texts: str) -> None:
    if any(unsafe_text(text) for text in texts):
        raise DomainError(UNSAFE_TEXT_MESSAGE, code="bad_text")


async def read_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """A page's form: a malformed body is 400; no field or file name may hold a control
    character."""
    with malformed_as_bad_request():
        form = await request.post()
    require_safe_text(
        *(value for value in form.values() if isinstance(value, str)),
        *(value.filename for value in form.values() if isinstance(value, web.FileField)),
    )
    return form
