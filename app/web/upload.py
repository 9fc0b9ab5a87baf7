"""Reading a material upload: a multipart form streamed part by part, defensively.

A truncated body or a garbled part header is the client's fault and gets 400 with the error
shape; the file is refused as soon as it passes the limit, before the rest is read.
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from app.domain.errors import ValidationError
from app.services.materials import TooLarge
from app.web.body import malformed_as_bad_request, require_safe_text
from app.web.middleware import CSRF_DEFERRED, check_csrf, require_caller

CHUNK = 64 * 1024


async def _read_file(part: BodyPartReader, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        if size > limit:
            mb = limit // (1024 * 1024)
            raise TooLarge(f"文件超过 {mb} MB 上限。 / The file exceeds {mb} MB.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_parts(request: web.Request, limit: int) -> tuple[str, str, bytes, str | None]:
    reader = await request.multipart()
    category, filename, data, token = "", "", b"", None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "category":
            category = (await part.read(decode=True)).decode(errors="replace")[:40]
        elif part.name == "csrf_token":
            token = (await part.read(decode=True)).decode(errors="replace")
        elif part.name == "file":
            filename = part.filename or "upload"
            require_safe_text(filename)
            data = await _read_file(part, limit)
    return category, filename, data, token


async def read_upload(request: web.Request, limit: int) -> tuple[str, str, bytes]:
    """The form's category, file name and file."""
    with malformed_as_bad_request():
        category, filename, data, token = await _read_parts(request, limit)
    if request.get(CSRF_DEFERRED):
        check_csrf(require_caller(request), token)
    if not filename:
        raise ValidationError([("file", "请选择文件。 / Choose a file.")])
    return category, filename, data
