"""State containers that log their own changes: all-or-nothing writes without a copy of the state.

The state is a tree of JSON objects and arrays. Its containers are ``TrackedDict`` and
``TrackedList``: ordinary dicts and lists to every reader (C-speed reads, JSON encoders and schema
validators see plain containers), whose mutating methods append an undo entry to the transaction
of the thread that changes them. Rolling back replays those entries in reverse. Each container
also knows the row it belongs to, ``(part, table, key)``, so a committed transaction names exactly
the rows it changed: what persistence writes.

Handlers never see any of this: they mutate dicts and lists. Plain containers a handler stores
inside the tree are converted when the transaction commits (until then, undoing the assignment
that stored them is enough).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

Row = tuple[str, str, str]  # (part, table, key); table "@" holds a part's other top-level members
CLOCK_ROW: Row = ("*", "clock", "*")  # the mock clock moved: persistence writes it with the rows
_local = threading.local()
# Writes to tracked containers made outside any transaction (nothing records which rows they
# changed). The store compares this count across resets: when it moved, a reset cannot trust its
# list of changed rows and copies the whole baseline instead.
_untracked = 0


def active() -> Transaction | None:
    return getattr(_local, "tx", None)


def untracked_writes() -> int:
    return _untracked


def _untracked_write() -> None:
    global _untracked
    _untracked += 1


class Transaction:
    """The undo log and changed rows of one request's writes (one thread, under the store lock)."""

    def __init__(self) -> None:
        self.undo: list[tuple[Callable[[], None], Row | None]] = []
        self._saved: dict[int, int] = {}  # id(list) -> undo index of its saved copy
        self._floor = 0  # lists saved before the latest savepoint are saved again when changed
        self.clean = 0  # undo index after which writes count as changes since the last reset

    def log(self, restore: Callable[[], None], row: Row | None) -> None:
        self.undo.append((restore, row))

    def save_list(self, node: TrackedList) -> None:
        """A list is saved whole, once per savepoint: lists in the state are short."""
        mark = self._saved.get(id(node))
        if mark is not None and mark >= self._floor:
            return
        saved = list(node)
        self._saved[id(node)] = len(self.undo)
        self.log(lambda: list.__setitem__(node, slice(None), saved), node._row)

    def savepoint(self) -> int:
        self._floor = len(self.undo)
        return self._floor

    def rollback(self, to: int = 0) -> None:
        while len(self.undo) > to:
            restore, _row = self.undo.pop()
            restore()
        self._saved = {k: v for k, v in self._saved.items() if v < to}
        self._floor = min(self._floor, to)
        self.clean = min(self.clean, to)

    @property
    def changed(self) -> set[Row]:
        return self.changed_since(0)

    def changed_since(self, mark: int) -> set[Row]:
        return {row for _restore, row in self.undo[mark:] if row is not None}


def _row_for(node: Any, key: Any) -> Row | None:
    """The row a member assignment dirties: a table names the record, a part root its member."""
    kind = node._kind
    if kind == "table":
        part, table, _ = node._row
        return (part, table, str(key))
    if kind == "part":
        part = node._row[0]
        return (part, str(key), "*") if key in node._tables else (part, "@", str(key))
    return node._row


class TrackedDict(dict):
    """A dict whose writes are undoable. ``_kind``: "part" (a vendor's root), "table", or "node"."""

    __slots__ = ("_kind", "_row", "_tables")

    def _note(self, key: Any) -> None:
        tx = active()
        if tx is None:
            _untracked_write()
            return
        if dict.__contains__(self, key):
            old = dict.__getitem__(self, key)
            tx.log(lambda: dict.__setitem__(self, key, old), _row_for(self, key))
        else:
            tx.log(lambda: dict.pop(self, key, None), _row_for(self, key))

    def _note_all(self) -> None:
        tx = active()
        if tx is None:
            _untracked_write()
        else:
            saved = dict(self)
            row = self._row if self._kind == "node" else None

            def restore() -> None:
                dict.clear(self)
                dict.update(self, saved)

            tx.log(restore, row)
            if row is None:  # a table or part emptied: every member it held changed
                for key in saved:
                    tx.log(lambda: None, _row_for(self, key))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._note(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        if dict.__contains__(self, key):
            self._note(key)
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        if dict.__contains__(self, key):
            self._note(key)
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        if self:
            self._note(next(reversed(self)))
        return dict.popitem(self)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self._note(key)
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> TrackedDict:
        self.update(other)
        return self

    def clear(self) -> None:
        if self:
            self._note_all()
        dict.clear(self)

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return plain(self)


class TrackedList(list):
    """A list whose writes are undoable (saved whole on its first change in a transaction)."""

    __slots__ = ("_row",)

    def _note(self) -> None:
        tx = active()
        if tx is None:
            _untracked_write()
        else:
            tx.save_list(self)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._note()
        list.__setitem__(self, index, value)

    def __delitem__(self, index: Any) -> None:
        self._note()
        list.__delitem__(self, index)

    def __iadd__(self, other: Iterable[Any]) -> TrackedList:
        self._note()
        list.extend(self, other)
        return self

    def __imul__(self, times: int) -> TrackedList:
        self._note()
        return list.__imul__(self, times)  # type: ignore[return-value]

    def append(self, value: Any) -> None:
        self._note()
        list.append(self, value)

    def extend(self, values: Iterable[Any]) -> None:
        self._note()
        list.extend(self, values)

    def insert(self, index: Any, value: Any) -> None:
        self._note()
        list.insert(self, index, value)

    def pop(self, index: Any = -1) -> Any:
        self._note()
        return list.pop(self, index)

    def remove(self, value: Any) -> None:
        self._note()
        list.remove(self, value)

    def clear(self) -> None:
        self._note()
        list.clear(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._note()
        list.sort(self, *args, **kwargs)

    def reverse(self) -> None:
        self._note()
        list.reverse(self)

    def __reduce__(self) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return plain(self)


# ---------------------------------------------------------------------------------------------
# Building tracked trees


_CONTAINERS = (dict, list)  # a constant tuple: isinstance with it is twice as fast as with ``dict | list``


def _node(value: Any, row: Row | None) -> Any:
    """``value`` as tracked containers all the way down, dirtying ``row``. Plain data is copied.

    Each container is copied whole at C speed, then only its members that are containers are
    replaced: an import builds a million of these.
    """
    if isinstance(value, dict):
        out = TrackedDict(value)
        out._kind, out._row, out._tables = "node", row, ()
        for key, item in dict.items(value):
            if isinstance(item, _CONTAINERS):
                dict.__setitem__(out, key, _node(item, row))
        return out
    if isinstance(value, list):
        lst = TrackedList(value)
        lst._row = row
        for index, item in enumerate(value):
            if isinstance(item, _CONTAINERS):
                list.__setitem__(lst, index, _node(item, row))
        return lst
    return value


def _table(part: str, name: str, rows: dict[str, Any]) -> TrackedDict:
    table = TrackedDict()
    table._kind, table._row, table._tables = "table", (part, name, "*"), ()
    for key, record in rows.items():
        dict.__setitem__(table, key, _node(record, (part, name, str(key))))
    return table


def track_part(part: str, data: dict[str, Any], tables: Iterable[str]) -> TrackedDict:
    """A vendor's part of the state as tracked containers; ``tables`` are its dicts of records."""
    names = tuple(tables)
    root = TrackedDict()
    root._kind, root._row, root._tables = "part", (part, "@", "*"), names
    for key, value in data.items():
        if key in names and isinstance(value, dict):
            dict.__setitem__(root, key, _table(part, key, value))
        else:
            dict.__setitem__(root, key, _node(value, (part, "@", str(key))))
    return root


def adopt(root: TrackedDict, rows: Iterable[Row]) -> None:
    """After a commit: turn plain containers stored during the transaction into tracked ones.

    Only the changed rows are walked. A container shared with another row is copied, so every
    container dirties exactly one row.
    """
    part = root._row[0]
    for _part, table, key in rows:
        if table == "@":
            if key != "*" and dict.__contains__(root, key):
                dict.__setitem__(root, key, _retag(dict.__getitem__(root, key), (part, "@", key)))
        elif key == "*":
            value = dict.get(root, table)
            if isinstance(value, dict) and not (isinstance(value, TrackedDict) and value._kind == "table"):
                dict.__setitem__(root, table, _table(part, table, value))
        else:
            holder = dict.get(root, table)
            if isinstance(holder, TrackedDict) and dict.__contains__(holder, key):
                dict.__setitem__(holder, key, _retag(dict.__getitem__(holder, key), (part, table, key)))


def _retag(value: Any, row: Row) -> Any:
    if isinstance(value, TrackedDict):
        if value._row != row:
            return _node(value, row)
        for key, item in dict.items(value):
            fixed = _retag(item, row)
            if fixed is not item:
                dict.__setitem__(value, key, fixed)
        return value
    if isinstance(value, TrackedList):
        if value._row != row:
            return _node(value, row)
        for index, item in enumerate(value):
            fixed = _retag(item, row)
            if fixed is not item:
                list.__setitem__(value, index, fixed)
        return value
    if isinstance(value, dict | list):
        return _node(value, row)
    return value


def plain(value: Any) -> Any:
    """A deep copy as plain dicts and lists (exports, snapshots, anything leaving the store)."""
    if isinstance(value, dict):
        return {key: plain(item) if isinstance(item, _CONTAINERS) else item for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) if isinstance(item, _CONTAINERS) else item for item in value]
    return value


def begin() -> Transaction:
    if active() is not None:
        raise RuntimeError("a transaction is already open on this thread")
    tx = Transaction()
    _local.tx = tx
    return tx


def end() -> None:
    _local.tx = None


# ---------------------------------------------------------------------------------------------
# Writes made by the store itself (reset): undoable inside a transaction, not counted as untracked


def put(node: TrackedDict, key: Any, value: Any) -> None:
    if active() is not None:
        node._note(key)
    dict.__setitem__(node, key, value)


def discard(node: TrackedDict, key: Any) -> None:
    if dict.__contains__(node, key):
        if active() is not None:
            node._note(key)
        dict.__delitem__(node, key)


def copy_row(value: Any, row: Row) -> Any:
    """``value`` (plain data) as a fresh tracked tree dirtying ``row``."""
    return _node(value, row)


def copy_table(part: str, name: str, rows: dict[str, Any]) -> TrackedDict:
    """A table from plain records (each copied)."""
    return _table(part, name, rows)


def reuse_table(part: str, name: str, live: dict[str, Any] | Iterable[tuple[str, Any]]) -> TrackedDict:
    """A new table object holding the same (tracked) records as ``live``: a C-speed shallow copy."""
    table = TrackedDict()
    table._kind, table._row, table._tables = "table", (part, name, "*"), ()
    dict.update(table, live)
    return table
