"""Fixtures shared by every test layer. Real-dependency checks live in tests/realdeps.py."""

from __future__ import annotations

from realdeps import IN_CI, require, require_tool

__all__ = ["IN_CI", "require", "require_tool"]
