"""settle_collector: what `sifa serve` and the signaling bench do to the garbage collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from signaling.collector import YOUNG_THRESHOLD, settle_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settling_freezes_start_up_objects_and_widens_the_young_generation(
    restored_collector: None,
) -> None:
    start_up_object = {"kept": ["for the life of the process"]}
    _, middle, old = gc.get_threshold()
    settle_collector()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    assert gc.get_freeze_count() > 0
    # Frozen objects are out of every generation a collection scans.
    assert not any(o is start_up_object for o in gc.get_objects())


def test_cycles_are_still_collected_after_settling(restored_collector: None) -> None:
    settle_collector()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    survivors = len([o for o in gc.get_objects() if isinstance(o, Node)])
    del a, b
    gc.collect()
    assert survivors == 2
    assert not [o for o in gc.get_objects() if isinstance(o, Node)]
