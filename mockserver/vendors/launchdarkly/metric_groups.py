"""Metric groups (beta): standard groups and funnels, created, listed, read, JSON-patched and deleted.

A group holds two or more metrics of its project, each once. A funnel is an ordered list of steps:
every step names itself (``nameInGroup``) and must be a conversion metric (click, page view or a
custom conversion averaged per unit), never a numeric one. Groups cannot hold metrics from another
data source than LaunchDarkly's own. A group a running experiment measures cannot be deleted or have
its metrics changed.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.core.store import next_uuid
from mockserver.vendors.launchdarkly import filters, iterations, patching
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid
from mockserver.vendors.launchdarkly.metrics import DATA_SOURCE, Uses, expand_experiments, running, uses

KINDS = ("funnel", "standard")
EDITABLE = ("name", "description", "tags", "maintainerId", "metrics")
FILTERS = {
    "experimentStatus": ("equals",),
    "hasConnections": ("equals",),
    "kind": ("equals",),
    "maintainerIds": ("anyOf",),
    "maintainerTeamKey": ("equals",),
    "query": ("equals",),
}
SORT_FIELDS = ("name", "createdAt", "connectionCount")
EXPANDS = ("experiments", "experimentCount")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "metric-group"


def _check(state: dict[str, Any], project_key: str, row: dict[str, Any]) -> None:
    if not isinstance(row.get("name"), str) or not row["name"].strip():
        raise invalid("name may not be empty")
    if row.get("kind") not in KINDS:
        raise invalid(f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(row.get("tags"), list) or not all(isinstance(t, str) for t in row["tags"]):
        raise invalid("tags must be a list of strings")
    if not isinstance(row.get("description", ""), str):
        raise invalid("description must be a string")
    if m.member(state, row.get("maintainerId") or "") is None:
        raise invalid(f"maintainerId '{row.get('maintainerId')}' is not a member of this account")
    items = row.get("metrics")
    if not isinstance(items, list) or len(items) < 2:
        raise invalid("A metric group needs two or more metrics")
    seen: set[str] = set()
    for index, item in enumerate(items):
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str):
            raise invalid(f"metrics[{index}] needs key: the key of a metric of this project")
        if key in seen:
            raise invalid(f"Metric '{key}' is listed twice in the group")
        if item.get("nameInGroup") is not None and not isinstance(item["nameInGroup"], str):
            raise invalid(f"metrics[{index}].nameInGroup must be a string")
        seen.add(key)
        metric = m.live(state, "metrics", project_key, key)
        if metric is None:
            raise invalid(f"metrics[{index}]: unknown metric '{key}' in project '{project_key}'")
        if (metric.get("dataSource") or DATA_SOURCE)["key"] != DATA_SOURCE["key"]:
            raise invalid(f"metrics[{index}]: metric '{key}' comes from a warehouse; groups take LaunchDarkly metrics")
        if row["kind"] != "funnel":
            continue
        if not (isinstance(item.get("nameInGroup"), str) and item["nameInGroup"].strip()):
            raise invalid(f"metrics[{index}]: every step of a funnel needs nameInGroup")
        if metric.get("isNumeric"):
            raise invalid(f"metrics[{index}]: '{key}' is a numeric metric; funnel steps must be conversion metrics")
        if metric.get("analysisType") == "percentile":
            raise invalid(f"metrics[{index}]: funnel steps must be analysed by average, not percentile")


def create(state: dict[str, Any], project_key: str, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    m.project(state, project_key)
    key = body.get("key") or _slug(body["name"])
    if not m.KEY.match(key):
        raise invalid(f"Invalid metric group key '{key}'; use letters, digits, '.', '_' and '-'")
    if m.live(state, "metric_groups", project_key, key) is not None:
        raise invalid(f"A metric group with key '{key}' already exists in project '{project_key}'")
    row = {
        "_id": m.hex_id(state),
        "key": key,
        "name": body["name"],
        "kind": body["kind"],
        "description": body.get("description", ""),
        "tags": list(dict.fromkeys(body["tags"])),
        "maintainerId": body["maintainerId"],
        "metrics": [_item(i) for i in body["metrics"]],
        "_creationDate": now_ms,
        "_lastModified": now_ms,
        "_version": 1,
        "_versionId": next_uuid(state),
    }
    _check(state, project_key, row)
    state["metric_groups"][m.scoped(project_key, key)] = row
    return row


def _item(item: dict[str, Any]) -> dict[str, Any]:
    out = {"key": item["key"]}
    if item.get("nameInGroup") is not None:
        out["nameInGroup"] = item["nameInGroup"]
    return out


def document(row: dict[str, Any]) -> dict[str, Any]:
    """What a JSON Patch of a group applies to (and may ``test``)."""
    return {
        "key": row["key"],
        "name": row["name"],
        "kind": row["kind"],
        "description": row.get("description", ""),
        "tags": list(row.get("tags", [])),
        "maintainerId": row.get("maintainerId"),
        "metrics": [_item(i) for i in row["metrics"]],
        "_version": row.get("_version", 1),
    }


def patch(state: dict[str, Any], project_key: str, row: dict[str, Any], body: Any, now_ms: int) -> dict[str, Any]:
    before = document(row)
    patched = patching.apply(before, body, EDITABLE, "metric group", invalid)
    patched.setdefault("description", "")  # removed: empty, as a group created without one
    if patched.get("metrics") != before["metrics"]:
        live = sorted(e["key"] for e in uses(state, project_key, row["key"], is_group=True) if running(e))
        if live:
            raise invalid(
                f"Metric group '{row['key']}' is measured by running experiment(s) {', '.join(live)}; "
                "its metrics cannot change until they stop"
            )
        if not isinstance(patched.get("metrics"), list) or not all(isinstance(i, dict) for i in patched["metrics"]):
            raise invalid("metrics must be a list of {key, nameInGroup}")
    patched["kind"] = row["kind"]
    _check(state, project_key, patched)
    row.update({k: patched[k] for k in EDITABLE})
    row["metrics"] = [_item(i) for i in patched["metrics"]]
    row.update(_version=row.get("_version", 1) + 1, _versionId=next_uuid(state), _lastModified=now_ms)
    return row


def delete(state: dict[str, Any], project_key: str, key: str) -> None:
    row = m.metric_group(state, project_key, key)
    users = list(uses(state, project_key, key, is_group=True))
    live = sorted(e["key"] for e in users if running(e))
    if live:
        raise invalid(
            f"Metric group '{key}' is used by running experiment(s) {', '.join(live)}; "
            "stop them (stopIteration) before deleting the group"
        )
    if users:
        row["_deleted"] = True  # kept for the experiments that measured it
    else:
        del state["metric_groups"][m.scoped(project_key, key)]


def rep(
    state: dict[str, Any], project_key: str, row: dict[str, Any], expand: list[str] = (), index: Uses | None = None
) -> dict[str, Any]:
    """``index``: ``metrics.uses_index`` of the project, when many groups are rendered."""
    key = row["key"]
    maintainer_id = row.get("maintainerId") or state["members"][0]
    maintainer: dict[str, Any] = {"key": maintainer_id, "kind": "member"}
    profile = m.member(state, maintainer_id)
    if profile is not None:
        maintainer["_member"] = m.member_summary(profile)
    out: dict[str, Any] = {
        "_id": row.get("_id") or row["_versionId"].replace("-", "")[:24],
        "key": key,
        "name": row["name"],
        "kind": row["kind"],
        "description": row.get("description", ""),
        "_links": {
            "parent": m.link(f"/api/v2/projects/{project_key}/metric-groups"),
            "self": m.link(f"/api/v2/projects/{project_key}/metric-groups/{key}"),
        },
        "tags": list(row.get("tags", [])),
        "_creationDate": row.get("_creationDate", 0),
        "_lastModified": row.get("_lastModified", row.get("_creationDate", 0)),
        "maintainer": maintainer,
        "metrics": m.group_metrics(state, project_key, row),
        "_version": row.get("_version", 1),
    }
    if expand:
        expand_experiments(state, project_key, key, out, expand, is_group=True, index=index)
    return out


def _statuses(state: dict[str, Any], project_key: str, key: str) -> list[str]:
    out = []
    for exp in uses(state, project_key, key, is_group=True):
        current = iterations.current_of(exp)
        if current is not None:
            out.append(current["status"])
            if current["status"] in ("running", "stopped"):
                out.append("started")
    return out


def _holds(state: dict[str, Any], project_key: str, row: dict[str, Any], cond: filters.Condition) -> bool:
    if cond.field == "query":
        return filters.fuzzy(cond.values, row["key"], row["name"])
    if cond.field == "maintainerTeamKey":
        return False
    if cond.field == "experimentStatus":
        return filters.test("anyOf", _statuses(state, project_key, row["key"]), cond.values)
    if cond.field == "hasConnections":
        connected = any(True for _ in uses(state, project_key, row["key"], is_group=True))
        return filters.test("equals", connected, cond.values)
    actual = row.get("maintainerId") if cond.field == "maintainerIds" else row.get(cond.field)
    return filters.test(cond.op, actual, cond.values)


def listing(state: dict[str, Any], project_key: str, raw_filter: str | None, sort: str | None) -> list[dict]:
    m.project(state, project_key)
    conditions = filters.parse(raw_filter, FILTERS)
    rows = [
        row
        for k, row in state["metric_groups"].items()
        if k.startswith(f"{project_key}/")
        and not row.get("_deleted")
        and all(_holds(state, project_key, row, c) for c in conditions)
    ]
    rows.sort(key=lambda r: r["key"])
    for field in reversed([f.strip() for f in (sort or "").split(",") if f.strip()]):
        name = field.lstrip("-")
        if name not in SORT_FIELDS:
            raise invalid(f"Unsupported sort field '{name}'; use {', '.join(SORT_FIELDS)} (prefix - to reverse)")
        if name == "name":
            rows.sort(key=lambda r: r["name"].lower(), reverse=field.startswith("-"))
        elif name == "createdAt":
            rows.sort(key=lambda r: r.get("_creationDate", 0), reverse=field.startswith("-"))
        else:
            rows.sort(
                key=lambda r: sum(1 for _ in uses(state, project_key, r["key"], is_group=True)),
                reverse=field.startswith("-"),
            )
    return rows
