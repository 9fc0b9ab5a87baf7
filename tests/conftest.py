"""Fixtures shared by every test layer. Real-dependency checks live in tests/realdeps.py."""

from __future__ import annotations

import pytest

from realdeps import IN_CI, require, require_tool

# Test trees whose every test drives Chromium or real server processes.
_HEAVY_TREES = ("e2e", "cluster")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser and process tests run one at a time, on one worker: two Chromium sessions at
    once on this 2-core machine each took about three times as long as alone, so together
    they were slower than one after the other, and hit their timeouts. Every other module
    stays whole on one worker (its module-scoped servers shared), as --dist loadfile did."""
    tests = config.rootpath / "tests"
    for item in items:
        tree = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        heavy = tree in _HEAVY_TREES or item.get_closest_marker("browser") is not None
        group = "browser" if heavy else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))


__all__ = ["IN_CI", "require", "require_tool"]
