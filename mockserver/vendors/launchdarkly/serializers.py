"""How flags and flag statuses read over the API: FeatureFlag, FeatureFlagConfig, FlagSummary, FlagStatusRep.

The stored flag keeps a few facts the API never shows as such (``projectKey``, the per-environment
``_requests`` record of SDK evaluations); everything a client sees is picked here, field by field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.vendors.launchdarkly import models as m

# FeatureFlag fields in the order LaunchDarkly lists them; absent optional fields stay absent.
FLAG_FIELDS = (
    "name",
    "kind",
    "description",
    "key",
    "_version",
    "creationDate",
    "includeInSnippet",
    "clientSideAvailability",
    "variations",
    "temporary",
    "tags",
    "maintainerId",
    "maintainerTeamKey",
    "goalIds",
    "experiments",
    "customProperties",
    "archived",
    "archivedDate",
    "deprecated",
    "deprecatedDate",
    "defaults",
    "_purpose",
)
CONFIG_FIELDS = (
    "on",
    "archived",
    "salt",
    "sel",
    "lastModified",
    "version",
    "targets",
    "contextTargets",
    "rules",
    "fallthrough",
    "offVariation",
    "prerequisites",
    "_site",
    "_environmentName",
    "trackEvents",
    "trackEventsFallthrough",
    "_debugEventsUntilDate",
)
# What a summary leaves out of each environment (the list's default): the targeting lists.
SUMMARISED = ("targets", "contextTargets", "rules", "prerequisites")
EXPANDS = ("codeReferences", "evaluation", "migrationSettings")


def metric_listing(project_key: str, metric: dict[str, Any]) -> dict[str, Any]:
    """MetricListingRep, as a legacy experiment shows its metric."""
    out = {
        "_id": metric["_id"],
        "_versionId": metric["_versionId"],
        "key": metric["key"],
        "name": metric["name"],
        "kind": metric["kind"],
        "_links": m.metric_links(project_key, metric["key"]),
        "tags": list(metric["tags"]),
        "_creationDate": metric["_creationDate"],
        "isNumeric": bool(metric.get("isNumeric", False)),
        "eventKey": metric.get("eventKey"),
        "dataSource": {"key": "launchdarkly", "_name": "LaunchDarkly"},
    }
    if out["eventKey"] is None:  # page-view and click metrics have none
        out.pop("eventKey")
    return out


def flag_links(project_key: str, flag_key: str) -> dict[str, Any]:
    return {
        "parent": m.link(f"/api/v2/flags/{project_key}"),
        "self": m.link(f"/api/v2/flags/{project_key}/{flag_key}"),
    }


def flag(
    state: dict[str, Any],
    row: dict[str, Any],
    envs: Iterable[str] | None = None,
    *,
    summary: bool = False,
    expand: Iterable[str] = (),
) -> dict[str, Any]:
    """FeatureFlag; ``envs`` limits the environments shown (None shows all, an empty list none)."""
    project_key = row["projectKey"]
    expand = set(expand)
    out: dict[str, Any] = {}
    for name in FLAG_FIELDS:
        if name in row and row[name] is not None:
            out[name] = copy.deepcopy(row[name])
    out["_links"] = flag_links(project_key, row["key"])
    if row.get("_purpose") == "migration" and "migrationSettings" in expand and row.get("migrationSettings"):
        out["migrationSettings"] = dict(row["migrationSettings"])
    for item in out.get("experiments", {}).get("items", []):
        metric = state["metrics"].get(m.scoped(project_key, item["metricKey"]))
        if metric is not None:
            item["_metric"] = metric_listing(project_key, metric)
    wanted = None if envs is None else set(envs)
    if wanted is None or wanted:
        out["environments"] = {
            env_key: config(row, cfg, summary=summary, expand=expand)
            for env_key, cfg in row["environments"].items()
            if wanted is None or env_key in wanted
        }
    return out


def config(row: dict[str, Any], cfg: dict[str, Any], *, summary: bool = False, expand: Iterable[str] = ()) -> dict:
    """FeatureFlagConfig: one environment's targeting; a summary swaps the lists for ``_summary``."""
    out: dict[str, Any] = {}
    for name in CONFIG_FIELDS:
        if name in cfg and cfg[name] is not None and not (summary and name in SUMMARISED):
            out[name] = copy.deepcopy(cfg[name])
    if summary:
        out["_summary"] = flag_summary(row, cfg)
    if "evaluation" in expand:
        kinds = (cfg.get("_requests") or {}).get("contextKinds") or []
        out["evaluation"] = {"contextKinds": list(kinds)}
    return out


def flag_summary(row: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    """FlagSummary: per variation index, how many rules and targets serve it, and the prerequisite count."""
    fallthrough = cfg.get("fallthrough") or {}
    rollout = fallthrough.get("rollout") or {}
    weights = {w["variation"]: w["weight"] for w in rollout.get("variations", [])}
    variations: dict[str, Any] = {}
    for index in range(len(row["variations"])):
        serving = [r for r in cfg.get("rules", []) if r.get("variation") == index]
        entry: dict[str, Any] = {
            "rules": len(serving),
            "nullRules": sum(1 for r in serving if not r.get("clauses")),
            "targets": sum(len(t["values"]) for t in cfg.get("targets", []) if t["variation"] == index),
            "contextTargets": sum(len(t["values"]) for t in cfg.get("contextTargets", []) if t["variation"] == index),
        }
        if fallthrough.get("variation") == index:
            entry["isFallthrough"] = True
        if cfg.get("offVariation") == index:
            entry["isOff"] = True
        if index in weights:
            entry["rollout"] = weights[index]
            if rollout.get("bucketBy"):
                entry["bucketBy"] = rollout["bucketBy"]
        variations[str(index)] = entry
    return {"variations": variations, "prerequisites": len(cfg.get("prerequisites", []))}


# -- statuses -----------------------------------------------------------------------------------


def _instant(ms: int) -> str:
    return iso(datetime.fromtimestamp(ms / 1000, tz=UTC))


def status_fields(found: dict[str, Any]) -> dict[str, Any]:
    """FeatureFlagStatus from what flag_status worked out: name, and when and what code last asked."""
    out: dict[str, Any] = {"name": found["name"]}
    if found.get("lastRequested") is not None:
        out["lastRequested"] = _instant(found["lastRequested"])
    if "default" in found:
        out["default"] = copy.deepcopy(found["default"])
    return out


def flag_status(project_key: str, env_key: str, flag_key: str, found: dict[str, Any]) -> dict[str, Any]:
    """FlagStatusRep: one flag in one environment."""
    out = status_fields(found)
    out["_links"] = {
        "parent": m.link(f"/api/v2/flag-statuses/{project_key}/{env_key}"),
        "self": m.link(f"/api/v2/flag-statuses/{project_key}/{env_key}/{flag_key}"),
    }
    return out


def status_across(project_key: str, flag_key: str, by_env: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """FeatureFlagStatusAcrossEnvironments."""
    return {
        "environments": {env_key: status_fields(found) for env_key, found in by_env.items()},
        "key": flag_key,
        "_links": {"self": m.link(f"/api/v2/flag-status/{project_key}/{flag_key}")},
    }


def statuses(project_key: str, env_key: str, found: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """FeatureFlagStatuses: every flag of the project in one environment."""
    return {
        "_links": {"self": m.link(f"/api/v2/flag-statuses/{project_key}/{env_key}")},
        "items": [flag_status(project_key, env_key, key, status) for key, status in found],
    }
