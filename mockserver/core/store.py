"""The in-memory state: one lock, plain JSON-able data per vendor, reset to the seeded world."""

from __future__ import annotations

import gc
import itertools
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mockserver.core.clock import Clock

LARGE_STATE_ROWS = 5000
Seeder = Callable[["SeedContext"], dict[str, Any]]


class SeedContext:
    """What a vendor seeder gets: the seed, a private RNG, and the instant the world is built at."""

    def __init__(self, seed: int, anchor: Any, vendor: str) -> None:
        self.seed = seed
        self.anchor = anchor
        self.rng = random.Random(f"{seed}:{vendor}")


def clone(value: Any) -> Any:
    """A deep copy of plain JSON data (dicts, lists, scalars).

    About three times faster than copy.deepcopy, which matters because every response copies the
    records it serves out of the shared state.
    """
    kind = type(value)
    if kind is dict:
        return {key: clone(item) for key, item in value.items()}
    if kind is list:
        return [clone(item) for item in value]
    return value


class Store:
    """All mutable state. Every read and write of vendor data happens under ``lock``.

    Vendor data lives in ``data[vendor]`` as plain dicts and lists, so a snapshot is a deep copy and
    the whole state can be exported as JSON. ``reset()`` rebuilds the seeded world from scratch,
    which is deterministic for a given seed and anchor instant.
    """

    def __init__(self, seed: int, clock: Clock, anchor: Any) -> None:
        self.seed = seed
        self.clock = clock
        self.anchor = anchor
        self.lock = threading.RLock()
        self.data: dict[str, dict[str, Any]] = {}
        self._seeders: dict[str, Seeder] = {}
        self.generation = 0  # moves on every write (touch), reset and restore
        self._memo: dict[Any, tuple[int, Any]] = {}
        # Set when a fixture was loaded at start: seed -> the data reset() returns to.
        self.baseline: Callable[[int], dict[str, dict[str, Any]]] | None = None

    def register(self, vendor: str, seeder: Seeder) -> None:
        with self.lock:
            self._seeders[vendor] = seeder
            self.data[vendor] = seeder(SeedContext(self.seed, self.anchor, vendor))

    @property
    def seeders(self) -> dict[str, Seeder]:
        return dict(self._seeders)

    def seeded(self, seed: int | None = None, only: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """A freshly generated world (or some parts of it) for ``seed``; not installed."""
        seed = self.seed if seed is None else seed
        return {
            vendor: seeder(SeedContext(seed, self.anchor, vendor))
            for vendor, seeder in self._seeders.items()
            if only is None or vendor in only
        }

    def reset(self, seed: int | None = None) -> None:
        """Back to the baseline: the start fixture when one was loaded, else the seeded world.

        ``seed`` switches the seed from now on (a fixture's seeded parts follow it too).
        """
        with self.lock:
            if seed is not None:
                self.seed = seed
            self.data = self.baseline(self.seed) if self.baseline is not None else self.seeded()
            self.touch()
            self._settle()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return clone(self.data)

    def restore(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            self.data = clone(snapshot)
            self.touch()
            self._settle()

    def _settle(self) -> None:
        """Take a large state out of the cyclic collector's full passes.

        The state is plain acyclic JSON, freed by reference counting alone, yet a full collection
        walks all of it: ~0.3 s per pass with 10,000 experiments, which shows up as p99 spikes.
        """
        rows = sum(len(table) for part in self.data.values() for table in part.values() if isinstance(table, dict))
        if rows > LARGE_STATE_ROWS:
            gc.collect()
            gc.freeze()

    def touch(self) -> None:
        """Mark a write: results memoised before it are stale. Code that changes ``data`` calls it."""
        with self.lock:
            self.generation += 1
            self._memo.clear()

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` remembered until the next write: lists read far more often than they change.

        At 10,000 stored experiments filtering and sorting every row costs ~10 ms a request; a page
        of an unchanged list then costs what it costs at 100.
        """
        with self.lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] == self.generation:
                return hit[1]
            value = compute()
            if len(self._memo) >= 256:
                self._memo.clear()
            self._memo[key] = (self.generation, value)
            return value

    @contextmanager
    def vendor(self, name: str) -> Iterator[dict[str, Any]]:
        with self.lock:
            yield self.data[name]


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
