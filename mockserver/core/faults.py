"""Fault rules: make matching vendor requests slow, fail, or lose their connection.

A rule matches on method, a path glob or an operationId, and then delays (``latency_ms``),
answers ``status`` (with the vendor's own error body unless ``body`` is given) or drops the
connection. ``times`` limits how often it fires and ``probability`` makes it flaky; the dice
come from a generator seeded with the server's seed, so a flaky run can be replayed.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mockserver.core.journal import path_matches

RULE_FIELDS = (
    "method",
    "path",
    "operation_id",
    "status",
    "body",
    "latency_ms",
    "drop_connection",
    "times",
    "probability",
    "match",
)
MATCH_FIELDS = ("body", "query", "headers")


class RequestView(Protocol):
    """What ``match`` may look at in a request: its query, its headers, its JSON body."""

    query: Mapping[str, str]
    headers: Any

    def json(self) -> Any: ...


MAX_RULES = 200


class FaultError(ValueError):
    """A rule that cannot work; ``field`` names the culprit."""

    def __init__(self, field: str | None, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


@dataclass
class Hit:
    """What the app should do for one request: wait, then maybe answer or drop."""

    rule_id: int
    delay_ms: float
    status: int | None
    body: Any
    has_body: bool
    drop_connection: bool


def parse_rule(body: dict[str, Any]) -> dict[str, Any]:
    """Check what the JSON Schema cannot say; return the stored rule (without id or counters)."""
    unknown = sorted(set(body) - set(RULE_FIELDS))
    if unknown:
        raise FaultError(unknown[0], f"unknown field {unknown[0]!r}; fields are: {', '.join(RULE_FIELDS)}")
    if not body.get("path") and not body.get("operation_id"):
        raise FaultError("path", "a fault needs a path glob or an operation_id to match")
    if body.get("path") and not str(body["path"]).startswith("/"):
        raise FaultError(
            "path", f"path must start with / (a glob such as /api/projects/1/experiments/*), not {body['path']!r}"
        )
    if body.get("path") and str(body["path"]).startswith("/__admin"):
        raise FaultError("path", "the control API (/__admin) is not subject to faults: match a vendor path")
    if "body" in body and body.get("status") is None:
        raise FaultError("body", "body needs a status to be sent with")
    if body.get("status") is None and body.get("latency_ms") is None and not body.get("drop_connection"):
        raise FaultError("status", "a fault needs a status, a latency_ms or drop_connection: true")
    _check_status(body.get("status"), "body" in body)
    latency = body.get("latency_ms")
    if isinstance(latency, list) and latency[0] > latency[1]:
        raise FaultError("latency_ms", "latency_ms as [min, max] needs min <= max")
    rule = {name: body.get(name) for name in RULE_FIELDS}
    rule["method"] = rule["method"].upper() if rule["method"] else None
    rule["drop_connection"] = bool(rule["drop_connection"])
    rule["probability"] = 1.0 if rule["probability"] is None else float(rule["probability"])
    rule["has_body"] = "body" in body
    rule["match"] = _parse_match(body.get("match"))
    return rule


NO_BODY_STATUSES = (204, 304)  # HTTP sends these without a body


def _check_status(status: int | None, has_body: bool) -> None:
    """A status a fault can answer with what it sends: the vendor's error body goes with errors only."""
    if status is None:
        return
    if status < 200:
        raise FaultError("status", f"status {status} is informational, not a final answer: use 200-599")
    if status in NO_BODY_STATUSES:
        if has_body:
            raise FaultError("body", f"status {status} is answered without a body: leave body out")
        return
    if status < 400 and not has_body:
        raise FaultError(
            "body",
            f"status {status} is not an error, so the vendor's error body cannot go with it: give the body to answer",
        )


def _parse_match(match: Any) -> dict[str, Any] | None:
    """``{"body": <JSON subset>, "query": {name: value}, "headers": {name: value}}``, each optional."""
    if match is None:
        return None
    if not isinstance(match, dict) or not match:
        raise FaultError("match", "match must be an object with body, query and/or headers")
    unknown = sorted(set(match) - set(MATCH_FIELDS))
    if unknown:
        raise FaultError(f"match.{unknown[0]}", f"match takes {', '.join(MATCH_FIELDS)}, not {unknown[0]!r}")
    for part in ("query", "headers"):
        given = match.get(part)
        if given is not None and (not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values())):
            raise FaultError(f"match.{part}", f"match.{part} must map names to string values")
    return dict(match)


def subset(wanted: Any, actual: Any) -> bool:
    """JSON containment: objects may hold more members, arrays match element by element, scalars equal."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) == len(actual)
            and all(subset(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    return type(wanted) is type(actual) and wanted == actual


def request_matches(match: dict[str, Any] | None, request: RequestView | None) -> bool:
    if not match:
        return True
    if request is None:
        return False
    for name, value in (match.get("query") or {}).items():
        if request.query.get(name) != value:
            return False
    for name, value in (match.get("headers") or {}).items():
        if request.headers.get(name) != value:
            return False
    return "body" not in match or subset(match["body"], request.json())


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._rules: list[dict[str, Any]] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:faults")

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = parse_rule(body)
        with self._lock:
            if len(self._rules) >= MAX_RULES:
                raise FaultError(None, f"at most {MAX_RULES} fault rules can be set; delete some first")
            rule.update(id=self._next_id, fired=0)
            self._next_id += 1
            self._rules.append(rule)
            return public(rule)

    def restorer(self) -> Callable[[], None]:
        """A function putting the rules back as they are now (undoing a failed control request)."""
        with self._lock:
            rules, next_id = [dict(r) for r in self._rules], self._next_id

        def restore() -> None:
            with self._lock:
                self._rules, self._next_id = rules, next_id

        return restore

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [public(r) for r in self._rules]

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r["id"] != rule_id]
            return len(self._rules) != before

    def clear(self, seed: int | None = None) -> None:
        with self._lock:
            self._rules.clear()
            if seed is not None:
                self._rng = random.Random(f"{seed}:faults")

    def __bool__(self) -> bool:
        """Whether any rule is set: requests skip matching altogether when none is."""
        return bool(self._rules)

    def match(self, method: str, path: str, operation_id: str | None, request: RequestView | None = None) -> Hit | None:
        """The first live rule that matches and wins its dice roll; counts it as fired."""
        with self._lock:
            for rule in self._rules:
                if rule["times"] is not None and rule["fired"] >= rule["times"]:
                    continue
                if rule["method"] and rule["method"] != method:
                    continue
                if rule["operation_id"] and rule["operation_id"] != operation_id:
                    continue
                if rule["path"] and not path_matches(rule["path"], path):
                    continue
                if not request_matches(rule.get("match"), request):
                    continue
                if rule["probability"] < 1.0 and self._rng.random() >= rule["probability"]:
                    continue
                rule["fired"] += 1
                latency = rule["latency_ms"]
                delay = self._rng.uniform(latency[0], latency[1]) if isinstance(latency, list) else float(latency or 0)
                return Hit(rule["id"], delay, rule["status"], rule["body"], rule["has_body"], rule["drop_connection"])
        return None


def public(rule: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rule.items() if k != "has_body"}
    if out.get("match") is None:
        out.pop("match", None)
    if not rule["has_body"]:
        out.pop("body", None)
    out["remaining"] = None if rule["times"] is None else max(rule["times"] - rule["fired"], 0)
    return out
