"""Projects and environments as LaunchDarkly serves them, and environment settings changed by JSON Patch.

Each environment holds the credentials the SDKs use (``apiKey`` = ``sdk-…``, ``mobileKey`` = ``mob-…``,
the client-side ID is its ``_id``); the REST API refuses all three (see auth). Approval settings are
not part of the mock's accounts, so they cannot be patched.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly import patching
from mockserver.vendors.launchdarkly.errors import conflict, invalid

EXPANDS = ("environments",)
COLOR = re.compile(r"^[0-9a-fA-F]{6}$")
EDITABLE = (
    "name",
    "color",
    "defaultTtl",
    "secureMode",
    "defaultTrackEvents",
    "requireComments",
    "confirmChanges",
    "tags",
    "critical",
)
BOOLEANS = ("secureMode", "defaultTrackEvents", "requireComments", "confirmChanges", "critical")
# What an environment of an older state document (before these settings were kept) reports.
ENV_DEFAULTS: dict[str, Any] = {
    "color": "417505",
    "defaultTtl": 0,
    "secureMode": False,
    "defaultTrackEvents": False,
    "requireComments": False,
    "confirmChanges": False,
    "tags": [],
    "critical": False,
}


def environment_rep(project_key: str, env: dict[str, Any]) -> dict[str, Any]:
    key = env["key"]
    out: dict[str, Any] = {
        "_links": {
            "self": m.link(f"/api/v2/projects/{project_key}/environments/{key}"),
            "parent": m.link(f"/api/v2/projects/{project_key}"),
        },
        "_id": env["_id"],
        "key": key,
        "name": env["name"],
        "apiKey": env.get("apiKey") or f"sdk-{env['_id']}",
        "mobileKey": env.get("mobileKey") or f"mob-{env['_id']}",
    }
    for name, default in ENV_DEFAULTS.items():
        value = env.get(name, default)
        out[name] = list(value) if isinstance(value, list) else value
    return out


def environment(state: dict[str, Any], project_key: str, env_key: str) -> dict[str, Any]:
    return environment_rep(project_key, m.environment(state, project_key, env_key))


def project_rep(state: dict[str, Any], project_key: str, expand: list[str]) -> dict[str, Any]:
    project = m.project(state, project_key)
    out: dict[str, Any] = {
        "_links": {
            "self": m.link(f"/api/v2/projects/{project_key}"),
            "environments": m.link(f"/api/v2/projects/{project_key}/environments"),
        },
        "_id": project["_id"],
        "key": project_key,
        "includeInSnippetByDefault": project.get("includeInSnippetByDefault", False),
        "defaultClientSideAvailability": dict(
            project.get("defaultClientSideAvailability") or {"usingMobileKey": False, "usingEnvironmentId": False}
        ),
        "name": project["name"],
        "tags": list(project.get("tags", [])),
    }
    if "environments" in expand:
        items = [environment_rep(project_key, env) for env in project["environments"].values()]
        out["environments"] = {
            "_links": {"self": m.link(f"/api/v2/projects/{project_key}/environments")},
            "totalCount": len(items),
            "items": items,
        }
    return out


def patch_environment(state: dict[str, Any], project_key: str, env_key: str, body: Any) -> dict[str, Any]:
    """JSON Patch of an environment's settings; a failed ``test`` is a 409, as LaunchDarkly documents here."""
    env = m.environment(state, project_key, env_key)
    for op in patching.operations(body):
        path = op.get("path") if isinstance(op, dict) else None
        if isinstance(path, str) and path.startswith("/approvalSettings"):
            raise invalid("Approvals are not enabled for this account; approvalSettings cannot be changed")
    current = environment_rep(project_key, env)
    current.pop("_links")
    patched = patching.apply(current, body, EDITABLE, "environment", conflict)
    if not isinstance(patched.get("name"), str) or not patched["name"].strip():
        raise invalid("name may not be empty")
    if not isinstance(patched.get("color"), str) or not COLOR.match(patched["color"]):
        raise invalid("color must be six hexadecimal digits, such as 417505")
    if type(patched.get("defaultTtl")) is not int or not 0 <= patched["defaultTtl"] <= 60:
        raise invalid("defaultTtl must be a whole number of minutes from 0 to 60")
    for name in BOOLEANS:
        if not isinstance(patched.get(name), bool):
            raise invalid(f"{name} must be true or false")
    tags = patched.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise invalid("tags must be a list of strings")
    patched["tags"] = sorted(set(tags))
    env.update({name: patched[name] for name in EDITABLE})
    return environment_rep(project_key, env)
