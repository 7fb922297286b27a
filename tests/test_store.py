"""The store's shared helpers: the per-table key index and the plain-JSON deep copy."""

from __future__ import annotations

import threading

from mockserver.core.store import KeyIndex, clone


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
