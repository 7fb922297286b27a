"""--state-file: the state kept in SQLite, loaded at start, written with every change.

One row per stored object (a record of a vendor's table, or another top-level member of a part),
so a write costs what it changes, not what the state holds: the rows a request changed are
written in one SQLite transaction before the request is answered. WAL mode and a synchronous
commit keep the file whole whatever happens to the process (``kill -9`` included): a restart
sees the last acknowledged write. A save that fails raises, and the request that caused it is
rolled back in memory too.

A JSON state document (the import/export format, and what ``--state-file`` held before) is
still accepted: it is loaded once and the file becomes a database, the JSON kept beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.core import heap, jsonbody
from mockserver.core.documents import FORMAT, SnapshotError, clock_json, install
from mockserver.core.tracked import Row

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

SQLITE_MAGIC = b"SQLite format 3\x00"
SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    part TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    UNIQUE (part, tbl, key)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
OTHER = "@"  # the pseudo-table holding a part's top-level members that are not tables
# An update keeps the row's rowid, so reading back by rowid restores every table's insertion order.
UPSERT = (
    "INSERT INTO rows (part, tbl, key, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (part, tbl, key) DO UPDATE SET value = excluded.value"
)


def _encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class StateFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        # A symlinked path means its target: SQLite's journal and WAL files go beside the target.
        self.path = Path(os.path.realpath(path))
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._held: Any = None  # the open lock file while this object holds the state file
        self._holding = threading.Lock()  # one thread takes the lock file: two handles would clash

    # -- opening ----------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.acquire()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(SCHEMA)
            self._db = db
        return self._db

    def close(self) -> None:
        """Fold the write-ahead log into the database file, close it and let the file go: after a
        clean stop the file alone holds the state (a copy of it is a backup). A later write opens it
        again, taking the lock again (or failing as a second server would)."""
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.close()
                self._db = None
            with self._holding:
                if self._held is not None:
                    self._held.close()
                    self._held = None

    def acquire(self) -> None:
        """Hold the file for this object until ``close()``: two servers writing one file would each
        lose the other's writes. Every way in (loading, the first write, a write after ``close()``)
        takes it, so no server writes the file unlocked, however it was made.

        The lock is an flock on ``PATH.lock``, which the system lets go when the process ends.
        Raises OSError when another process (or another server in this one) holds it. Where flock
        is missing (Windows), nothing is locked."""
        with self._holding:
            self._acquire()

    def _acquire(self) -> None:
        if self._held is not None:
            return
        try:
            import fcntl
        except ImportError:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)  # as opening the database would
        handle = open(f"{self.path}.lock", "a+")  # noqa: SIM115 (kept open: the lock lives with it)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise OSError(
                f"state file {self.path} is in use by another mockserver (one state file, one server)"
            ) from None
        self._held = handle

    def _remove_stale_temporaries(self) -> None:
        """Temporary files an earlier JSON writer left behind when it was killed mid-write."""
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    # -- loading ------------------------------------------------------------------------------------

    def load(self, runtime: Runtime) -> bool:
        """Install what the file holds; False when there is no file yet (it is then written whole)."""
        self.acquire()  # before anything is read: another server may be writing it
        self._remove_stale_temporaries()
        if not self.path.is_file() or self.path.stat().st_size == 0:
            self.save_all(runtime)
            return False
        with open(self.path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
        doc = self._read_document(runtime) if head == SQLITE_MAGIC else self._read_json()
        try:
            install(runtime, doc)
        except SnapshotError as exc:
            raise SnapshotError(exc.field, f"{exc.detail} (in state file {self.path})") from None
        if head != SQLITE_MAGIC:
            self._convert(runtime)
        return True

    def _read_json(self) -> dict[str, Any]:
        try:
            doc = jsonbody.parse(self.path.read_bytes(), max_depth=jsonbody.MAX_DEPTH * 2)
        except jsonbody.BodyError as exc:
            raise SnapshotError(None, f"state file {self.path} is neither SQLite nor valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise SnapshotError(None, f"state file {self.path} does not hold a state document")
        return doc

    def _convert(self, runtime: Runtime) -> None:
        """A JSON state file becomes a database once; the JSON stays beside it as ``<name>.json-backup``."""
        backup = self.path.with_name(self.path.name + ".json-backup")
        number = 1
        while backup.exists():  # an earlier conversion's backup is kept: never overwritten
            backup = self.path.with_name(f"{self.path.name}.json-backup.{number}")
            number += 1
        os.replace(self.path, backup)
        self.save_all(runtime)

    def _read_document(self, runtime: Runtime) -> dict[str, Any]:
        db = self._connect()
        meta = dict(db.execute("SELECT name, value FROM meta"))
        parts = {part for (part,) in db.execute("SELECT DISTINCT part FROM rows")}
        # An empty table has no rows: every table the part declares exists, empty or not.
        data: dict[str, dict[str, Any]] = {p: {t: {} for t in runtime.store.tables(p)} for p in parts}
        with heap.bulk():  # a large state is built without collector passes, then kept out of them
            for part, tbl, key, value in db.execute("SELECT part, tbl, key, value FROM rows ORDER BY rowid"):
                parsed = orjson.loads(value)
                target = data.setdefault(part, {})
                if tbl == OTHER:
                    target[key] = parsed
                else:
                    target.setdefault(tbl, {})[key] = parsed
        doc: dict[str, Any] = {"format": meta.get("format", FORMAT), "data": data}
        if "seed" in meta:
            doc["seed"] = int(meta["seed"])
        if "clock" in meta:
            doc["clock"] = json.loads(meta["clock"])
        return doc

    # -- saving -------------------------------------------------------------------------------------

    def save_all(self, runtime: Runtime) -> None:
        """Write the whole state (after a reset, an import, or on first use)."""
        with self._lock, runtime.store.lock:
            db = self._connect()
            rows = list(_all_rows(runtime))
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM rows")
                db.executemany("INSERT INTO rows (part, tbl, key, value) VALUES (?, ?, ?, ?)", rows)
                self._write_meta(db, runtime)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def save(self, runtime: Runtime, changed: Iterable[Row]) -> None:
        """Write the rows a transaction changed (everything when the whole state was replaced)."""
        changed = set(changed)
        if ("*", "*", "*") in changed:
            self.save_all(runtime)
            return
        with self._lock, runtime.store.lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                for part, tbl, key in sorted(changed):
                    self._write_row(db, runtime, part, tbl, key)
                self._write_meta(db, runtime)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _write_row(self, db: sqlite3.Connection, runtime: Runtime, part: str, tbl: str, key: str) -> None:
        root = runtime.store.data.get(part)
        if root is None:
            return
        if tbl == OTHER:
            if key in root:
                db.execute(UPSERT, (part, OTHER, key, _encode(root[key])))
            else:
                db.execute("DELETE FROM rows WHERE part = ? AND tbl = ? AND key = ?", (part, OTHER, key))
            return
        table = root.get(tbl)
        if key == "*":  # the table was replaced or emptied as a whole
            db.execute("DELETE FROM rows WHERE part = ? AND tbl = ?", (part, tbl))
            if isinstance(table, dict):
                db.executemany(
                    "INSERT INTO rows (part, tbl, key, value) VALUES (?, ?, ?, ?)",
                    [(part, tbl, str(k), _encode(v)) for k, v in table.items()],
                )
            return
        if isinstance(table, dict) and key in table:
            db.execute(UPSERT, (part, tbl, key, _encode(table[key])))
        else:
            db.execute("DELETE FROM rows WHERE part = ? AND tbl = ? AND key = ?", (part, tbl, key))

    def _write_meta(self, db: sqlite3.Connection, runtime: Runtime) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [
                ("format", FORMAT),
                ("seed", str(runtime.store.seed)),
                ("clock", json.dumps(clock_json(runtime))),
            ],
        )


def _all_rows(runtime: Runtime) -> Iterable[tuple[str, str, str, bytes]]:
    for part, root in runtime.store.data.items():
        tables = set(runtime.store.tables(part))
        for member, value in root.items():
            if member in tables and isinstance(value, dict):
                for key, record in value.items():
                    yield part, member, str(key), _encode(record)
            else:
                yield part, OTHER, member, _encode(value)
