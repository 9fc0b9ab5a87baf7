"""Ids in paths: the one place a route turns text into a record's number."""

from __future__ import annotations

from aiohttp import web

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
