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
                rows.append(_row(operation_id, method, path, documented, {str(s): n for s, n in counts.items()}))
            vendors[name] = _summary(rows)
        return {"vendors": vendors}


def combine(reports: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One report from several servers' (xdist workers, an app and a live server): calls summed."""
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    for report in reports:
        for name, vendor in report["vendors"].items():
            rows = merged.setdefault(name, {})
            for row in vendor["detail"]:
                into = rows.setdefault(row["operation_id"], {**row, "statuses": {}})
                for status, n in row["statuses"].items():
                    into["statuses"][status] = into["statuses"].get(status, 0) + n
    vendors = {
        name: _summary(
            [_row(r["operation_id"], r["method"], r["path"], r["documented"], r["statuses"]) for r in rows.values()]
        )
        for name, rows in merged.items()
    }
    return {"vendors": vendors}


def _row(
    operation_id: str, method: str, path: str, documented: list[str], answered: Mapping[str, int]
) -> dict[str, Any]:
    answered = {status: answered[status] for status in sorted(answered)}
    covered = sorted(code for code in documented if _covers(code, answered))
    return {
        "operation_id": operation_id,
        "method": method,
        "path": path,
        "calls": sum(answered.values()),
        "statuses": answered,
        "documented": documented,
        "documented_seen": covered,
        "documented_missed": [code for code in documented if code not in covered],
        "undocumented": sorted(s for s in answered if not any(_matches(c, s) for c in documented)),
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "operations": len(rows),
        "called": sum(1 for r in rows if r["calls"]),
        "statuses": sum(len(r["documented"]) for r in rows),
        "statuses_seen": sum(len(r["documented_seen"]) for r in rows),
        "never_called": [r["operation_id"] for r in rows if not r["calls"]],
        "detail": rows,
    }


def _matches(documented: str, status: str) -> bool:
    if documented == status or documented == "default":
        return True
    return len(documented) == 3 and documented.upper().endswith("XX") and documented[0] == status[0]


def _covers(documented: str, answered: Iterable[str]) -> bool:
    return any(_matches(documented, status) for status in answered)
