"""Experiments: creation, the Experiment representation with expand, and listing filters."""

from __future__ import annotations

from typing import Any

from mockserver.vendors.launchdarkly import iterations
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid

EXPANDS_LIST = ("previousIterations", "draftIteration", "secondaryMetrics", "treatments", "analysisConfig")
EXPANDS_ONE = (*EXPANDS_LIST, "mutableFieldsByStatus")
FILTER_FIELDS = ("flagKey", "metricKey", "status")
LIFECYCLE = ("active", "archived")

# Which updateExperimentFields operations each field accepts, by the current iteration's status.
MUTABLE_FIELDS: dict[str, dict[str, list[str]]] = {
    "not_started": {
        "name": ["update"],
        "description": ["update", "remove"],
        "tags": ["add", "update", "remove"],
        "hypothesis": ["update"],
        "randomizationUnit": ["update", "remove"],
        "canReshuffleTraffic": ["update"],
        "attributes": ["add", "update", "remove"],
        "methodology": ["update"],
    },
    "running": {
        "name": ["update"],
        "description": ["update", "remove"],
        "tags": ["add", "update", "remove"],
        "hypothesis": ["update"],
    },
    "stopped": {"name": ["update"], "description": ["update", "remove"], "tags": ["add", "update", "remove"]},
}


def parse_csv(raw: str | None, allowed: tuple[str, ...], what: str) -> list[str]:
    if raw is None:
        return []
    values = [v.strip() for v in raw.split(",")]
    for value in values:
        if value not in allowed:
            raise invalid(f"Unsupported {what} '{value}'; use a comma-separated list of: {', '.join(allowed)}")
    return values


def parse_filter(raw: str | None) -> list[tuple[str, str]]:
    """``field:value`` conditions, comma-separated; every one must hold (a repeated field too)."""
    out: list[tuple[str, str]] = []
    if raw is None:
        return out
    for part in raw.split(","):
        field, sep, value = part.strip().partition(":")
        value = value.strip()
        if not sep or not value:
            raise invalid(f"Invalid filter '{part}'; each filter is field:value, e.g. status:running")
        if field not in FILTER_FIELDS:
            raise invalid(f"Unsupported filter field '{field}'; use {', '.join(FILTER_FIELDS)}")
        if field == "status" and value not in iterations.STATUSES:
            raise invalid(f"Unsupported status '{value}'; use {', '.join(iterations.STATUSES)}")
        out.append((field, value))
    return out


def _holds(current: dict[str, Any] | None, field: str, value: str) -> bool:
    if current is None:
        return False
    if field == "status":
        return current["status"] == value
    if field == "flagKey":
        return value in current["flags"]
    return any(e["key"] == value for e in current["metrics"])


def matches(exp: dict[str, Any], filters: list[tuple[str, str]], states: list[str]) -> bool:
    archived = exp.get("archivedDate") is not None
    if ("archived" if archived else "active") not in states:
        return False
    if not filters:  # the iteration lookup below walks every row's iterations: skip it when unused
        return True
    current = iterations.current_of(exp)
    return all(_holds(current, field, value) for field, value in filters)


def maintainer(state: dict[str, Any], body: dict[str, Any], member_id: str | None) -> str:
    """The experiment's maintainer: the member named in the body, else the token's own member.

    A service token belongs to no member, so it must name one.
    """
    named = body.get("maintainerId")
    if named is None:
        if member_id is None:
            raise invalid("maintainerId is required when a service token creates an experiment")
        return member_id
    if m.member(state, named) is None:
        raise invalid(f"maintainerId '{named}' is not a member of this account")
    return named


def default_methodology(body: dict[str, Any]) -> str:
    """Frequentist unless the experiment is a multi-armed bandit, which is Bayesian only."""
    return body.get("methodology") or ("bayesian" if body.get("type") == "mab" else "frequentist")


def create(
    state: dict[str, Any], project_key: str, env_key: str, body: dict[str, Any], member_id: str | None, now_ms: int
) -> dict[str, Any]:
    key = body["key"]
    if not m.KEY.match(key):
        raise invalid(f"Invalid experiment key '{key}'; use letters, digits, '.', '_' and '-'")
    if not body["name"].strip():
        raise invalid("name may not be empty")
    if m.scoped(project_key, env_key, key) in state["experiments"]:
        raise invalid(f"An experiment with key '{key}' already exists in {project_key}/{env_key}")
    if body.get("type") == "mab" and default_methodology(body) != "bayesian":
        raise invalid("Multi-armed bandits support only the bayesian methodology")
    owner = maintainer(state, body, member_id)
    iteration = iterations.build(state, project_key, env_key, body["iteration"], now_ms)
    exp: dict[str, Any] = {
        "_id": iteration["_id"][::-1],
        "key": key,
        "name": body["name"],
        "projectKey": project_key,
        "environmentKey": env_key,
        "_maintainerId": owner,
        "_creationDate": now_ms,
        "methodology": default_methodology(body),
        "dataSource": body.get("dataSource", "launchdarkly"),
        "tags": list(body.get("tags") or []),
        "type": body.get("type", "experiment"),
        "iterations": [iteration],
        "currentIterationId": iteration["_id"],
        "draftIterationId": iteration["_id"],
    }
    for optional in ("description", "holdoutId"):
        if body.get(optional) is not None:
            exp[optional] = body[optional]
    if body.get("analysisConfig"):
        exp["analysisConfig"] = dict(body["analysisConfig"])
    state["experiments"][m.scoped(project_key, env_key, key)] = exp
    return exp


def add_iteration(state: dict[str, Any], exp: dict[str, Any], body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A new draft; it replaces an unstarted draft, and stands beside a running or stopped one."""
    if exp.get("archivedDate") is not None:
        raise invalid("Archived experiments cannot get new iterations; restore the experiment first")
    iteration = iterations.build(state, exp["projectKey"], exp["environmentKey"], body, now_ms)
    old_draft = iterations.draft_of(exp)
    if old_draft is not None:
        exp["iterations"].remove(old_draft)
    exp["iterations"].append(iteration)
    exp["draftIterationId"] = iteration["_id"]
    if iterations.current_of(exp) is None:
        exp["currentIterationId"] = iteration["_id"]
    return iteration


def rep(state: dict[str, Any], exp: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    """The Experiment representation; expanded parts that are empty stay absent."""
    project_key, env_key = exp["projectKey"], exp["environmentKey"]
    base = f"/api/v2/projects/{project_key}/environments/{env_key}"
    out: dict[str, Any] = {"_id": exp["_id"], "key": exp["key"], "name": exp["name"]}
    if exp.get("description"):
        out["description"] = exp["description"]
    out.update(
        {
            "_maintainerId": exp["_maintainerId"],
            "_creationDate": exp["_creationDate"],
            "environmentKey": env_key,
            "methodology": exp["methodology"],
            "dataSource": exp["dataSource"],
            "tags": list(exp["tags"]),
            "type": exp["type"],
            "_links": {"parent": m.link(base), "self": m.link(f"{base}/experiments/{exp['key']}")},
        }
    )
    for optional in ("archivedDate", "holdoutId"):
        if exp.get(optional) is not None:
            out[optional] = exp[optional]
    show = {"treatments": "treatments" in expand, "secondary": "secondaryMetrics" in expand}
    current = iterations.current_of(exp)
    if current is not None:
        out["currentIteration"] = iterations.rep(state, project_key, current, **show)
    draft = iterations.draft_of(exp)
    if "draftIteration" in expand and draft is not None:
        out["draftIteration"] = iterations.rep(state, project_key, draft, **show)
    if "previousIterations" in expand:
        previous = [
            it
            for it in exp["iterations"]
            if it["_id"] not in (exp.get("currentIterationId"), exp.get("draftIterationId"))
        ]
        if previous:
            out["previousIterations"] = [iterations.rep(state, project_key, it, **show) for it in reversed(previous)]
    if "analysisConfig" in expand and exp.get("analysisConfig"):
        out["analysisConfig"] = dict(exp["analysisConfig"])
    if "mutableFieldsByStatus" in expand:
        out["mutableFieldsByStatus"] = {
            status: {f: list(ops) for f, ops in fields.items()} for status, fields in MUTABLE_FIELDS.items()
        }
    return out


def listing(state: dict[str, Any], project_key: str, env_key: str | None, query: dict[str, Any]) -> list:
    filters = parse_filter(query.get("filter"))
    states = parse_csv(query.get("lifecycleState"), LIFECYCLE, "lifecycleState") or ["active"]
    rows = [
        e
        for e in state["experiments"].values()
        if e["projectKey"] == project_key
        and (env_key is None or e["environmentKey"] == env_key)
        and matches(e, filters, states)
    ]
    rows.sort(key=lambda e: (-e["_creationDate"], e["environmentKey"], e["key"]))
    return rows
