"""LaunchDarkly state: projects, environments, flags, metrics, metric groups, settings.

Lookups raise the vendor's 404; the serializers here are shared by experiments, iterations,
results and flags so every reference renders the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from mockserver.core.store import next_uuid
from mockserver.vendors.launchdarkly.errors import not_found

JSON = "application/json"
KEY = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")


def empty_state(seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "sequences": {},
        "members": [],
        "projects": {},
        "flags": {},
        "metrics": {},
        "metric_groups": {},
        "experiments": {},
        "settings": {},
        "legacy_resets": {},
        "rate_limits": [],
        "rate_windows": {},
    }


def table(state: dict[str, Any], name: str) -> dict[str, Any]:
    """A table added after state documents were first exported: absent in an older document, empty then."""
    return state.setdefault(name, {})


def millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def link(href: str, kind: str = JSON) -> dict[str, str]:
    return {"href": href, "type": kind}


def hex_id(state: dict[str, Any]) -> str:
    """LaunchDarkly's object ids are 24 hex digits; drawn from the state's deterministic UUIDs."""
    return next_uuid(state).replace("-", "")[:24]


def scoped(*parts: str) -> str:
    """Store keys: projects scope flags, metrics and groups; environments scope experiments."""
    return "/".join(parts)


# -- lookups ------------------------------------------------------------------------------------


def project(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    found = state["projects"].get(project_key)
    if found is None:
        raise not_found(f"Unknown project '{project_key}'")
    return found


def environment(state: dict[str, Any], project_key: str, env_key: str) -> dict[str, Any]:
    env = project(state, project_key)["environments"].get(env_key)
    if env is None:
        raise not_found(f"Unknown environment '{env_key}' in project '{project_key}'")
    return env


def _scoped_row(state: dict[str, Any], table: str, what: str, project_key: str, key: str) -> dict[str, Any]:
    """A project-scoped record, or LaunchDarkly's 404 naming what was not found."""
    project(state, project_key)
    found = state[table].get(scoped(project_key, key))
    if found is None:
        raise not_found(f"Unknown {what} '{key}' in project '{project_key}'")
    return found


def flag(state: dict[str, Any], project_key: str, flag_key: str) -> dict[str, Any]:
    return _scoped_row(state, "flags", "flag", project_key, flag_key)


def metric(state: dict[str, Any], project_key: str, metric_key: str) -> dict[str, Any]:
    found = _scoped_row(state, "metrics", "metric", project_key, metric_key)
    if found.get("_deleted"):
        raise not_found(f"Unknown metric '{metric_key}' in project '{project_key}'")
    return found


def metric_group(state: dict[str, Any], project_key: str, group_key: str) -> dict[str, Any]:
    found = _scoped_row(state, "metric_groups", "metric group", project_key, group_key)
    if found.get("_deleted"):
        raise not_found(f"Unknown metric group '{group_key}' in project '{project_key}'")
    return found


def live(state: dict[str, Any], table_name: str, project_key: str, key: str) -> dict[str, Any] | None:
    """A metric or group that exists and is not deleted (deleted ones stay for the experiments that used them)."""
    found = state[table_name].get(scoped(project_key, key))
    return None if found is None or found.get("_deleted") else found


def member(state: dict[str, Any], member_id: str) -> dict[str, Any] | None:
    """A member's profile; a member of an older state document without profiles gets a plain one."""
    if member_id not in state["members"]:
        return None
    found = table(state, "member_profiles").get(member_id)
    if found is None:
        found = {"_id": member_id, "email": f"member-{member_id[:6]}@example.com", "role": "writer"}
    return found


def member_summary(profile: dict[str, Any]) -> dict[str, Any]:
    """MemberSummary: who maintains a metric, a group or an experiment."""
    out = {
        "_links": {"self": link(f"/api/v2/members/{profile['_id']}")},
        "_id": profile["_id"],
        "role": profile["role"],
        "email": profile["email"],
    }
    for name in ("firstName", "lastName"):
        if profile.get(name):
            out[name] = profile[name]
    return out


def experiment(state: dict[str, Any], project_key: str, env_key: str, exp_key: str) -> dict[str, Any]:
    environment(state, project_key, env_key)
    found = state["experiments"].get(scoped(project_key, env_key, exp_key))
    if found is None:
        raise not_found(f"Unknown experiment '{exp_key}' in {project_key}/{env_key}")
    return found


# -- shared representations ---------------------------------------------------------------------


def metric_links(project_key: str, key: str) -> dict[str, Any]:
    return {"self": link(f"/api/v2/metrics/{project_key}/{key}")}


def metric_v2(project_key: str, m: dict[str, Any]) -> dict[str, Any]:
    """MetricV2Rep: what iterations show for a single metric."""
    out = {
        "key": m["key"],
        "_versionId": m["_versionId"],
        "name": m["name"],
        "kind": m["kind"],
        "isNumeric": bool(m.get("isNumeric", False)),
    }
    if m.get("eventKey"):
        out["eventKey"] = m["eventKey"]
    out["_links"] = metric_links(project_key, m["key"])
    if m.get("unitAggregationType"):
        out["unitAggregationType"] = m["unitAggregationType"]
    if m.get("analysisType"):
        out["analysisType"] = m["analysisType"]
    return out


def metric_in_group(project_key: str, m: dict[str, Any], name_in_group: str | None = None) -> dict[str, Any]:
    out = metric_v2(project_key, m)
    if name_in_group:
        out["nameInGroup"] = name_in_group
    units = list(m.get("analysisUnits", m.get("randomizationUnits", [])))
    out["randomizationUnits"] = units
    out["analysisUnits"] = units
    return out


def group_metrics(state: dict[str, Any], project_key: str, group: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        metric_in_group(project_key, state["metrics"][scoped(project_key, item["key"])], item.get("nameInGroup"))
        for item in group["metrics"]
    ]


def dependent_metric(state: dict[str, Any], project_key: str, key: str, is_group: bool) -> dict[str, Any]:
    """DependentMetricOrMetricGroupRep: a metric or a metric group, as listed in an iteration."""
    if is_group:
        group = state["metric_groups"][scoped(project_key, key)]
        return {
            "key": key,
            "_versionId": group["_versionId"],
            "name": group["name"],
            "kind": group["kind"],
            "isGroup": True,
            "_links": {"self": link(f"/api/v2/projects/{project_key}/metric-groups/{key}")},
            "metrics": group_metrics(state, project_key, group),
        }
    m = state["metrics"][scoped(project_key, key)]
    out = metric_v2(project_key, m)
    out.pop("unitAggregationType", None)
    out["isGroup"] = False
    return out


def funnel_rep(state: dict[str, Any], project_key: str, key: str) -> dict[str, Any]:
    group = state["metric_groups"][scoped(project_key, key)]
    return {
        "key": key,
        "name": group["name"],
        "kind": group["kind"],
        "_links": {"self": link(f"/api/v2/projects/{project_key}/metric-groups/{key}")},
        "metrics": group_metrics(state, project_key, group),
    }


def variation_index(flag_row: dict[str, Any], variation_id: str) -> int | None:
    for index, variation in enumerate(flag_row["variations"]):
        if variation["_id"] == variation_id:
            return index
    return None


def find_rule(env_config: dict[str, Any], rule_id: str) -> dict[str, Any] | None:
    for rule in env_config.get("rules", []):
        if rule.get("_id") == rule_id:
            return rule
    return None
