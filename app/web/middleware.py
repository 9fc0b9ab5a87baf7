"""Cross-cutting request handling: errors, who is calling, CSRF and security headers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm.exc import StaleDataError

from app import logs
from app.domain.access import Actor
from app.domain.errors import (
    Conflict,
    DomainError,
    InsufficientStorage,
    NoSigningKey,
    NotFound,
    NotPermitted,
    StoredFileDamaged,
    TooManyAttempts,
    TransitionRefused,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
    ValidationError,
    WrongState,
)
from app.domain.ids import parse_id
from app.domain.session import SessionRefused
from app.keys import CALLER_KEY, LANG_KEY, Caller, caller, services
from app.services import accounts
from app.services.materials import TooLarge
from app.web.body import read_form
from app.web.i18n import choose_language, split_bilingual

T = TypeVar("T")

log = logging.getLogger("sifa.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION_COOKIE = "sifa_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATHS = frozenset({"/api/login", "/login"})
CSRF_DEFERRED = web.RequestKey("csrf_deferred", bool)

STATUS: list[tuple[type[DomainError], int]] = [
    (ValidationError, 422),
    (TooLarge, 413),
    (UnsupportedMediaType, 415),
    (TransitionRefused, 409),
    (WrongState, 409),
    (Conflict, 409),
    (NotPermitted, 403),
    (NotFound, 404),
    (Unauthenticated, 401),
    (TooManyAttempts, 429),
    (Unavailable, 503),
    (NoSigningKey, 503),
    (InsufficientStorage, 507),
    (StoredFileDamaged, 500),
]


def status_for(error: DomainError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 422 if error.code == "application_window_closed" else 400


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra: object) -> web.Response:
    body: dict[str, object] = {"code": code, "message": message, **extra}
    return web.json_response({"error": body}, status=status)


_HTTP_ERRORS = {
    400: ("bad_request", "请求无效。 / Bad request."),
    401: ("unauthenticated", "请先登录。 / Please log in."),
    403: ("forbidden", "无权访问。 / Forbidden."),
    404: ("not_found", "没有这个地址或记录。 / Not found."),
    405: ("method_not_allowed", "此地址不接受该请求方法。 / Method not allowed."),
    413: ("too_large", "请求体过大。 / The request body is too large."),
    415: ("unsupported_media_type", "不支持该请求体格式。 / Unsupported media type."),
}


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes a clear answer: JSON on the API, a page elsewhere; never a trace."""
    request[LANG_KEY] = choose_language(request)
    try:
        return await handler(request)
    except DomainError as error:
        status = status_for(error)
        headers = {}
        if isinstance(error, TooManyAttempts):
            headers["Retry-After"] = str(error.retry_after)
        if is_api(request):
            extra: dict[str, object] = {}
            if isinstance(error, ValidationError):
                extra["fields"] = [{"field": f, "problem": p} for f, p in error.problems]
            if isinstance(error, TransitionRefused):
                extra.update(state=error.state, step=error.step)
            if isinstance(error, SessionRefused):
                extra["missing"] = list(error.missing)
            response = json_error(status, error.code, error.message, **extra)
            response.headers.update(headers)
            return response
        from app.web.pages import error_page

        return error_page(request, status, error, headers)
    except StaleDataError:
        return await errors_for_conflict(request)
    except web.HTTPException as http:
        if is_api(request) and http.status >= 400 and not http.content_type.endswith("json"):
            code, message = _HTTP_ERRORS.get(http.status, ("http_error", http.reason))
            return json_error(http.status, code, message)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api(request):
            return json_error(
                500,
                "internal_error",
                "服务器内部错误，已记录。 / Internal error; the event was logged.",
            )
        return web.Response(
            status=500, text="服务器内部错误 / Internal error", content_type="text/plain"
        )


async def errors_for_conflict(request: web.Request) -> web.Response:
    message = "案件已被他人修改，请刷新后重试。 / The case was changed by someone else; reload."
    if is_api(request):
        return json_error(409, "conflict", message)
    return web.Response(status=409, text=split_bilingual(message, request[LANG_KEY]))


@web.middleware
async def identify(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the caller from a bearer token (API clients) or the session cookie (browsers)."""
    token, via_cookie = None, False
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header[7:].strip()
    elif SESSION_COOKIE in request.cookies:
        token, via_cookie = request.cookies[SESSION_COOKIE], True
    if token:
        svc = services(request)
        async with svc.db.transaction() as session:
            info = await accounts.resolve_session(session, token, svc.clock())
        if info is not None:
            request[CALLER_KEY] = Caller(info.actor, token, info.csrf_token, via_cookie)
    return await handler(request)


@web.middleware
async def protect(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse cross-site changes: the Origin must be ours; cookie sessions need the CSRF token."""
    if request.method in UNSAFE:
        # "null" is what a sandboxed frame, a data: URL or a file sends: not our page either.
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            raise NotPermitted("跨站请求被拒绝。 / Cross-site request refused.")
        who = caller(request)
        # Logging in again over a live session needs no token of the old one.
        if who is not None and who.via_cookie and request.path not in LOGIN_PATHS:
            sent = request.headers.get("X-CSRF-Token")
            if sent is None and request.content_type == "multipart/form-data" and is_api(request):
                # The upload handler streams the body and checks the form's token itself.
                request[CSRF_DEFERRED] = True
                return await handler(request)
            if sent is None and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                sent = (await read_form(request)).get("csrf_token")  # type: ignore[assignment]
            check_csrf(who, sent)
    return await handler(request)


def check_csrf(who: Caller, sent: object) -> None:
    if sent != who.csrf_token:
        raise NotPermitted(
            "页面已过期，请刷新后重试。 / The form has expired (CSRF check); reload."
        )


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request id (the caller's X-Request-Id if well-formed) and the case id for logs.

    Not reset on the way out: each request runs in a task of its own, and aiohttp writes the
    access line in that task after this returns; tasks the request starts inherit both ids.
    """
    request_id = logs.request_id_from(request.headers.get("X-Request-Id"))
    logs.REQUEST_ID.set(request_id)
    logs.CASE_ID.set(parse_id(request.match_info.get("case_id")))
    try:
        response = await handler(request)
    except web.HTTPException as raised:
        raised.headers["X-Request-Id"] = request_id
        raise
    response.headers["X-Request-Id"] = request_id
    return response


def require_caller(request: web.Request) -> Caller:
    who = caller(request)
    if who is None:
        raise Unauthenticated("请先登录。 / Please log in.")
    return who


def caller_or_holder(
    request: web.Request,
    header: str,
    verify: Callable[[bytes, str, dt.datetime], T],
    nobody: str,
) -> Actor | T:
    """A logged-in account wins; otherwise whatever signed pass the header holds (a party's
    own device), verified; otherwise `nobody` is told to log in or join."""
    who = caller(request)
    if who is not None:
        return who.actor
    token = request.headers.get(header)
    if token:
        svc = services(request)
        return verify(svc.secret, token, svc.clock())
    raise Unauthenticated(nobody)
