"""Everything one server instance owns: settings, clock, store, journal, faults and the vendors."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mockserver.core import documents, fixtures
from mockserver.core.clock import Clock, parse_instant
from mockserver.core.coverage import Coverage
from mockserver.core.faults import Faults
from mockserver.core.inflight import InFlight
from mockserver.core.journal import Journal
from mockserver.core.persistence import StateFile
from mockserver.core.problems import Problem
from mockserver.core.registry import discover
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.tracked import CLOCK_ROW, Row
from mockserver.core.vendor import Vendor

log = logging.getLogger("mockserver")

# Seeded timestamps hang off one anchor so the same seed gives the same bytes on any day;
# --now moves both the anchor and the clock.
DEFAULT_ANCHOR = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
ADMIN_PART = "admin"
MAX_API_KEYS = 1000


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock(settings.now)
        self.store = Store(settings.seed, self.clock, settings.now or DEFAULT_ANCHOR)
        self.store.register(ADMIN_PART, lambda ctx: {"api_keys": {}}, ["api_keys"])
        self.vendors: list[Vendor] = [plugin.build(self) for plugin in discover()]
        for vendor in self.vendors:
            self.store.register(vendor.name, vendor.seed, vendor.tables)
        self.server_errors: deque[BaseException] = deque(maxlen=100)
        self.server_error_count = 0  # monotonic, so a watcher can tell which errors are new
        self._errors_lock = threading.Lock()
        self.journal = Journal(settings.journal_size)
        self.coverage = Coverage()  # survives resets: one report per session or sidecar run
        self.faults = Faults(settings.seed)
        self.in_flight = InFlight()  # vendor requests in progress: a reset waits for them (settle)
        self.start_fixture: dict[str, Any] | None = None
        # What /__admin/settings may change at run time; a reset puts back the start-up values.
        self._start_live = (settings.latency, settings.no_auth)
        self.admin_token, self.admin_token_generated = _admin_token(settings)
        self.state_file = StateFile(settings.state_file) if settings.state_file else None
        self._load_start_state()
        self.faults.clear(self.store.seed)  # a start fixture or state file may name another seed

    def _load_start_state(self) -> None:
        """--fixture becomes the baseline reset() returns to; --state-file, when present, wins."""
        if self.settings.fixture:
            doc = fixtures.load_fixture(self, self.settings.fixture)
            self.start_fixture = doc
            self.store.baseline = lambda seed: documents.build(self, doc, seed)
        if self.state_file is not None:
            try:
                self.state_file.load(self)  # holds the file from here until it is closed
            except BaseException:
                self.state_file.close()  # a start that fails lets the file go at once
                raise

    def vendor(self, name: str) -> Vendor:
        for vendor in self.vendors:
            if vendor.name == name:
                return vendor
        raise KeyError(name)

    def reset(self, seed: int | None = None) -> None:
        """Everything back to how the server started: state, clock, faults, journal, run-time settings.

        The control API's reset first lets the vendor requests in progress finish (``InFlight``);
        called directly, it does not wait for them."""
        with self.store.lock:
            restore_clock = self.clock.restorer()
            live = (self.settings.latency, self.settings.no_auth)
            self.store.reset(seed)
            from_tx = self.store.in_transaction
            if from_tx is not None:
                from_tx.log(restore_clock, CLOCK_ROW)
                from_tx.log(self.faults.restorer(), None)
                from_tx.log(lambda: self._set_live(live), None)
            self._set_live(self._start_live)
            clock = (self.start_fixture or {}).get("clock")
            if clock and clock.get("frozen_at"):
                self.clock.freeze(parse_instant(clock["frozen_at"]))
            elif self.settings.now is not None:
                self.clock.freeze(self.settings.now)
            else:
                self.clock.unfreeze()
        self.faults.clear(self.store.seed)
        self.journal.clear()

    def _set_live(self, values: tuple[Any, bool]) -> None:
        self.settings.latency, self.settings.no_auth = values

    def persist(self, changed: Iterable[Row]) -> None:
        """Write what a request changed to the state file (a no-op without --state-file)."""
        if self.state_file is not None:
            self.state_file.save(self, changed)

    def check_limits(self, changed: Iterable[Row]) -> None:
        """Refuse a write that leaves a table above its vendor's documented limit."""
        tables = {(part, table) for part, table, _key in changed if table not in ("@", "*")}
        for part, table in tables:
            limit = self._limit(part, table)
            rows = self.store.data.get(part, {}).get(table)
            if limit is not None and isinstance(rows, dict) and len(rows) > limit:
                raise Problem(
                    "bad_request",
                    f"This mock keeps at most {limit} {table.replace('_', ' ')} per server (--state-file "
                    "or not); delete some or reset before creating more.",
                    code="limit_reached",
                )

    def _limit(self, part: str, table: str) -> int | None:
        if part == ADMIN_PART:
            return MAX_API_KEYS if table == "api_keys" else None
        for vendor in self.vendors:
            if vendor.name == part:
                return vendor.table_limits.get(table)
        return None

    def record_server_error(self, error: BaseException) -> None:
        with self._errors_lock:
            self.server_errors.append(error)
            self.server_error_count += 1

    @property
    def admin_state(self) -> dict[str, Any]:
        return self.store.data[ADMIN_PART]


def _admin_token(settings: Settings) -> tuple[str | None, bool]:
    """The control API's token: as given; none when asked for in so many words; else generated
    when the server binds anything but loopback (a sidecar reachable from other machines)."""
    if settings.admin_token is not None:
        return settings.effective_admin_token, False
    if settings.binds_loopback:
        return None, False
    return secrets.token_urlsafe(24), True
