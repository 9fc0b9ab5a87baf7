"""One real `sifa serve` on SQLite, no Redis (as `make run` starts it), restartable on its port
and data: for the tests that stop it (SIGTERM) or kill it (SIGKILL) mid-hearing."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cluster.cluster_support import Installation, Process, free_port, get_json, sifa_command


@contextmanager
def one_node(tmp_path: Path, **env: str) -> Iterator[tuple[Process, str]]:
    """The node started and ready, and its base URL; stopped (SIGINT) at the end. `env` adds
    SIFA_ settings, e.g. SIFA_FINISH_SECONDS."""
    installation = Installation.create(tmp_path / "one", f"sqlite+aiosqlite:///{tmp_path}/s.db")
    port = free_port()
    settings = {
        **installation.env,
        "SIFA_PORT": str(port),
        "SIFA_NODE_NAME": "solo",
        # The recorder offers loopback candidates only: no media leaves this machine.
        "SIFA_RECORDER_ADDRESSES": "127.0.0.1",
        **env,
    }
    argv = [*sifa_command(), "serve"]
    node = Process("solo", argv, settings, installation.root, tmp_path / "n.log")
    base = f"http://127.0.0.1:{port}"
    node.spawn()
    try:
        wait_ready(node, base)
        yield node, base
    finally:
        if node.running:
            node.stop(signal.SIGINT)


def wait_ready(node: Process, base: str) -> None:
    wait_for(lambda: get_json(f"{base}/readyz")[0] == 200, "the node to be ready", node)


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
