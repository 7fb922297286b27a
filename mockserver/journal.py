"""The request journal: what the mock was asked and what it answered, capped, filterable.

Tests verify calls against it (``assert_called``) instead of scraping logs; the cap keeps a
long-running sidecar's memory flat (the oldest entries go first, as in WireMock).
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

DROP_KEY = "mockserver.drop_connection"  # set in the WSGI environ by a fault that drops the connection


def matches(
    entry: dict[str, Any],
    *,
    method: str | None = None,
    path: str | None = None,
    operation_id: str | None = None,
    status: int | None = None,
) -> bool:
    """``path`` is a glob (``/api/projects/1/experiments/*``); a trailing slash is optional."""
    if method and entry["method"] != method.upper():
        return False
    if operation_id and entry["operation_id"] != operation_id:
        return False
    if status is not None and entry["status"] != status:
        return False
    return not path or path_matches(path, entry["path"])


def path_matches(pattern: str, path: str) -> bool:
    if fnmatch.fnmatchcase(path, pattern):
        return True
    return fnmatch.fnmatchcase(path.rstrip("/") or "/", pattern.rstrip("/") or "/")


class Journal:
    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry = {"id": next(self._ids), **entry}
            if len(self._entries) == self.capacity:
                self.dropped += 1
            self._entries.append(entry)
            return entry

    def entries(self, **filters: Any) -> list[dict[str, Any]]:
        """Oldest first; see ``matches`` for the filters."""
        with self._lock:
            snapshot = list(self._entries)
        return [e for e in snapshot if matches(e, **filters)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)


def describe(entries: Iterable[dict[str, Any]], limit: int = 20) -> str:
    """One line per call, for assertion messages."""
    lines = [f"  {e['method']} {e['path']} -> {e['status']} ({e['operation_id'] or 'unmatched'})" for e in entries]
    if not lines:
        return "  (no requests recorded)"
    more = len(lines) - limit
    return "\n".join(lines[-limit:] if more <= 0 else [f"  … {more} earlier", *lines[-limit:]])


# ---------------------------------------------------------------------------------------------
# Recording: Flask hooks that journal every request outside /__admin


def _is_preflight(request: Any) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _request_body(request: Any) -> Any:
    from werkzeug.exceptions import HTTPException

    if (request.content_length or 0) > 65536:
        return None
    try:
        raw = request.get_data(cache=True)
    except HTTPException:  # too large or unreadable: the response already says so
        return None
    if not raw or len(raw) > 65536:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


SECRET_HEADERS = ("x-mockserver-admin-token", "cookie")  # never kept; vendor keys are (they are test keys)


def _request_headers(request: Any) -> dict[str, str]:
    """The request's headers as sent (values capped), so a journal reader sees which key and media type came."""
    return {key: value[:1000] for key, value in request.headers.items() if key.lower() not in SECRET_HEADERS}


def install(app: Any, runtime: Any) -> None:
    from flask import g, request

    @app.before_request
    def _journal_start() -> None:
        g.mock_started = time.perf_counter()

    @app.after_request
    def _journal_record(response: Any) -> Any:
        if request.path.startswith("/__admin") or _is_preflight(request):
            return response
        started = getattr(g, "mock_started", None)
        elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        endpoint = request.url_rule.endpoint if request.url_rule is not None else ""
        vendor = runtime.vendor_for_path(request.path)
        problem = getattr(g, "mock_problem", None)
        errors = []
        if problem is not None:
            named = problem.attr and not problem.detail.startswith(f"{problem.attr}")
            errors.append(f"{problem.attr}: {problem.detail}" if named else problem.detail)
        dropped = bool(request.environ.get(DROP_KEY))
        runtime.journal.record(
            {
                "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1"),
                "vendor": vendor.name if vendor else None,
                "operation_id": endpoint.partition(".")[2] if vendor and "." in endpoint else None,
                "status": None if dropped else response.status_code,
                "latency_ms": round(elapsed, 3),
                "validation_errors": errors,
                "contract_violations": list(getattr(g, "mock_violations", None) or []),
                "nearest_path": response.headers.get("X-Mock-Nearest-Path"),
                "fault_id": getattr(g, "mock_fault_id", None),
                "dropped": dropped,
                "request_body": _request_body(request),
                "request_headers": _request_headers(request),
            }
        )
        return response
