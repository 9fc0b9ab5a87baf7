"""One real `sifa serve` on SQLite, no Redis (as `make run` starts it), restartable on its port
and data: for the tests that stop it (SIGTERM) or kill it (SIGKILL) mid-hearing.

The database and keys are made in this process, as the integration tests make theirs (the same
migrations and demo loader as `sifa init` and `sifa demo`, the keys copied from the test PKI made
once per run): two CLI processes and fresh keys would cost half a minute on a busy machine."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cluster.cluster_support import (
    READY_SECONDS,
    Installation,
    Process,
    free_port,
    get_json,
    sifa_command,
)

from app.main import utc_now

from integration.conftest import make_settings, prepare


@asynccontextmanager
async def one_node(tmp_path: Path, **env: str) -> AsyncIterator[tuple[Process, str]]:
    """The node started and ready, and its base URL; stopped (SIGINT) at the end. `env` adds
    SIFA_ settings, e.g. SIFA_FINISH_SECONDS."""
    root = tmp_path / "one"
    root.mkdir()
    database_url = f"sqlite+aiosqlite:///{root / 'sifa.db'}"
    # make_settings puts certs, rulings and materials under root, where the environment below
    # (Installation.environment) names them for the node.
    await prepare(make_settings(root, database_url), utc_now())
    port = free_port()
    settings = {
        **Installation.environment(root, database_url),
        "SIFA_PORT": str(port),
        "SIFA_NODE_NAME": "solo",
        # The recorder offers loopback candidates only: no media leaves this machine.
        "SIFA_RECORDER_ADDRESSES": "127.0.0.1",
        **env,
    }
    argv = [*sifa_command(), "serve"]
    node = Process("solo", argv, settings, root, tmp_path / "n.log")
    base = f"http://127.0.0.1:{port}"
    node.spawn()
    try:
        await asyncio.to_thread(wait_ready, node, base)
        yield node, base
    finally:
        if node.running:
            node.stop(signal.SIGINT)


def wait_ready(node: Process, base: str) -> None:
    def ready() -> bool:
        return get_json(f"{base}/readyz")[0] == 200

    wait_for(ready, "the node to be ready", node, within=READY_SECONDS)


def restart(node: Process, base: str, sig: int) -> None:
    """Stop the node with `sig` (waiting for its exit), start it again on the same port and
    data, and wait until it is ready."""
    node.stop(sig)
    node.spawn()
    wait_ready(node, base)


def wait_for(condition: Any, what: str, node: Process, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"waited {within} s for {what}\n{node.logs()[-3000:]}")
