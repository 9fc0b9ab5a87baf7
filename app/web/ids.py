"""Ids in paths and bodies: the one place a route turns text into a record's number."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from app.domain.errors import ValidationError
from app.domain.ids import parse_id, parse_position


def path_id(request: web.Request, name: str = "case_id") -> int:
    """A path's id; anything but a canonical one names no page (404)."""
    value = parse_id(request.match_info[name])
    if value is None:
        raise web.HTTPNotFound()
    return value


def path_position(request: web.Request, name: str) -> int:
    value = parse_position(request.match_info[name])
    if value is None:
        raise web.HTTPNotFound()
    return value


def _json_integer(data: Mapping[str, object], key: str) -> object:
    """A JSON body's number: its text form ("29") is a client's mistake, not an id."""
    value = data.get(key)
    return value if type(value) is int else None


def body_id(data: Mapping[str, object], key: str) -> int:
    value = parse_id(_json_integer(data, key))
    if value is None:
        raise ValidationError([(key, "须为正整数编号。 / Must be a positive whole-number id.")])
    return value


def body_position(data: Mapping[str, object], key: str) -> int:
    value = parse_position(_json_integer(data, key))
    if value is None:
        raise ValidationError([(key, "须为非负整数。 / Must be a whole number from 0.")])
    return value
