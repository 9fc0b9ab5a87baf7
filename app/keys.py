"""Typed keys for the application's shared state and per-request values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import jinja2
from aiohttp import web

from app.config import Settings
from app.domain.access import Actor
from app.keyring import FieldCipher
from app.ruling.agreement_desk import AgreementDesk
from app.ruling.desk import RulingDesk
from app.store.db import Database

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    cipher: FieldCipher
    secret: bytes
    clock: Clock
    desk: RulingDesk
    agreements: AgreementDesk  # the mediation committees' documents


SERVICES = web.AppKey("services", Services)
PAGES = web.AppKey("pages", jinja2.Environment)


@dataclass(frozen=True)
class Caller:
    """Who is calling, and how: cookie sessions need a CSRF token on changes, bearers do not."""

    actor: Actor
    token: str
    csrf_token: str
    via_cookie: bool


CALLER_KEY = web.RequestKey("caller", Caller)
LANG_KEY = web.RequestKey("lang", str)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def caller(request: web.Request) -> Caller | None:
    return request.get(CALLER_KEY)
