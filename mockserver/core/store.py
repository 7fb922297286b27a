"""The in-memory state: one lock, JSON data per part, transactions, reset to the seeded world."""

from __future__ import annotations

import itertools
import random
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from mockserver.core import disk_cache, heap, tracked
from mockserver.core.clock import Clock
from mockserver.core.problems import Problem
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


def pure_seeder(func: Seeder) -> Seeder:
    """Mark a seeder whose world depends on nothing but its ``SeedContext`` (seed, anchor, part) and
    the code of its package: its worlds are then kept in the disk cache (``core.disk_cache``) and
    a later start-up loads them instead of seeding. A seeder that reads anything else (settings,
    files, a closure's values) must stay unmarked."""
    func.pure_seeder = True  # type: ignore[attr-defined]
    return func


def clone(value: Any) -> Any:
    """A deep copy as plain JSON data (dicts, lists, scalars): what leaves the store."""
    return plain(value)


Data = dict[str, dict[str, Any]]


class ChangedRows:
    """The rows committed since the last reset, kept grouped the way a reset restores them.

    Grouping as rows arrive (a few per request) spares the reset a pass over every row a test
    wrote: it reads ``parts`` (part -> table -> keys) as they stand.
    """

    __slots__ = ("parts",)

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self.parts: dict[str, dict[str, set[str]]] = {}
        self.update(rows)

    def update(self, rows: Iterable[Row]) -> None:
        parts = self.parts
        for part, table, key in rows:
            tables = parts.get(part)
            if tables is None:
                tables = parts[part] = {}
            keys = tables.get(table)
            if keys is None:
                tables[table] = {key}
            else:
                keys.add(key)

    def copy(self) -> ChangedRows:
        out = ChangedRows()
        out.parts = {part: {table: set(keys) for table, keys in tables.items()} for part, tables in self.parts.items()}
        return out

    def __iter__(self) -> Iterator[Row]:
        for part, tables in self.parts.items():
            for table, keys in tables.items():
                for key in keys:
                    yield (part, table, key)


class Store:
    """All mutable state. Every read and write of vendor data happens under ``lock``.

    ``data[part]`` holds each part (the control API's ``admin`` and one per vendor) as tracked
    JSON containers (see ``mockserver.core.tracked``): a write runs inside ``transaction()``, and a
    transaction that fails leaves every container as it was. ``reset()`` returns to the baseline
    (the seeded world, or the start fixture), built once per seed; a reset copies back only the
    rows changed since the previous one (see ``reset``).
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
        self._memo: dict[Any, tuple[tuple[int, int], Any]] = {}
        # Set when a fixture was loaded at start: seed -> the data reset() returns to.
        self.baseline: Callable[[int], Data] | None = None
        self._baselines: dict[int, Data] = {}
        # What a reset needs to restore only what changed: the baseline the live tree was copied
        # from, the rows committed since (None: unknown), and a tree derived from that baseline
        # that an import displaced (it comes back on reset) with its own changed rows.
        self._base: Data | None = None
        self._dirty: ChangedRows | None = None
        self._parked: tuple[Data, ChangedRows] | None = None
        self._untracked_seen = -1
        # The parts' worlds as registered (plain data), until the first baseline for that seed takes them.
        self._registered: Data = {}
        self._registered_seed = seed

    def register(self, part: str, seeder: Seeder, tables: Iterable[str] = ()) -> None:
        with self.lock:
            self._seeders[part] = seeder
            self._tables[part] = tuple(tables)
            world = self._seed(part, seeder, self.seed)
            self.data[part] = self._track(part, world)  # a tracked copy: ``world`` stays as it was
            self._registered[part] = world

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
        parts = self._seeders.items()
        return {part: self._seed(part, seeder, seed) for part, seeder in parts if only is None or part in only}

    def _seed(self, part: str, seeder: Seeder, seed: int) -> dict[str, Any]:
        """One part's world for ``seed``: from the disk cache when the seeder is pure."""
        if not getattr(seeder, "pure_seeder", False):
            return seeder(SeedContext(seed, self.anchor, part))
        key = b"|".join((part.encode(), str(seed).encode(), repr(self.anchor).encode()))
        key += disk_cache.source_digest(seeder.__module__)
        return disk_cache.fetch("seeds", part, key, lambda: seeder(SeedContext(seed, self.anchor, part)))

    def _baseline(self, seed: int) -> Data:
        """What reset() installs for ``seed``, built once: a reset then costs one copy, not a seeding."""
        found = self._baselines.get(seed)
        if found is not None:
            return found
        registered, self._registered = self._registered, {}
        start_world = self.baseline is None and seed == self._registered_seed
        if start_world and registered.keys() == self._seeders.keys():
            found = registered  # the world registered at start: no second seeding
        elif self.baseline is not None:
            found = self.baseline(seed)
        else:
            found = self.seeded(seed)
        if len(self._baselines) >= 4:
            self._baselines.clear()
        self._baselines[seed] = found
        return found

    def forget_baselines(self) -> None:
        with self.lock:
            self._baselines.clear()

    def reset(self, seed: int | None = None) -> None:
        """Back to the baseline: the start fixture when one was loaded, else the seeded world.

        ``seed`` switches the seed from now on (a fixture's seeded parts follow it too). The cost
        does not grow with what was written since the last reset, nor with the size of the state:
        only the rows committed since then are copied back from the baseline, in place, so a test
        that touched three rows costs three row copies. When that list cannot be trusted (an
        import was not displacing a baseline-derived tree, a write happened outside a
        transaction, another seed) the whole baseline is copied, as before. Inside a transaction
        the reset is undone with it.
        """
        with self.lock:
            if seed is not None:
                tx = active()
                if tx is not None:
                    old = self.seed
                    tx.log(lambda: setattr(self, "seed", old), ALL_ROWS)
                self.seed = seed
            base = self._baseline(self.seed)
            if not self._restore_changed(base):
                self._install(base, baseline=True)
            self._untracked_seen = tracked.untracked_writes()
            tx = active()
            if tx is not None:
                tx.clean = len(tx.undo)  # what this reset wrote is not a change since the reset

    def _restore_changed(self, base: Data) -> bool:
        """Copy back the changed rows only; False when the full copy is needed."""
        if base is not self._base or tracked.untracked_writes() != self._untracked_seen:
            return False
        data, dirty = (self.data, self._dirty) if self._parked is None else self._parked
        if dirty is None or data.keys() != base.keys():
            return False
        tx = active()
        if tx is not None and tx.changed:  # written earlier in this transaction: not committed, not listed yet
            dirty = dirty.copy()
            dirty.update(row for row in tx.changed if row[0] != "*")
        plan = dirty.parts
        if any(table != "clock" for table in plan.get("*", ())):  # the clock is the runtime's to reset
            return False
        if data is not self.data:  # an import displaced the baseline-derived tree: bring it back
            self._swap(data)
        for part, tables in plan.items():
            if part == "*":
                continue
            root, base_part = data[part], base[part]
            for table, keys in tables.items():
                if table == "@":
                    self._restore_members(root, base_part, keys)
                else:
                    self._restore_table(root, base_part, table, keys)
        self._set_tracking(dirty=ChangedRows(), parked=None)
        self.touch()
        return True

    @staticmethod
    def _restore_members(root: TrackedDict, base_part: dict[str, Any], keys: set[str]) -> None:
        part = root._row[0]
        names = {k for k in (set(root) | set(base_part)) if k not in root._tables} if "*" in keys else keys
        for name in names:
            if name in base_part:
                tracked.put(root, name, tracked.copy_row(base_part[name], (part, "@", name)))
            else:
                tracked.discard(root, name)

    @staticmethod
    def _restore_table(root: TrackedDict, base_part: dict[str, Any], name: str, keys: set[str]) -> None:
        """A new table object (so key indexes rebuild) sharing the untouched records."""
        part = root._row[0]
        base_rows = base_part.get(name)
        live = dict.get(root, name)
        if not isinstance(base_rows, dict):
            tracked.discard(root, name)
            return
        if "*" in keys or not isinstance(live, TrackedDict) or live._kind != "table":
            tracked.put(root, name, tracked.copy_table(part, name, base_rows))
            return
        created = keys - base_rows.keys()  # set arithmetic at C speed: a test may have made hundreds
        changed = keys - created if created else keys
        table = None
        if all(dict.__contains__(live, k) for k in changed):
            table = Store._without(part, name, live, created)
            for key in changed:
                dict.__setitem__(table, key, tracked.copy_row(base_rows[key], (part, name, key)))
            if changed and list(table) != list(base_rows):
                table = None  # a baseline record was removed and added again: it now sits last
        if table is None:
            # A baseline record was removed (or moved): rebuild in the baseline's order.
            table = tracked.reuse_table(part, name, {})
            for key, record in base_rows.items():
                value = tracked.copy_row(record, (part, name, key)) if key in keys else dict.__getitem__(live, key)
                dict.__setitem__(table, key, value)
        tracked.put(root, name, table)

    @staticmethod
    def _without(part: str, name: str, live: dict[str, Any], created: set[str]) -> TrackedDict:
        """A new table of ``live``'s records but ``created``: usually the last ones, cut off at C speed."""
        present = created & live.keys()
        keep = len(live) - len(present)
        if present.isdisjoint(itertools.islice(live, keep)):
            return tracked.reuse_table(part, name, itertools.islice(live.items(), keep))
        return tracked.reuse_table(part, name, {k: v for k, v in live.items() if k not in present})

    def _swap(self, data: Data) -> None:
        """Make ``data`` the live tree (undoable inside a transaction)."""
        old = self.data
        self.data = data
        tx = active()
        if tx is not None:
            tx.log(lambda: setattr(self, "data", old), ALL_ROWS)

    def _set_tracking(self, **values: Any) -> None:
        """Change the reset bookkeeping (undoable inside a transaction)."""
        saved = {name: getattr(self, "_" + name) for name in values}
        for name, value in values.items():
            setattr(self, "_" + name, value)
        tx = active()
        if tx is not None:
            tx.log(lambda: [setattr(self, "_" + n, v) for n, v in saved.items()], None)

    def snapshot(self) -> Data:
        with self.lock:
            return plain(self.data)

    def restore(self, snapshot: Data) -> None:
        with self.lock:
            self._install(snapshot)

    def _install(self, data: Data, baseline: bool = False) -> None:
        """Replace every part (undoable inside a transaction)."""
        old = self.data
        tx = active()
        if _rows(data) > LARGE_STATE_ROWS:
            with heap.bulk():  # built without collector passes, then kept out of them (see core.heap)
                live = {part: self._track(part, value) for part, value in data.items()}
        else:
            live = {part: self._track(part, value) for part, value in data.items()}
        self._swap(live)
        if baseline:
            self._set_tracking(base=data, dirty=ChangedRows(), parked=None)
        elif self._parked is None and self._dirty is not None:
            # An import over a baseline-derived tree: keep that tree for the next reset, with the
            # rows it changed, including those written earlier in this transaction.
            changed = self._dirty.copy()
            if tx is not None:
                changed.update(row for row in tx.changed if row[0] != "*")
            self._set_tracking(parked=(old, changed), dirty=None)
        else:
            self._set_tracking(dirty=None)
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
                if self._dirty is not None:
                    self._dirty.update(row for row in tx.changed_since(tx.clean) if row[0] != "*")
                self.touch()
                KeyIndex.rows_changed(changed)

    def changed_outside(self, rows: Iterable[Row]) -> None:
        """Rows written on purpose past the undo log (bookkeeping such as rate-limit windows).

        Nothing remembered reads them, so memos stay; only a reset needs to know, to bring them
        back with the rows transactions changed.
        """
        with self.lock:
            if self._dirty is not None:
                self._dirty.update(rows)

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
            # A write outside any transaction (a test poking the state) moves no generation:
            # nothing remembered before it is trusted after it.
            stamp = (self.generation, tracked.untracked_writes())
            hit = self._memo.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
            value = compute()
            if len(self._memo) >= 256:
                self._memo.clear()
            self._memo[key] = (stamp, value)
            return value


class KeyIndex:
    """Rows of a table looked up by a derived key, kept beside the table, not in it.

    The state stays plain JSON, so the index cannot live inside it. It follows the table it was
    built for (only the one looked at last: holding more would keep replaced states alive) through
    every change, rows removed and keys changed included:

    - a tracked table (the store's): rows written by a committed transaction are reported to the
      index (``rows_changed``) and re-read on the next lookup; rows the open transaction has
      written are re-read on every lookup and again after it ends, committed or rolled back. So a
      miss is as sure as a hit, without reading the other rows;
    - a plain dict: rows appended since the last lookup are read; a hit is checked, and a miss or
      a stale entry is re-checked by a scan (a table that shrank or held a stale entry is rebuilt).

    A replaced table (reset, restore, import) gets a fresh index. Several rows with one key answer
    the first in insertion order, as a scan would.
    """

    _live: ClassVar[weakref.WeakSet[KeyIndex]] = weakref.WeakSet()

    def __init__(self, key: Callable[[dict[str, Any]], Any]) -> None:
        self._key = key
        self._lock = threading.Lock()  # one index serves every app in the process
        self._table: dict[str, Any] | None = None
        self._name: tuple[str, str] | None = None  # (part, table) of a tracked table
        self._key_of: dict[str, Any] = {}  # row id -> the key it was indexed under
        self._ids: dict[Any, dict[str, None]] = {}  # key -> ids of the rows holding it
        self._dirty: set[str] = set()  # rows to read again before the next answer
        self._stale = False
        self._seen = 0  # plain dicts: rows read so far, in insertion order
        self._untracked = -1  # tracked.untracked_writes() when the index was built
        KeyIndex._live.add(self)

    @classmethod
    def rows_changed(cls, rows: Iterable[Row]) -> None:
        """A transaction committed these rows: indexes over their tables read them again."""
        rows = list(rows)
        for index in list(cls._live):
            index._note(rows)

    def _note(self, rows: list[Row]) -> None:
        with self._lock:
            if self._name is None:
                return
            for part, table, key in rows:
                if (part, table) == self._name:
                    if key == "*":
                        self._stale = True  # the whole table was assigned
                    else:
                        self._dirty.add(key)
                elif (part, table, key) == ALL_ROWS:
                    self._stale = True

    def find(self, table: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        with self._lock:
            if table is not self._table or self._stale:
                self._build(table)
            if self._name is not None:
                return self._find_tracked(table, wanted)
            return self._find_plain(table, wanted)

    def find_all(self, table: dict[str, Any], wanted: Any) -> list[dict[str, Any]]:
        """Every row holding ``wanted``, in no particular order (a plain dict is scanned)."""
        with self._lock:
            if table is not self._table or self._stale:
                self._build(table)
            if self._name is None:
                return [row for row in table.values() if self._key(row) == wanted]
            self._catch_up(table)
            rows = [table.get(row_id) for row_id in self._ids.get(wanted, ())]
            if all(row is not None and self._key(row) == wanted for row in rows):
                return rows  # type: ignore[return-value]
            self._stale = True  # cannot happen while every write is tracked; stay right if one was not
            return [row for row in table.values() if self._key(row) == wanted]

    # -- building and reading rows again ---------------------------------------------------------

    def _build(self, table: dict[str, Any]) -> None:
        self._untracked = tracked.untracked_writes()
        is_tracked = isinstance(table, TrackedDict) and table._kind == "table"
        self._table, self._stale, self._dirty = table, False, set()
        self._name = (table._row[0], table._row[1]) if is_tracked else None  # type: ignore[attr-defined]
        self._key_of, self._ids = {}, {}
        for row_id, row in table.items():
            self._add(row_id, row)
        self._seen = len(table)

    def _add(self, row_id: str, row: dict[str, Any]) -> None:
        key = self._key(row)
        self._key_of[row_id] = key
        self._ids.setdefault(key, {})[row_id] = None

    def _forget(self, row_id: str) -> None:
        if row_id in self._key_of:
            key = self._key_of.pop(row_id)
            holders = self._ids[key]
            holders.pop(row_id, None)
            if not holders:
                del self._ids[key]

    def _reread(self, table: dict[str, Any], row_ids: Iterable[str]) -> None:
        for row_id in row_ids:
            self._forget(row_id)
            row = table.get(row_id)
            if row is not None:
                self._add(row_id, row)

    def _first(self, table: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        return next((row for row in table.values() if self._key(row) == wanted), None)

    # -- lookups ----------------------------------------------------------------------------------

    def _catch_up(self, table: dict[str, Any]) -> None:
        """A tracked table: read again the rows written since the last lookup, and those of the open transaction."""
        if tracked.untracked_writes() != self._untracked:  # a write no transaction recorded: start over
            self._build(table)
        self._reread(table, self._dirty)
        self._dirty = set()
        tx = active()
        if tx is not None and tx.undo:
            # Written by the open transaction: read now, and again once it has committed or rolled back.
            name = self._name
            pending = {key for part, name_, key in tx.changed if (part, name_) == name and key != "*"}
            self._reread(table, pending)
            self._dirty = pending
        if len(self._key_of) != len(table):  # a change no transaction recorded
            self._build(table)

    def _find_tracked(self, table: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        self._catch_up(table)
        holders = self._ids.get(wanted)
        if not holders:
            return None
        if len(holders) == 1:
            row = table.get(next(iter(holders)))
            if row is not None and self._key(row) == wanted:
                return row
            self._stale = True  # cannot happen while every write is tracked; stay right if one was not
        return self._first(table, wanted)

    def _find_plain(self, table: dict[str, Any], wanted: Any) -> dict[str, Any] | None:
        if len(table) < self._seen:
            self._build(table)
        elif len(table) > self._seen:
            for row_id, row in itertools.islice(table.items(), self._seen, None):
                self._add(row_id, row)
            self._seen = len(table)
        holders = self._ids.get(wanted)
        if holders and len(holders) == 1:
            row = table.get(next(iter(holders)))
            if row is not None and self._key(row) == wanted:
                return row
        # A miss, a stale entry or several holders: a plain dict may have changed in place.
        found = self._first(table, wanted)
        if found is not None or holders:
            self._stale = True
        return found


MAX_ID = 2**31 - 1  # PostgreSQL's integer, the ids vendors' paths take


def next_id(state: dict[str, Any], sequence: str) -> int:
    """Ids come from per-state sequences so a reset or restore brings them back too."""
    seqs = state.setdefault("sequences", {})
    following = seqs.get(sequence, 0) + 1
    if following > MAX_ID:
        raise Problem(
            "bad_request",
            f"The {sequence} id sequence is used up (ids stop at {MAX_ID}); reset, or load a state with a lower one.",
            code="limit_reached",
        )
    seqs[sequence] = following
    return following


def next_uuid(state: dict[str, Any]) -> str:
    """Deterministic UUID4s: a counter-seeded RNG whose position is part of the state."""
    counter = state.setdefault("sequences", {}).get("__uuid__", 0) + 1
    state["sequences"]["__uuid__"] = counter
    rng = random.Random(f"{state.get('seed', 0)}:uuid:{counter}")
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
