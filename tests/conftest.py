"""Fixtures shared by every test layer. Real-dependency checks live in tests/realdeps.py."""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from realdeps import IN_CI, require, require_tool

# Tests that drive Chromium or real server processes.
_HEAVY_TREES = ("tests/e2e/", "tests/cluster/")


def _heavy(path: str) -> bool:
    return path.startswith(_HEAVY_TREES) or "browser" in path.rsplit("/", 1)[-1]


class _HeavyTestsInOneStream(LoadScopeScheduling):
    """Browser and process tests run one after another on one worker: two Chromium sessions
    at once on this 2-core machine each took about three times as long as alone, so together
    they were slower than one after the other, and hit their timeouts. Every other module
    stays whole on one worker (its module-scoped servers shared), as --dist loadfile does.
    (xdist's own --dist loadgroup cannot say this under pytest 9: it rewrites test ids
    through an attribute pytest 9 no longer reads.)"""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return "heavy tests" if _heavy(path) else path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser or process test that times out gets one more run, printed as R in the
    summary; a second timeout fails. On this 2-core machine the suite's other worker and the
    recorder (in the test's own process) slow a hearing's browser steps unevenly: runs of the
    whole suite lost two or three different such tests each to a wait, never the same twice."""
    for item in items:
        if _heavy(item.nodeid.split("::", 1)[0]):
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=["TimeoutError"]))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadscope":
        return None
    return _HeavyTestsInOneStream(config, log)


__all__ = ["IN_CI", "require", "require_tool"]
