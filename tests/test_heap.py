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
