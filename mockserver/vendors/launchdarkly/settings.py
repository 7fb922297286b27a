"""Experimentation settings: a project's randomization units (one of them the default).

Each unit must be a context kind of the project that is not archived (see context_kinds).
"""

from __future__ import annotations

from typing import Any

from mockserver.vendors.launchdarkly import context_kinds
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid


def rep(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    project = m.project(state, project_key)
    stored = state["settings"][project_key]
    return {
        "_projectId": project["_id"],
        "_projectKey": project_key,
        "randomizationUnits": [dict(u) for u in stored["randomizationUnits"]],
        "_creationDate": stored["_creationDate"],
        "_links": {"self": m.link(f"/api/v2/projects/{project_key}/experimentation-settings")},
    }


def replace(state: dict[str, Any], project_key: str, body: dict[str, Any]) -> None:
    m.project(state, project_key)
    units = body["randomizationUnits"]
    seen: set[str] = set()
    rows = []
    kinds = {row["key"]: row for row in context_kinds.rows(state, project_key)}
    for item in units:
        unit = item["randomizationUnit"]
        context_kinds.check_units(state, project_key, [unit], "randomizationUnit")
        if unit in seen:
            raise invalid(f"randomizationUnit '{unit}' is listed twice")
        seen.add(unit)
        rows.append(
            {
                "randomizationUnit": unit,
                "default": bool(item.get("default", False)),
                "_hidden": False,
                "_displayName": kinds[unit]["name"],
            }
        )
    if sum(r["default"] for r in rows) > 1:
        raise invalid("Only one randomization unit can be the default")
    state["settings"][project_key]["randomizationUnits"] = rows
