"""Everything one server instance owns: settings, clock, store and the vendors built on them."""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

from mockserver.admin import snapshot
from mockserver.admin.snapshot import StateFile
from mockserver.core.clock import Clock, parse_instant
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.vendor import Vendor
from mockserver.faults import Faults
from mockserver.journal import Journal

log = logging.getLogger("mockserver")

# Seeded timestamps hang off one anchor so the same seed gives the same bytes on any day;
# --now moves both the anchor and the clock.
DEFAULT_ANCHOR = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        from mockserver.vendors import launchdarkly, posthog

        self.settings = settings
        self.clock = Clock(settings.now)
        self.store = Store(settings.seed, self.clock, settings.now or DEFAULT_ANCHOR)
        self.store.register("admin", lambda ctx: {"api_keys": {}}, ["api_keys"])
        self.vendors: list[Vendor] = [posthog.build(self), launchdarkly.build(self)]
        for vendor in self.vendors:
            self.store.register(vendor.name, vendor.seed, vendor.tables)
        self.server_errors: deque[BaseException] = deque(maxlen=100)
        self.server_error_count = 0  # monotonic, so a watcher can tell which errors are new
        self._errors_lock = threading.Lock()
        self.journal = Journal(settings.journal_size)
        self.faults = Faults(settings.seed)
        self.start_fixture: dict[str, Any] | None = None
        self.state_file = StateFile(settings.state_file) if settings.state_file else None
        self._load_start_state()

    def _load_start_state(self) -> None:
        """--fixture becomes the baseline reset() returns to; --state-file, when present, wins."""
        if self.settings.fixture:
            doc = snapshot.load_fixture(self, self.settings.fixture)
            self.start_fixture = doc
            self.store.baseline = lambda seed: snapshot.build(self, doc, seed)
        if self.state_file is not None and not self.state_file.load(self):
            self.state_file.save(self)

    def reset(self, seed: int | None = None) -> None:
        """Everything back to how the server started: state, clock, faults, journal."""
        with self.store.lock:
            self.store.reset(seed)
            clock = (self.start_fixture or {}).get("clock")
            if clock and clock.get("frozen_at"):
                self.clock.freeze(parse_instant(clock["frozen_at"]))
            elif self.settings.now is not None:
                self.clock.freeze(self.settings.now)
            else:
                self.clock.unfreeze()
        self.faults.clear(self.store.seed)
        self.journal.clear()

    def persist(self) -> None:
        """Save the state file after a change (a no-op without --state-file or when nothing changed)."""
        if self.state_file is not None:
            self.state_file.save(self)

    def vendor_for_path(self, path: str) -> Vendor | None:
        for vendor in self.vendors:
            if path.startswith(vendor.prefix):
                return vendor
        return None

    def record_server_error(self, error: BaseException) -> None:
        with self._errors_lock:
            self.server_errors.append(error)
            self.server_error_count += 1

    @property
    def admin_state(self) -> dict[str, Any]:
        return self.store.data["admin"]
