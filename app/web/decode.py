"""A JSON request body as its declared model (app/domain/bodies): the strict reader first
(size, media type, depth, text, numbers), then the model's shape, every problem at once (422)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

import msgspec
from aiohttp import web

from app.domain.bodies.check import decode
from app.web.body import read_json

T = TypeVar("T", bound=msgspec.Struct)


async def read_body(request: web.Request, model: type[T]) -> T:
    return decode(model, await read_json(request))


def fields_of(body: msgspec.Struct) -> dict[str, Any]:
    """The fields sent, as the plain mapping the domain's readers take (they read page forms
    too); a field left out or sent as null is not there."""
    plain: dict[str, Any] = msgspec.to_builtins(body)
    return {key: value for key, value in plain.items() if value is not None}


class Body(Mapping[str, Any], Generic[T]):
    """A body read but decoded only when a service first looks at it. Services check that the
    caller may act on the case before they read the fields, so a stranger to the case is told
    it is not found (404), never what is wrong with the fields (422)."""

    def __init__(self, model: type[T], raw: Mapping[str, Any]) -> None:
        self._model, self._raw = model, raw
        self._typed: T | None = None
        self._fields: dict[str, Any] | None = None

    def typed(self) -> T:
        if self._typed is None:
            self._typed = decode(self._model, self._raw)
        return self._typed

    def _plain(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = fields_of(self.typed())
        return self._fields

    def __getitem__(self, key: str) -> Any:
        return self._plain()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._plain())

    def __len__(self) -> int:
        return len(self._plain())


async def read_later(request: web.Request, model: type[T]) -> tuple[dict[str, Any], Body[T]]:
    """The raw body (for checks that came before the case's, such as printable text) and the
    body to hand the service."""
    raw = await read_json(request)
    return raw, Body(model, raw)
