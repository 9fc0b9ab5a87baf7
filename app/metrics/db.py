"""Statement latency by operation (SELECT, INSERT, ...): never the text or its parameters."""

from __future__ import annotations

import re
import time
from typing import Any

from prometheus_client import Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

OPERATIONS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"}
    | {"RELEASE", "PRAGMA", "WITH", "CREATE", "ALTER", "DROP", "LOCK", "SET", "SHOW"}
)
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
_STARTED = "sifa_statement_started"


def operation_of(statement: str) -> str:
    found = _FIRST_WORD.match(statement)
    word = found.group(1).upper() if found else ""
    return word if word in OPERATIONS else "OTHER"


def observe_statements(engine: AsyncEngine, histogram: Histogram) -> None:
    """Time every statement on the engine's connections into histogram{operation}."""
    children = {op: histogram.labels(op) for op in (*OPERATIONS, "OTHER")}

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, _statement: str, *_rest: Any) -> None:
        conn.info.setdefault(_STARTED, []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        started = conn.info.get(_STARTED)
        if started:
            children[operation_of(statement)].observe(time.perf_counter() - started.pop())

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        # A failed statement never reaches after_cursor_execute: drop its start time.
        conn = context.connection
        started = None if conn is None else conn.info.get(_STARTED)
        if started:
            started.pop()
