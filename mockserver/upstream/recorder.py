"""Turning what the real services answered into a state document that loads as a fixture.

Each vendor's answers are mapped back to the records its part of the state holds by the vendor's
own layout (``Vendor.recording``, in ``vendors/<name>/recording.py``). The document replaces the
part of each vendor that
answered: the seeded part it started from (projects, people, settings) with the content tables
emptied and the recorded records put in, so loading it gives a world holding what was seen::

    {"format": "mockserver/state@1", "description": "Recorded from ...", "seed": 42,
     "data": {"posthog": {"experiments": {"12": {...}}, "flags": {...}, "sequences": {...}, ...}}}

(``data`` rather than a merge ``patch``: a patch cannot hold the nulls records are full of.)
Only answers that kept to our contract are recorded: an answer that drifted is a finding in the
journal, and a record built from it could not be served by the mock anyway. The file is
rewritten atomically after every recorded answer, so it is whole at any moment.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from mockserver.upstream.observe import Observation

FORMAT = "mockserver/state@1"


class Layout(Protocol):
    """How one vendor's answers become records of its part of the state."""

    clear: tuple[str, ...]

    def observe(self, tables: dict[str, Any], obs: Observation) -> bool:
        """Record what ``obs`` shows into ``tables``; False when it holds nothing to record."""
        ...

    def apply(self, part: dict[str, Any], tables: dict[str, Any]) -> None:
        """Put the recorded ``tables`` into the vendor's ``part`` (its ``clear`` tables already emptied)."""
        ...


class Recorder:
    """Records answers per vendor; ``base`` holds each vendor's seeded part the recording starts from."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        source: str = "",
        base: dict[str, dict[str, Any]] | None = None,
        seed: int | None = None,
        vendor_layouts: dict[str, Layout] | None = None,  # by vendor: each vendor's ``recording`` layout
    ) -> None:
        self.path = Path(path) if path else None
        self.source = source
        self.base = base or {}
        self.seed = seed
        self.layouts = vendor_layouts or {}
        self._tables: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.recorded = 0

    def observe(self, obs: Observation) -> bool:
        """Record one answer (if it kept to the contract and holds records); saves the file when it changed."""
        layout = self.layouts.get(obs.vendor)
        if layout is None or obs.problems or not 200 <= obs.status < 300:
            return False
        with self._lock:
            tables = self._tables.setdefault(obs.vendor, {})
            if not layout.observe(tables, obs):
                return False
            self.recorded += 1
            if self.path is not None:
                self._save()
        return True

    def document(self) -> dict[str, Any]:
        with self._lock:
            return self._document()

    def _document(self) -> dict[str, Any]:
        stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        doc: dict[str, Any] = {
            "format": FORMAT,
            "description": f"Recorded from {self.source or 'the vendors'} ({self.recorded} answers, last at {stamp}).",
        }
        if self.seed is not None:
            doc["seed"] = self.seed
        doc["data"] = {}
        for vendor, tables in self._tables.items():
            layout = self.layouts[vendor]
            part = copy.deepcopy(self.base.get(vendor, {}))
            for table in layout.clear:
                part[table] = {}
            layout.apply(part, copy.deepcopy(tables))
            doc["data"][vendor] = json.loads(json.dumps(part))  # plain JSON
        return doc

    def _save(self) -> None:
        assert self.path is not None
        blob = json.dumps(self._document(), indent=1, ensure_ascii=False).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
