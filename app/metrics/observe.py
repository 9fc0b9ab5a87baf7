"""Hooks for services that hold no reference to their app: the request's metrics are found
through a context variable the metrics middleware sets (tasks a request starts inherit it)."""

from __future__ import annotations

import contextvars
from typing import Protocol

from app.domain.session import SessionView


class SessionObserver(Protocol):
    def session_served(self, view: SessionView) -> None: ...


CURRENT: contextvars.ContextVar[SessionObserver | None] = contextvars.ContextVar(
    "sifa_metrics", default=None
)


def session_served(view: SessionView) -> None:
    """A confirmation session has ended with the last receipt: its step times are final."""
    observer = CURRENT.get()
    if observer is not None:
        observer.session_served(view)
