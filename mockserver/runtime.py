"""Everything one server instance owns: settings, clock, store and the vendors built on them."""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

from mockserver.clock import Clock
from mockserver.settings import Settings
from mockserver.store import Store
from mockserver.vendors.base import Vendor

log = logging.getLogger("mockserver")

# Seeded timestamps hang off one anchor so the same seed gives the same bytes on any day;
# --now moves both the anchor and the clock.
DEFAULT_ANCHOR = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        from mockserver.vendors import posthog

        self.settings = settings
        self.clock = Clock(settings.now)
        self.store = Store(settings.seed, self.clock, settings.now or DEFAULT_ANCHOR)
        self.store.register("admin", lambda ctx: {"api_keys": {}})
        self.vendors: list[Vendor] = [posthog.build(self)]
        for vendor in self.vendors:
            self.store.register(vendor.name, vendor.seed)
        self.server_errors: deque[BaseException] = deque(maxlen=100)
        self._errors_lock = threading.Lock()

    def vendor_for_path(self, path: str) -> Vendor | None:
        for vendor in self.vendors:
            if path.startswith(vendor.prefix):
                return vendor
        return None

    def record_server_error(self, error: BaseException) -> None:
        with self._errors_lock:
            self.server_errors.append(error)

    @property
    def admin_state(self) -> dict[str, Any]:
        return self.store.data["admin"]
