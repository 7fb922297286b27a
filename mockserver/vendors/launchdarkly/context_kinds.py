"""Context kinds: the kinds of context a project knows (user, organization, device…).

Randomization units (experimentation settings, iterations, holdouts) and metric analysis units must
name a context kind of the project that is not archived.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid

KEY = re.compile(r"^[a-zA-Z0-9._-]+$")
RESERVED = ("kind", "multi")
TABLE = "context_kinds"


def table(state: dict[str, Any]) -> dict[str, Any]:
    """The context kinds; a state document from before they were kept gets its randomization units as kinds."""
    if TABLE not in state:
        found: dict[str, Any] = {}
        for project_key, settings in state["settings"].items():
            created = settings.get("_creationDate", 0)
            for unit in settings["randomizationUnits"]:
                key = unit["randomizationUnit"]
                found[m.scoped(project_key, key)] = {
                    "key": key,
                    "projectKey": project_key,
                    "name": unit.get("_displayName") or key.capitalize(),
                    "description": "",
                    "version": 1,
                    "creationDate": created,
                    "lastModified": created,
                    "createdFrom": "default" if key == "user" else "manual",
                    "archived": False,
                }
        state[TABLE] = found
    return state[TABLE]


def rows(state: dict[str, Any], project_key: str) -> list[dict[str, Any]]:
    return sorted((row for row in table(state).values() if row["projectKey"] == project_key), key=lambda r: r["key"])


def usable(state: dict[str, Any], project_key: str) -> list[str]:
    return [row["key"] for row in rows(state, project_key) if not row.get("archived")]


def check_units(state: dict[str, Any], project_key: str, units: list[str], what: str) -> None:
    """Every unit names a context kind of the project that is not archived, or a 400 says which does not."""
    known = usable(state, project_key)
    for unit in units:
        if unit not in known:
            raise invalid(
                f"{what} '{unit}' is not a context kind of project '{project_key}' "
                f"(available: {', '.join(known) or 'none'}); create it with PUT .../context-kinds/{unit}"
            )


def rep(project_key: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "key": row["key"],
        "name": row["name"],
        "description": row.get("description", ""),
        "version": row["version"],
        "creationDate": row["creationDate"],
        "lastModified": row["lastModified"],
        "createdFrom": row["createdFrom"],
        "hideInTargeting": bool(row.get("archived")),
        "archived": bool(row.get("archived")),
        "_links": {
            "self": m.link(f"/api/v2/projects/{project_key}/context-kinds/{row['key']}"),
            "parent": m.link(f"/api/v2/projects/{project_key}"),
        },
    }
    if row.get("lastSeen") is not None:
        out["lastSeen"] = row["lastSeen"]
    return out


def collection(state: dict[str, Any], project_key: str) -> dict[str, Any]:
    m.project(state, project_key)
    return {
        "items": [rep(project_key, row) for row in rows(state, project_key)],
        "_links": {"self": m.link(f"/api/v2/projects/{project_key}/context-kinds")},
    }


def upsert(state: dict[str, Any], project_key: str, key: str, body: dict[str, Any], now_ms: int) -> str:
    """Create or update (only the fields sent change); answers 'created' or 'updated'."""
    m.project(state, project_key)
    if not KEY.match(key) or key in RESERVED:
        raise invalid(f"Invalid context kind key '{key}'; use letters, digits, '.', '_' and '-' (not kind or multi)")
    name = body["name"]
    if not name.strip():
        raise invalid("name may not be empty")
    archived = body.get("archived")
    hidden = body.get("hideInTargeting")
    if archived is not None and hidden is not None and archived != hidden:
        raise invalid("hideInTargeting is an alias for archived; send the same value for both, or only one")
    archived = archived if archived is not None else hidden
    stored = table(state).get(m.scoped(project_key, key))
    version = body.get("version")
    if version is not None and version < 1:
        raise invalid("version must be at least 1")
    if stored is not None and version is not None and version <= stored["version"]:
        raise invalid(f"version must be greater than the context kind's current version {stored['version']}")
    if archived and stored is not None and not stored.get("archived"):
        units = [u["randomizationUnit"] for u in state["settings"][project_key]["randomizationUnits"]]
        if key in units:
            raise invalid(
                f"Context kind '{key}' is a randomization unit in the experimentation settings; "
                "remove it there before archiving it"
            )
    if stored is None:
        table(state)[m.scoped(project_key, key)] = {
            "key": key,
            "projectKey": project_key,
            "name": name,
            "description": body.get("description", ""),
            "version": version or 1,
            "creationDate": now_ms,
            "lastModified": now_ms,
            "createdFrom": "manual",
            "archived": bool(archived),
        }
        return "created"
    stored["name"] = name
    if body.get("description") is not None:
        stored["description"] = body["description"]
    if archived is not None:
        stored["archived"] = archived
    stored["version"] = version or stored["version"] + 1
    stored["lastModified"] = now_ms
    return "updated"
