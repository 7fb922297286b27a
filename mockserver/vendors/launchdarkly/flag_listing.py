"""Listing flags: LaunchDarkly's ``filter`` fields, ``sort`` fields and the deprecated shortcuts.

A filter is ``field:value`` pairs joined by commas (values may be JSON objects, whose commas do
not split); every pair must hold. Without a ``state``/``archived`` filter archived flags are left
out. Facts the mock's world does not have (code references, applications, guarded rollouts,
release pipelines) are simply absent: filters asking for them match nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mockserver.vendors.launchdarkly import flag_status
from mockserver.vendors.launchdarkly.errors import invalid

FILTER_FIELDS = (
    "applicationEvaluated",
    "archived",
    "contextKindsEvaluated",
    "codeReferences.max",
    "codeReferences.min",
    "creationDate",
    "evaluated",
    "filterEnv",
    "guardedRollout",
    "hasExperiment",
    "maintainerId",
    "maintainerTeamKey",
    "query",
    "releasePipeline",
    "state",
    "sdkAvailability",
    "tags",
    "type",
)
STATES = ("live", "deprecated", "archived")
SDK_AVAILABILITY = ("client", "mobile", "anyClient", "server")
GUARDED = ("any", "monitoring", "regressed", "rolledBack", "completed", "archived")
SORT_FIELDS = ("creationDate", "key", "maintainerId", "name", "tags", "targetingModifiedDate", "type")
DAYS_30_MS = 30 * 24 * 3600 * 1000


def split_filter(raw: str) -> list[tuple[str, str]]:
    """``a:1,b:{"x":1,"y":2}`` -> [(a, 1), (b, {...})]: commas inside braces do not separate."""
    parts, depth, current = [], 0, []
    for char in raw:
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        if char == "," and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    out = []
    for part in parts:
        field, sep, value = part.strip().partition(":")
        if not sep or not value.strip():
            raise invalid(f"Invalid filter '{part}'; each filter is field:value, e.g. query:checkout")
        if field not in FILTER_FIELDS:
            raise invalid(f"Unsupported filter field '{field}'; use {', '.join(FILTER_FIELDS)}")
        out.append((field, value.strip()))
    return out


def _boolean(field: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise invalid(f"filter {field} takes true or false")
    return value == "true"


def _millis(field: str, value: str, member: str) -> int:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    found = parsed.get(member) if isinstance(parsed, dict) else None
    if type(found) is not int:
        raise invalid(f'filter {field} takes {{"{member}": <epoch milliseconds>}}')
    return found


def _count(field: str, value: str) -> int:
    if not value.isdigit():
        raise invalid(f"filter {field} takes a whole number")
    return int(value)


def _kinds(value: str) -> list[str]:
    """``+``-separated; an unencoded ``+`` arrives as a space, which separates too."""
    return [k for k in value.replace(" ", "+").split("+") if k]


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise invalid(f"filter {field} takes one of {', '.join(allowed)}")
    return value


class Listing:
    """One listing request: its filters, compiled to a predicate over flag rows."""

    def __init__(self, state: dict[str, Any], project_key: str, now_ms: int) -> None:
        self.state = state
        self.project_key = project_key
        self.now = now_ms

    def _requested(self, row: dict[str, Any], env_keys: list[str]) -> list[tuple[int | None, list[str]]]:
        out = []
        for env_key in env_keys:
            last = flag_status.last_requested(self.state, row, env_key, self.now)
            kinds = (row["environments"][env_key].get("_requests") or {}).get("contextKinds") or []
            out.append((last, kinds))
        return out

    def _has_experiment(self, row: dict[str, Any]) -> bool:
        if row["experiments"]["items"]:
            return True
        for exp in self.state["experiments"].values():
            mine = exp["projectKey"] == row["projectKey"] and exp.get("archivedDate") is None
            if mine and any(row["key"] in it["flags"] for it in exp["iterations"]):
                return True
        return False

    def predicate(self, conditions: list[tuple[str, str]], tag: str | None, archived: bool | None) -> Callable:
        envs = list(self.state["projects"][self.project_key]["environments"])
        filter_env = next((v for f, v in conditions if f == "filterEnv"), None)
        if filter_env is not None and filter_env not in envs:
            raise invalid(f"filterEnv: unknown environment '{filter_env}' in project '{self.project_key}'")
        checks: list[Callable[[dict[str, Any]], bool]] = []
        states_given = archived is not None
        if archived is not None:
            checks.append(lambda r, a=archived: r["archived"] is a)
        if tag is not None:
            checks.append(lambda r, t=tag: t in r["tags"])
        for field, value in conditions:
            if field in ("state", "archived"):
                states_given = True
            checks.append(self._condition(field, value, filter_env, envs))
        if not states_given:
            checks.append(lambda r: not r["archived"])
        return lambda row: all(check(row) for check in checks)

    def _condition(self, field: str, value: str, filter_env: str | None, envs: list[str]) -> Callable:
        if field == "query":
            needle = value.lower()
            return lambda r: needle in r["key"].lower() or needle in r["name"].lower()
        if field == "tags":
            wanted = _kinds(value)
            return lambda r: all(t in r["tags"] for t in wanted)
        if field == "type":
            temporary = _choice(field, value, ("temporary", "permanent")) == "temporary"
            return lambda r: r["temporary"] is temporary
        if field == "state":
            state = _choice(field, value, STATES)
            if state == "archived":
                return lambda r: r["archived"]
            if state == "deprecated":
                return lambda r: not r["archived"] and r["deprecated"]
            return lambda r: not r["archived"] and not r["deprecated"]
        if field == "archived":
            wanted_archived = _boolean(field, value)
            return lambda r: r["archived"] is wanted_archived
        if field == "maintainerId":
            return lambda r: r.get("maintainerId") == value
        if field == "maintainerTeamKey":
            return lambda r: r.get("maintainerTeamKey") == value
        if field == "hasExperiment":
            wanted = _boolean(field, value)
            return lambda r: self._has_experiment(r) is wanted
        if field == "sdkAvailability":
            which = _choice(field, value, SDK_AVAILABILITY)
            return lambda r: _available(r.get("clientSideAvailability") or {}, which)
        if field == "creationDate":
            before = _millis(field, value, "before")
            return lambda r: r["creationDate"] < before
        if field == "evaluated":
            after = _millis(field, value, "after")
            if filter_env is None:
                raise invalid("filter evaluated needs filterEnv: name the environment, e.g. filterEnv:production")
            return lambda r: any(last is not None and last >= after for last, _ in self._requested(r, [filter_env]))
        if field == "contextKindsEvaluated":
            kinds = _kinds(value)
            scope = [filter_env] if filter_env else envs
            since = self.now - DAYS_30_MS
            return lambda r: any(
                last is not None and last >= since and all(k in seen for k in kinds)
                for last, seen in self._requested(r, scope)
            )
        if field == "codeReferences.max":
            _count(field, value)
            return lambda r: True  # no flag has code references here
        if field == "codeReferences.min":
            minimum = _count(field, value)
            return lambda r: minimum == 0
        if field == "guardedRollout":
            _choice(field, value, GUARDED)
            return lambda r: False
        # filterEnv only scopes the others; applicationEvaluated and releasePipeline name what no flag has here.
        return (lambda r: True) if field == "filterEnv" else (lambda r: False)


def _available(availability: dict[str, Any], which: str) -> bool:
    client, mobile = bool(availability.get("usingEnvironmentId")), bool(availability.get("usingMobileKey"))
    return {"client": client, "mobile": mobile, "anyClient": client or mobile, "server": not (client or mobile)}[which]


def sort_key(raw: str | None, envs: list[str]) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """A function that orders rows as ``sort`` asks; newest first when it is not given."""
    if raw is None:
        return lambda rows: sorted(rows, key=lambda r: (-r["creationDate"], r["key"]))
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise invalid("sort must name at least one field")
    for name in fields:
        if name.lstrip("-") not in SORT_FIELDS:
            raise invalid(f"Unsupported sort field '{name.lstrip('-')}'; use {', '.join(SORT_FIELDS)}")
    if any(f.lstrip("-") == "targetingModifiedDate" for f in fields):
        if len(fields) > 1:
            raise invalid("targetingModifiedDate cannot be combined with another sort field")
        if not envs:
            raise invalid("sort by targetingModifiedDate needs the env parameter")

    def value(row: dict[str, Any], name: str) -> Any:
        if name == "targetingModifiedDate":
            config = row["environments"].get(envs[0]) or {}
            return config.get("lastModified", 0)
        if name == "tags":
            return ",".join(sorted(row["tags"]))
        if name == "type":
            return "temporary" if row["temporary"] else "permanent"
        if name == "name":
            return row["name"].lower()
        if name == "maintainerId":
            return row.get("maintainerId") or ""
        return row[name]

    def order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = sorted(rows, key=lambda r: r["key"])
        for name in reversed(fields):
            field = name.lstrip("-")
            out.sort(key=lambda r, n=field: value(r, n), reverse=name.startswith("-"))
        return out

    return order


def listing(
    state: dict[str, Any],
    project_key: str,
    now_ms: int,
    filters: list[str],
    sort: str | None,
    envs: list[str],
    tag: str | None,
    archived: bool | None,
) -> list[dict[str, Any]]:
    """The project's flags that pass every filter, in the order asked for."""
    conditions = [c for raw in filters for c in split_filter(raw)]
    keep = Listing(state, project_key, now_ms).predicate(conditions, tag, archived)
    order = sort_key(sort, envs)
    rows = [r for r in state["flags"].values() if r["projectKey"] == project_key and keep(r)]
    return order(rows)
