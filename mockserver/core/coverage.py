"""Contract coverage: which operations of each vendor were called, with which documented statuses.

Kept apart from the journal (which is capped and emptied by every reset) so one report covers a
whole test session, or a whole sidecar run: it is cleared only on request.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from mockserver.core.contract import Contract


class Coverage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], Counter[int]] = {}

    def record(self, surface: str, operation_id: str, status: int) -> None:
        with self._lock:
            self._seen.setdefault((surface, operation_id), Counter())[status] += 1

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def report(self, contracts: Mapping[str, Contract]) -> dict[str, Any]:
        """Per vendor: every operation, how often each status was answered, the documented ones missed."""
        with self._lock:
            seen = {key: Counter(counts) for key, counts in self._seen.items()}
        vendors = {}
        for name, contract in contracts.items():
            rows = []
            for operation_id, (method, path, op, _item) in contract.raw_operations.items():
                counts = seen.get((name, operation_id), Counter())
                documented = sorted(str(code) for code in op.get("responses", {}))
                answered = {str(status): n for status, n in sorted(counts.items())}
                covered = sorted(code for code in documented if _covers(code, answered))
                rows.append(
                    {
                        "operation_id": operation_id,
                        "method": method,
                        "path": path,
                        "calls": sum(counts.values()),
                        "statuses": answered,
                        "documented": documented,
                        "documented_seen": covered,
                        "documented_missed": [code for code in documented if code not in covered],
                        "undocumented": sorted(s for s in answered if not any(_matches(c, s) for c in documented)),
                    }
                )
            called = [r for r in rows if r["calls"]]
            statuses = sum(len(r["documented"]) for r in rows)
            vendors[name] = {
                "operations": len(rows),
                "called": len(called),
                "statuses": statuses,
                "statuses_seen": sum(len(r["documented_seen"]) for r in rows),
                "never_called": [r["operation_id"] for r in rows if not r["calls"]],
                "detail": rows,
            }
        return {"vendors": vendors}


def _matches(documented: str, status: str) -> bool:
    if documented == status or documented == "default":
        return True
    return len(documented) == 3 and documented.upper().endswith("XX") and documented[0] == status[0]


def _covers(documented: str, answered: Iterable[str]) -> bool:
    return any(_matches(documented, status) for status in answered)
