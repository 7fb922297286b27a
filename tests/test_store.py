"""The store's shared helpers: the per-table key index and the plain-JSON deep copy."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from mockserver.core.clock import Clock
from mockserver.core.store import KeyIndex, Store, clone


def by_key() -> KeyIndex:
    return KeyIndex(lambda row: (row["team_id"], row["key"]))


def test_index_finds_rows_appended_after_it_was_built() -> None:
    index = by_key()
    table = {"1": {"team_id": 1, "key": "a"}}
    assert index.find(table, (1, "a")) is table["1"]
    assert index.find(table, (1, "b")) is None
    table["2"] = {"team_id": 1, "key": "b"}
    assert index.find(table, (1, "b")) is table["2"]
    assert index.find(table, (2, "b")) is None


def test_first_row_in_insertion_order_wins_like_a_scan() -> None:
    index = by_key()
    table = {"7": {"team_id": 1, "key": "a", "n": 1}, "3": {"team_id": 1, "key": "a", "n": 2}}
    assert index.find(table, (1, "a"))["n"] == 1


def test_a_replaced_table_gets_a_fresh_index() -> None:
    index = by_key()
    first = {"1": {"team_id": 1, "key": "a"}}
    assert index.find(first, (1, "a")) is first["1"]
    second = {"1": {"team_id": 1, "key": "z"}}
    assert index.find(second, (1, "a")) is None
    assert index.find(second, (1, "z")) is second["1"]
    assert index.find(first, (1, "a")) is first["1"]  # switching back rebuilds


def test_a_shrunk_table_is_reindexed() -> None:
    index = by_key()
    table = {"1": {"team_id": 1, "key": "a"}, "2": {"team_id": 1, "key": "b"}}
    assert index.find(table, (1, "b")) is table["2"]
    del table["1"]
    assert index.find(table, (1, "a")) is None
    assert index.find(table, (1, "b")) is table["2"]


def test_a_row_replaced_under_the_same_id_is_rechecked() -> None:
    index = by_key()
    table = {"1": {"team_id": 1, "key": "a"}}
    assert index.find(table, (1, "a")) is not None
    table["1"] = {"team_id": 1, "key": "renamed"}
    assert index.find(table, (1, "a")) is None
    table["1"] = {"team_id": 1, "key": "a", "v": 2}
    assert index.find(table, (1, "a"))["v"] == 2


def test_a_plain_table_is_rechecked_when_a_key_changes_or_rows_go() -> None:
    index = by_key()
    table = {"1": {"team_id": 1, "key": "a"}, "2": {"team_id": 1, "key": "b"}}
    assert index.find(table, (1, "a")) is table["1"]
    table["1"]["key"] = "renamed"
    assert index.find(table, (1, "renamed")) is table["1"]  # a miss is re-checked
    assert index.find(table, (1, "a")) is None
    del table["1"]
    table["3"] = {"team_id": 1, "key": "c"}  # as many rows as before, the new one not yet read
    assert index.find(table, (1, "c")) is table["3"]
    table["4"] = {"team_id": 1, "key": "b"}
    del table["2"]  # the first holder of "b" goes; a later row holds it too
    assert index.find(table, (1, "b")) is table["4"]


# -- tables the store tracks: changes are reported, so a miss needs no scan ---------------------


class Counting:
    """A key function that counts the rows it reads."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self, row: dict[str, Any]) -> tuple[int, str]:
        self.reads += 1
        return row["team_id"], row["key"]


@pytest.fixture
def tracked() -> tuple[Store, Callable[[], dict[str, Any]]]:
    store = Store(1, Clock(datetime(2026, 1, 1, tzinfo=UTC)), datetime(2026, 1, 1, tzinfo=UTC))
    rows = {str(i): {"team_id": 1, "key": f"k{i}"} for i in range(1, 101)}
    store.register("p", lambda ctx: {"flags": {k: dict(v) for k, v in rows.items()}}, tables=["flags"])
    return store, lambda: store.data["p"]["flags"]


def test_committed_key_changes_and_removals_are_followed(tracked) -> None:
    store, flags = tracked
    key = Counting()
    index = KeyIndex(key)
    assert index.find(flags(), (1, "k5")) is flags()["5"]
    with store.transaction():
        flags()["5"]["key"] = "renamed"
        del flags()["7"]
        flags()["200"] = {"team_id": 1, "key": "k7"}
    built = key.reads
    assert index.find(flags(), (1, "renamed")) is flags()["5"]
    assert index.find(flags(), (1, "k5")) is None
    assert index.find(flags(), (1, "k7")) is flags()["200"]
    assert index.find(flags(), (1, "missing")) is None
    assert key.reads - built <= 4  # the changed rows read again and each row found checked; no other row


def test_writes_of_the_open_transaction_count_until_they_are_rolled_back(tracked) -> None:
    store, flags = tracked
    index = by_key()
    assert index.find(flags(), (1, "k1")) is not None
    with pytest.raises(RuntimeError), store.transaction():
        flags()["1"]["key"] = "new"
        del flags()["2"]
        assert index.find(flags(), (1, "new")) is flags()["1"]
        assert index.find(flags(), (1, "k1")) is None
        assert index.find(flags(), (1, "k2")) is None
        raise RuntimeError("the request failed")
    assert index.find(flags(), (1, "k1")) is flags()["1"]
    assert index.find(flags(), (1, "new")) is None
    assert index.find(flags(), (1, "k2")) is flags()["2"]


def test_a_partial_rollback_inside_a_transaction_is_followed(tracked) -> None:
    store, flags = tracked
    index = by_key()
    with store.transaction() as tx:
        mark = tx.savepoint()
        flags()["3"]["key"] = "tried"
        flags()["300"] = {"team_id": 1, "key": "added"}
        assert index.find(flags(), (1, "tried")) is flags()["3"]
        assert index.find(flags(), (1, "added")) is flags()["300"]
        tx.rollback(mark)  # what the pipeline does when a handler fails
    assert index.find(flags(), (1, "k3")) is flags()["3"]
    assert index.find(flags(), (1, "tried")) is None
    assert index.find(flags(), (1, "added")) is None


def test_an_assigned_or_replaced_table_is_indexed_afresh(tracked) -> None:
    store, flags = tracked
    index = by_key()
    assert index.find(flags(), (1, "k9")) is not None
    store.reset()
    assert index.find(flags(), (1, "k9")) is flags()["9"]
    with store.transaction():
        store.data["p"]["flags"] = {"1": {"team_id": 1, "key": "only"}}
    assert index.find(flags(), (1, "only")) is flags()["1"]
    assert index.find(flags(), (1, "k9")) is None


def test_index_is_safe_across_threads_and_tables() -> None:
    index = by_key()
    tables = [{str(i): {"team_id": t, "key": f"k{i}"} for i in range(200)} for t in range(4)]
    errors: list[str] = []

    def work(t: int) -> None:
        for i in range(200):
            row = index.find(tables[t], (t, f"k{i}"))
            if row is None or row["team_id"] != t:
                errors.append(f"{t}:{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_clone_is_deep_for_dicts_and_lists_only() -> None:
    value = {"a": [1, {"b": "c"}], "d": None}
    copy = clone(value)
    assert copy == value
    assert copy is not value and copy["a"] is not value["a"] and copy["a"][1] is not value["a"][1]


def test_find_all_answers_every_holder_through_writes_and_rollbacks(tracked) -> None:
    store, flags = tracked
    key = Counting()
    index = KeyIndex(key)

    def ids(wanted: tuple[int, str]) -> set[str]:
        return {str(id(row)) for row in index.find_all(flags(), wanted)}

    def expected(wanted: tuple[int, str]) -> set[str]:
        return {str(id(row)) for row in flags().values() if (row["team_id"], row["key"]) == wanted}

    assert ids((1, "k4")) == expected((1, "k4")) and len(ids((1, "k4"))) == 1
    with store.transaction():
        flags()["400"] = {"team_id": 1, "key": "k4"}  # a second holder
        flags()["6"]["key"] = "k4"  # a third, by a key change
        assert len(index.find_all(flags(), (1, "k4"))) == 3  # the open transaction's writes count
    built = key.reads
    assert ids((1, "k4")) == expected((1, "k4")) and len(expected((1, "k4"))) == 3
    assert index.find_all(flags(), (1, "k6")) == []
    assert key.reads - built <= 5  # the holders checked, no scan
    with pytest.raises(RuntimeError), store.transaction():
        del flags()["4"]
        assert ids((1, "k4")) == expected((1, "k4"))
        raise RuntimeError("the request failed")
    assert ids((1, "k4")) == expected((1, "k4")) and len(expected((1, "k4"))) == 3
    plain = {"1": {"team_id": 1, "key": "x"}, "2": {"team_id": 1, "key": "x"}}
    assert index.find_all(plain, (1, "x")) == [plain["1"], plain["2"]]  # a plain dict is scanned
    plain["2"]["key"] = "y"
    assert index.find_all(plain, (1, "x")) == [plain["1"]]
