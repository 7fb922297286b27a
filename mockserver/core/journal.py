"""The request journal: what the mock was asked and what it answered, capped, filterable.

Tests verify calls against it instead of scraping logs. Memory stays flat on a long-running
sidecar: the journal keeps the newest ``capacity`` entries (the oldest go first, as in WireMock)
and each entry keeps at most ``BODY_BYTES`` of each body as raw bytes, parsed only when read.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mockserver.core import jsonbody

BODY_BYTES = 64 * 1024
HEADER_BYTES = 8 * 1024


@functools.lru_cache(maxsize=4096)
def glob(pattern: str) -> re.Pattern[str]:
    """A path glob compiled once: ``*`` within a segment run, as fnmatch; a trailing slash is optional."""
    return re.compile(fnmatch.translate(pattern.rstrip("/") or "/"))


def path_matches(pattern: str, path: str) -> bool:
    compiled = glob(pattern)
    return compiled.match(path.rstrip("/") or "/") is not None or compiled.match(path) is not None


def matches(
    entry: Mapping[str, Any],
    *,
    method: str | None = None,
    path: str | None = None,
    operation_id: str | None = None,
    status: int | None = None,
    vendor: str | None = None,
    contract_refusal: bool | None = None,
    after: int | None = None,
) -> bool:
    """``path`` is a glob (``/api/projects/1/experiments/*``); a trailing slash is optional;
    ``after`` keeps entries with a larger id (what came since an entry seen before)."""
    if after is not None and entry["id"] <= after:
        return False
    if contract_refusal is not None and bool(entry.get("contract_refusal")) != contract_refusal:
        return False
    if method and entry["method"] != method.upper():
        return False
    if operation_id and entry["operation_id"] != operation_id:
        return False
    if status is not None and entry["status"] != status:
        return False
    if vendor and entry["vendor"] != vendor:
        return False
    return not path or path_matches(path, entry["path"])


SECRET_HEADERS = frozenset({"x-mockserver-admin-token", "cookie"})
HEADER_VALUE_CHARS = 1000


_HEADER_NAMES: dict[str, str | None] = {}
_EMPTY: tuple[()] = ()
LIST_FIELDS = ("validation_errors", "contract_violations")  # kept as tuples, shown as lists


def environ_headers(environ: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """A request's headers as werkzeug names them, each name made once per process, not per request.

    A journal holds up to ``capacity`` entries; names shared between them are objects a reset
    does not have to free (the values are the request's own).
    """
    names = _HEADER_NAMES
    for key, value in environ.items():
        name = names.get(key, _EMPTY)
        if name is _EMPTY:
            name = _header_name(key)
            if len(names) < 4096:  # a client inventing header names cannot grow this without bound
                names[key] = name
        if name is not None and (value or key.startswith("HTTP_")):
            yield name, value


def _header_name(key: str) -> str | None:
    if key.startswith("HTTP_"):
        return None if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH") else key[5:].replace("_", "-").title()
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.replace("_", "-").title()
    return None


def capped_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Request headers as sent, up to HEADER_BYTES in all (repeated names joined with commas).

    The admin token and cookies are left out: the journal is shown in the console.
    """
    out: dict[str, str] = {}
    size = 0
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            continue
        value = value[:HEADER_VALUE_CHARS]
        size += len(name) + len(value)
        if size > HEADER_BYTES:
            break
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def body_view(raw: bytes | None, truncated: bool) -> Any:
    """A stored body as JSON when it is strict JSON, else as text; None when there was none."""
    if not raw:
        return None
    if not truncated:
        try:
            return jsonbody.parse(raw)
        except jsonbody.BodyError:
            pass
    text = raw.decode("utf-8", "replace")
    return text + "…" if truncated else text


class Journal:
    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0
        self.epoch = 0  # how many times it was cleared: a request from before a clear is not recorded

    def record(self, entry: dict[str, Any], epoch: int | None = None) -> dict[str, Any] | None:
        """Store an entry; ``request_raw``/``response_raw`` bytes are cut to BODY_BYTES.

        ``epoch`` is the journal's when the request arrived: a request that outlived a reset (one
        forwarded upstream that the reset did not wait for) belongs to the world before it and is
        left out (None)."""
        for key in ("request_raw", "response_raw"):
            raw = entry.get(key) or b""
            entry[key] = bytes(raw[:BODY_BYTES])
            entry[key.replace("_raw", "_truncated")] = len(raw) > BODY_BYTES
        for key in LIST_FIELDS:
            entry[key] = tuple(entry.get(key) or _EMPTY)  # the empty one is shared: less to free on reset
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return None
            entry = {"id": next(self._ids), **entry}
            if len(self._entries) == self.capacity:
                self.dropped += 1
            self._entries.append(entry)
            return entry

    def entries(self, **filters: Any) -> list[dict[str, Any]]:
        """Oldest first, as the control API shows them; see ``matches`` for the filters."""
        with self._lock:
            snapshot = list(self._entries)
        return [view(e) for e in snapshot if matches(e, **filters)]

    def since(self, after_id: int) -> list[dict[str, Any]]:
        with self._lock:
            snapshot = [e for e in self._entries if e["id"] > after_id]
        return [view(e) for e in snapshot]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0
            self.epoch += 1

    def __len__(self) -> int:
        return len(self._entries)


def view(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The public shape of an entry: bodies parsed, raw bytes left out."""
    out = {k: v for k, v in entry.items() if not k.endswith("_raw") and not k.endswith("_truncated")}
    for key in LIST_FIELDS:
        out[key] = list(out.get(key) or ())
    out["request_body"] = body_view(entry.get("request_raw"), entry.get("request_truncated", False))
    out["response_body"] = body_view(entry.get("response_raw"), entry.get("response_truncated", False))
    out["request_body_truncated"] = bool(entry.get("request_truncated"))
    out["response_body_truncated"] = bool(entry.get("response_truncated"))
    return out


def describe(entries: Iterable[Mapping[str, Any]], limit: int = 20) -> str:
    """One line per call, for assertion messages."""
    lines = [f"  {e['method']} {e['path']} -> {e['status']} ({e['operation_id'] or 'unmatched'})" for e in entries]
    if not lines:
        return "  (no requests recorded)"
    more = len(lines) - limit
    return "\n".join(lines[-limit:] if more <= 0 else [f"  … {more} earlier", *lines[-limit:]])
