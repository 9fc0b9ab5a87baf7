"""Logging set-up: text as before, or one JSON object per line (SIFA_LOG_FORMAT=json).

Each line carries the request id and the case id when the work belongs to one: both are
context variables, set by the request middleware (app/web/middleware.py request_context), by
the signaling authority when a socket joins a case's room, and for recorder tasks when a run
starts. asyncio copies the context into every task it creates, so work a request starts
carries its ids along.

What must never reach a log (ID numbers, names, passwords, tokens) is kept out by the code
that logs; RedactFilter is the safety net for what slips through a message or a traceback.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import secrets
import sys
from collections.abc import Mapping
from typing import IO, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

from signaling.authority import RoomAuthority, RoomInfo

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sifa_request_id", default=None
)
CASE_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("sifa_case_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# A balancer's or client's id is taken as it is when it looks like one: letters, digits and
# a few marks, short enough for a log line. Anything else gets an id of our own.
_WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def request_id_from(header: str | None) -> str:
    if header is not None and _WELL_FORMED_ID.match(header):
        return header
    # Base64 letters: a run of six digits (what the log tests look for in ID numbers) is
    # about as likely as never.
    return secrets.token_urlsafe(12)


def case_context(case_id: int) -> contextvars.Context:
    """A copy of the current context with the case id set: for tasks that work on one case."""
    context = contextvars.copy_context()
    context.run(CASE_ID.set, case_id)
    return context


# --- redaction ---------------------------------------------------------------------------

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_FIELD = re.compile(
    r"(?i)\b(password|passwd|secret|token|csrf_token|sifa_session)"
    r"(\"?'?\s*[:=]\s*\"?'?)([^\s\"',&;)}]+)"
)
_VERIFY_PATH = re.compile(r"(/verify/)[^/\s?\"']+")


def redact(text: str) -> str:
    text = _ID_NUMBER.sub("[ID]", text)
    text = _BEARER.sub(r"\1***", text)
    text = _SECRET_FIELD.sub(r"\1\2***", text)
    return _VERIFY_PATH.sub(r"\1***", text)


class RedactFilter(logging.Filter):
    """Masks ID numbers, bearer tokens, passwords and verification tokens in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class TextFormatter(logging.Formatter):
    """Today's text lines; a traceback is redacted like the message."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line: dict[str, Any] = {
            "time": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id, case_id = REQUEST_ID.get(), CASE_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        if case_id is not None:
            line["case_id"] = case_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            line.update({k: redact(v) if isinstance(v, str) else v for k, v in fields.items()})
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.stack_info:
            line["stack"] = redact(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """The root handler for `sifa` commands (replaces logging.basicConfig)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# --- the access log ----------------------------------------------------------------------


def route_of(request: BaseRequest) -> str:
    """The route's template (/api/cases/{case_id}), never the path with its ids."""
    if isinstance(request, web.Request):
        resource = request.match_info.route.resource
        if resource is not None:
            return resource.canonical
    return "(unmatched)"


class AccessLogger(AbstractAccessLogger):
    """One line per request with its path and outcome, in either format. No query string: a
    ruling search carries a party's name there (aiohttp's own access log prints it)."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        fields = {
            "method": request.method,
            "route": route_of(request),
            "path": request.path,
            "status": response.status,
            "duration_ms": round(time * 1000, 1),
            "bytes": response.body_length,
            "remote": request.remote,
        }
        self.logger.info(
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status,
            time * 1000,
            extra={"fields": fields},
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


# --- signaling ---------------------------------------------------------------------------


class CaseTaggingAuthority:
    """Implements signaling.authority.RoomAuthority around the app's own. Signaling asks it
    about one case at a time from the task doing that case's work (a socket joining, the
    audit writer), so that task's log lines carry the case id from then on; signaling itself
    knows nothing of logging context."""

    def __init__(self, inner: RoomAuthority) -> None:
        self.inner = inner

    async def room_for(self, case_id: int) -> RoomInfo | None:
        CASE_ID.set(case_id)
        return await self.inner.room_for(case_id)

    async def record(
        self, case_id: int, action: str, participant_id: str, role: str, details: dict[str, object]
    ) -> None:
        CASE_ID.set(case_id)
        await self.inner.record(case_id, action, participant_id, role, details)
