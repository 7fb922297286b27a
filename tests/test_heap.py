"""core.heap: bulk builds pause automatic collection and freeze what they built, once, at the end."""

from __future__ import annotations

import gc

import pytest

from mockserver.core import heap
from mockserver.core.clock import Clock
from mockserver.core.store import LARGE_STATE_ROWS, Store


@pytest.fixture(autouse=True)
def _unfrozen():
    was = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable() if was else gc.disable()


def test_collection_pauses_during_a_build_and_what_was_built_is_frozen():
    gc.enable()
    with heap.bulk():
        assert not gc.isenabled()
        built = [{"n": i} for i in range(100)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)


def test_nested_builds_share_one_pause_and_freeze_once_at_the_end():
    gc.enable()
    with heap.bulk():
        with heap.bulk():
            assert not gc.isenabled()
        assert not gc.isenabled() and gc.get_freeze_count() == 0  # the outer build is still going
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_a_failed_build_freezes_nothing_and_resumes_collection():
    gc.enable()
    with pytest.raises(ValueError), heap.bulk():
        raise ValueError("broken document")
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_collection_left_off_by_the_caller_stays_off():
    gc.disable()
    with heap.bulk():
        pass
    assert not gc.isenabled()


def test_without_freeze_nothing_is_frozen():
    gc.enable()
    with heap.bulk(freeze=False):
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def _store() -> Store:
    store = Store(1, Clock(), None)
    store.register("p", lambda ctx: {"rows": {}}, tables=["rows"])
    return store


def test_a_large_state_is_installed_as_a_bulk_build_and_a_small_one_is_not():
    gc.enable()
    store = _store()
    store.restore({"p": {"rows": {str(i): {"n": i} for i in range(10)}}})
    assert gc.get_freeze_count() == 0
    store.restore({"p": {"rows": {str(i): {"n": i} for i in range(LARGE_STATE_ROWS + 1)}}})
    assert gc.isenabled() and gc.get_freeze_count() > LARGE_STATE_ROWS
    assert gc.is_tracked(store.data["p"]["rows"]["1"])
    with store.transaction():
        store.data["p"]["rows"]["1"]["n"] = -1  # frozen rows stay writable and tracked
    assert store.snapshot()["p"]["rows"]["1"] == {"n": -1}


def test_a_slow_full_collection_freezes_its_survivors_and_a_quick_one_does_not():
    gc.enable()
    try:
        heap.settle_growth(threshold=3600)  # never slow enough
        kept = [[i] for i in range(1000)]
        gc.collect()
        assert gc.get_freeze_count() == 0
        heap.settle_growth(threshold=0)  # every full pass counts as slow
        gc.collect(1)  # a younger generation's pass freezes nothing
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert gc.get_freeze_count() >= len(kept)
        assert gc.isenabled()
    finally:
        heap.stop_settling()
    gc.unfreeze()
    gc.collect()
    assert gc.get_freeze_count() == 0  # stopped: nothing is frozen any more
    assert all(cb.__class__.__name__ != "_Settler" for cb in gc.callbacks)


def test_garbage_cycles_are_collected_before_survivors_are_frozen():
    gc.enable()

    class Node:
        pass

    def cycle() -> None:
        a, b = Node(), Node()
        a.other, b.other = b, a

    heap.settle_growth(threshold=0)
    try:
        gc.collect()
        for _ in range(100):
            cycle()
        assert gc.collect() >= 200  # the cycles are freed by the pass whose survivors are frozen
        assert not any(isinstance(o, Node) for o in gc.get_objects())
    finally:
        heap.stop_settling()
