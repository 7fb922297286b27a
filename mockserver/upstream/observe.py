"""What the proxy saw of one upstream answer, checked against our contract."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mockserver.core.contract import Contract, parse_json


@dataclass
class Observation:
    """One vendor answer to one served operation (``body`` is the parsed JSON, or None)."""

    vendor: str
    operation_id: str
    method: str
    path: str
    path_args: dict[str, str]
    status: int
    body: Any = None
    request_body: Any = None
    problems: list[str] = field(default_factory=list)


def _is_json(content_type: str | None) -> bool:
    base = (content_type or "").split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def check_reply(
    contract: Contract, operation_id: str, status: int, content_type: str | None, raw: bytes
) -> tuple[Any, list[str]]:
    """The parsed body and everything in it our contract does not allow (drift, seen live)."""
    if not raw:
        return None, contract.response_problems(operation_id, status, None, None)
    mimetype = (content_type or "").split(";")[0].strip().lower() or None
    if not _is_json(content_type):
        return None, contract.response_problems(operation_id, status, mimetype, None)
    try:
        body = parse_json(raw)
    except (ValueError, RecursionError) as exc:
        return None, [f"<body>: the vendor's {status} answer is not valid JSON ({exc})"]
    return body, contract.response_problems(operation_id, status, mimetype, body)


class DriftLog:
    """The drift findings of a proxy run, newest last, capped like the request journal."""

    def __init__(self, capacity: int = 1000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.total = 0

    def add(self, obs: Observation, upstream_url: str) -> dict[str, Any]:
        entry = {
            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "vendor": obs.vendor,
            "operation_id": obs.operation_id,
            "method": obs.method,
            "path": obs.path,
            "status": obs.status,
            "upstream": upstream_url,
            "problems": list(obs.problems),
        }
        with self._lock:
            self._entries.append(entry)
            self.total += 1
        return entry

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)
