"""The in-memory state: one lock, JSON data per part, transactions, reset to the seeded world."""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mockserver.core import heap
from mockserver.core.clock import Clock
from mockserver.core.tracked import Row, TrackedDict, Transaction, active, adopt, begin, end, plain, track_part

ALL_ROWS: Row = ("*", "*", "*")  # the whole state was replaced (reset, import)

# A state with more rows is built as a bulk structure and frozen out of the collector's full
# passes, which would otherwise walk all of it (~0.3 s per pass with 10,000 experiments).
LARGE_STATE_ROWS = 5000
Seeder = Callable[["SeedContext"], dict[str, Any]]


class SeedContext:
    """What a vendor seeder gets: the seed, a private RNG, and the instant the world is built at."""

    def __init__(self, seed: int, anchor: Any, vendor: str) -> None:
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(f"{seed}:{vendor}")


def _rows(data: Data) -> int:
    return sum(len(table) for part in data.values() for table in part.values() if isinstance(table, dict))


def clone(value: Any) -> Any:
    """A deep copy as plain JSON data (dicts, lists, scalars): what leaves the store."""
    return plain(value)


Data = dict[str, dict[str, Any]]


class Store:
    """All mutable state. Every read and write of vendor data happens under ``lock``.

    ``data[part]`` holds each part (the control API's ``admin`` and one per vendor) as tracked
    JSON containers (see ``mockserver.core.tracked``): a write runs inside ``transaction()``, and a
    transaction that fails leaves every container as it was. ``reset()`` returns to the baseline
    (the seeded world, or the start fixture), built once per seed and copied on each reset.
    """

    def __init__(self, seed: int, clock: Clock, anchor: Any) -> None:
        self.seed = seed
        self.clock = clock
        self.anchor = anchor
        self.lock = threading.RLock()
        self.data: Data = {}
        self._seeders: dict[str, Seeder] = {}
        self._tables: dict[str, tuple[str, ...]] = {}
        self.generation = 0  # moves on every commit, rollback, reset and restore
        self._memo: dict[Any, tuple[int, Any]] = {}
        # Set when a fixture was loaded at start: seed -> the data reset() returns to.
        self.baseline: Callable[[int], Data] | None = None
        self._baselines: dict[int, Data] = {}

    def register(self, part: str, seeder: Seeder, tables: Iterable[str] = ()) -> None:
        with self.lock:
            self._seeders[part] = seeder
            self._tables[part] = tuple(tables)
            self.data[part] = self._track(part, seeder(SeedContext(self.seed, self.anchor, part)))

    @property
    def seeders(self) -> dict[str, Seeder]:
        return dict(self._seeders)

    def tables(self, part: str) -> tuple[str, ...]:
        return self._tables.get(part, ())

    def _track(self, part: str, value: dict[str, Any]) -> TrackedDict:
        return track_part(part, value, self._tables.get(part, ()))

    def seeded(self, seed: int | None = None, only: list[str] | None = None) -> Data:
        """A freshly generated world (or some parts of it) for ``seed``, as plain data; not installed."""
        seed = self.seed if seed is None else seed
        return {
            part: seeder(SeedContext(seed, self.anchor, part))
            for part, seeder in self._seeders.items()
            if only is None or part in only
        }

    def _baseline(self, seed: int) -> Data:
        """What reset() installs for ``seed``, built once: a reset then costs one copy, not a seeding."""
        found = self._baselines.get(seed)
        if found is None:
            found = self.baseline(seed) if self.baseline is not None else self.seeded(seed)
            if len(self._baselines) >= 4:
                self._baselines.clear()
            self._baselines[seed] = found
        return found

    def forget_baselines(self) -> None:
        with self.lock:
            self._baselines.clear()

    def reset(self, seed: int | None = None) -> None:
        """Back to the baseline: the start fixture when one was loaded, else the seeded world.

        ``seed`` switches the seed from now on (a fixture's seeded parts follow it too).
        """
        with self.lock:
            if seed is not None:
                tx = active()
                if tx is not None:
                    old = self.seed
                    tx.log(lambda: setattr(self, "seed", old), ALL_ROWS)
                self.seed = seed
            self._install(self._baseline(self.seed))

    def snapshot(self) -> Data:
        with self.lock:
            return plain(self.data)

    def restore(self, snapshot: Data) -> None:
        with self.lock:
            self._install(snapshot)

    def _install(self, data: Data) -> None:
        """Replace every part (undoable inside a transaction)."""
        old = self.data
        if _rows(data) > LARGE_STATE_ROWS:
            with heap.bulk():  # built without collector passes, then kept out of them (see core.heap)
                self.data = {part: self._track(part, value) for part, value in data.items()}
        else:
            self.data = {part: self._track(part, value) for part, value in data.items()}
        tx = active()
        if tx is not None:
            tx.log(lambda: setattr(self, "data", old), ALL_ROWS)
        self.touch()

    @property
    def in_transaction(self) -> Transaction | None:
        """The transaction open on this thread, if any."""
        return active()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One request's writes: committed when the block ends, undone when it raises.

        Nested use shares the outer transaction; ``savepoint``/``rollback(to)`` undo part of it.
        """
        with self.lock:
            outer = active()
            if outer is not None:
                yield outer
                return
            tx = begin()
            try:
                yield tx
            except BaseException:
                tx.rollback()
                self.touch()
                raise
            finally:
                end()
            changed = tx.changed
            if changed:
                for part, root in self.data.items():
                    rows = [row for row in changed if row[0] == part]
                    if rows:
                        adopt(root, rows)
                self.touch()

    def touch(self) -> None:
        """Mark a change: results memoised before it are stale."""
        with self.lock:
            self.generation += 1
            self._memo.clear()

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` remembered until the next write: lists read far more often than they change.

        At 10,000 stored experiments filtering and sorting every row costs ~10 ms a request; a page
        of an unchanged list then costs what it costs at 100. Once a transaction has written, nothing
        is remembered: what it reads may still be rolled back.
        """
        with self.lock:
            tx = active()
            if tx is not None and tx.undo:
                return compute()
            hit = self._memo.get(key)
            if hit is not None and hit[0] == self.generation:
                return hit[1]
            value = compute()
            if len(self._memo) >= 256:
                self._memo.clear()
            self._memo[key] = (self.generation, value)
            return value


class KeyIndex:
    """Rows of a table looked up by a derived key, kept beside the table, not in it.

    The state stays plain JSON, so the index cannot live inside it. Tables only grow between
    replacements (rows are soft-deleted, never removed) and keys do not change in place: the index
    catches up by reading the rows appended since it last looked, and a replaced table (reset,
    restore, import) gets a fresh one. A lookup returns the first row in insertion order with that
    key, as a scan would, re-checked, so a row replaced under the same id is still found right.
    """

    def __init__(self, key: Callable[[dict[str, Any]], Any]) -> None:
        self._key = key
        self._lock = threading.Lock()  # one index serves every app in the process
        # Only the table looked at last: holding more would keep replaced states alive (and
        # walked by every full garbage collection); apps sharing a process just rebuild.
        self._table: dict[str, Any] | None = None
        self._seen = 0
        self._ids: dict[Any, str] = {}

    def find(self, table: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        with self._lock:
            if table is not self._table or len(table) < self._seen:
                self._table, self._seen, self._ids = table, 0, {}
            if len(table) > self._seen:
                for row_id, row in itertools.islice(table.items(), self._seen, None):
                    self._ids.setdefault(self._key(row), row_id)
                self._seen = len(table)
            row = table.get(self._ids.get(wanted))  # type: ignore[arg-type]
        if row is None or self._key(row) == wanted:
            return row
        return next((r for r in table.values() if self._key(r) == wanted), None)


def next_id(state: dict[str, Any], sequence: str) -> int:
    """Ids come from per-state sequences so a reset or restore brings them back too."""
    seqs = state.setdefault("sequences", {})
    seqs[sequence] = seqs.get(sequence, 0) + 1
    return seqs[sequence]


def next_uuid(state: dict[str, Any]) -> str:
    """Deterministic UUID4s: a counter-seeded RNG whose position is part of the state."""
    counter = state.setdefault("sequences", {}).get("__uuid__", 0) + 1
    state["sequences"]["__uuid__"] = counter
    rng = random.Random(f"{state.get('seed', 0)}:uuid:{counter}")
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
