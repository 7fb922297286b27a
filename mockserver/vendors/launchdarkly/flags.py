"""Feature flags as far as experiments need them: GET, JSON Patch, and legacy experiments.

Legacy experiments live on the flag (``experiments.items``) and are managed with JSON Patch
(RFC 6902, applied by the ``jsonpatch`` library); a malformed patch is 400, a patch whose
pointers or tests fail is 422, and a result that breaks a flag rule is 400.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonpatch
import jsonpointer

from mockserver.core.contract import shared_contract
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly import results
from mockserver.vendors.launchdarkly.errors import invalid, not_found, patch_failed

INTERNAL = ("projectKey",)
PATCHABLE = (
    re.compile(r"^/(name|description|tags|temporary|archived|deprecated|experiments|customProperties)(/|$)"),
    re.compile(
        r"^/environments/[^/]+/(on|fallthrough|offVariation|rules|targets|trackEvents|trackEventsFallthrough)"
        r"(/|$)"
    ),
)
LEGACY_ITEM_FIELDS = ("metricKey", "environments", "_environmentSettings", "_metric")


def metric_listing(state: dict[str, Any], project_key: str, metric: dict[str, Any]) -> dict[str, Any]:
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


def rep(state: dict[str, Any], row: dict[str, Any], env: str | None = None) -> dict[str, Any]:
    project_key = row["projectKey"]
    out = {k: copy.deepcopy(v) for k, v in row.items() if k not in INTERNAL}
    out["_links"] = {
        "parent": m.link(f"/api/v2/flags/{project_key}"),
        "self": m.link(f"/api/v2/flags/{project_key}/{row['key']}"),
    }
    if env is not None:
        out["environments"] = {k: v for k, v in out["environments"].items() if k == env}
    for item in out["experiments"]["items"]:
        metric = state["metrics"].get(m.scoped(project_key, item["metricKey"]))
        if metric is not None:
            item["_metric"] = metric_listing(state, project_key, metric)
    return out


def _operations(body: Any) -> list[Any]:
    ops = body["patch"] if isinstance(body, dict) else body
    if not ops:
        raise invalid("The patch is empty; send at least one operation")
    for index, op in enumerate(ops):
        if op.get("op") not in ("add", "remove", "replace", "move", "copy", "test"):
            raise invalid(f"patch[{index}]: unknown op {op.get('op')!r}; use add, remove, replace, move, copy or test")
        if op["op"] == "test":
            continue
        for pointer in (op["path"], op.get("from")):
            if pointer is not None and not any(rx.match(pointer) for rx in PATCHABLE):
                raise invalid(f"patch[{index}]: path {pointer!r} cannot be changed through this mock")
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise invalid(f"patch[{index}]: op '{op['op']}' needs a value")
        if op["op"] in ("move", "copy") and "from" not in op:
            raise invalid(f"patch[{index}]: op '{op['op']}' needs from")
    return ops


def _check(state: dict[str, Any], project_key: str, before: dict[str, Any], doc: dict[str, Any]) -> None:
    """Rules a patched flag must still satisfy; the message says which one broke."""
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise invalid("name must be a non-empty string")
    if not isinstance(doc.get("tags"), list) or not all(isinstance(t, str) for t in doc["tags"]):
        raise invalid("tags must be a list of strings")
    for flag_field in ("temporary", "archived", "deprecated"):
        if not isinstance(doc.get(flag_field), bool):
            raise invalid(f"{flag_field} must be true or false")
    if not isinstance(doc.get("description", ""), str):
        raise invalid("description must be a string")
    if set(doc.get("environments", {})) != set(before["environments"]):
        raise invalid("environments cannot be added or removed through a flag patch")
    count = len(doc["variations"])
    for env_key, config in doc["environments"].items():
        if not isinstance(config.get("on"), bool):
            raise invalid(f"environments.{env_key}.on must be true or false")
        fallthrough = config.get("fallthrough")
        if not isinstance(fallthrough, dict) or (
            "variation" in fallthrough
            and not (type(fallthrough["variation"]) is int and 0 <= fallthrough["variation"] < count)
        ):
            raise invalid(f"environments.{env_key}.fallthrough.variation must be a variation index below {count}")
        if not isinstance(config.get("rules"), list) or not all(isinstance(r, dict) for r in config["rules"]):
            raise invalid(f"environments.{env_key}.rules must be a list of rule objects")
        for index, rule in enumerate(config["rules"]):
            if "variation" in rule and not (type(rule["variation"]) is int and 0 <= rule["variation"] < count):
                raise invalid(f"environments.{env_key}.rules[{index}].variation must be a variation index < {count}")
    experiments = doc.get("experiments")
    if not isinstance(experiments, dict) or not isinstance(experiments.get("items"), list):
        raise invalid("experiments must be an object with baselineIdx and items")
    baseline = experiments.get("baselineIdx")
    if type(baseline) is not int or not 0 <= baseline < count:
        raise invalid(f"experiments.baselineIdx must be a variation index from 0 to {count - 1}")
    seen: set[str] = set()
    env_keys = set(state["projects"][project_key]["environments"])
    for index, item in enumerate(experiments["items"]):
        if not isinstance(item, dict) or not isinstance(item.get("metricKey"), str):
            raise invalid(f"experiments.items[{index}] needs metricKey (a string)")
        if m.scoped(project_key, item["metricKey"]) not in state["metrics"]:
            raise invalid(f"experiments.items[{index}]: unknown metric '{item['metricKey']}'")
        if item["metricKey"] in seen:
            raise invalid(f"experiments.items[{index}]: metric '{item['metricKey']}' already has an experiment")
        seen.add(item["metricKey"])
        envs = item.get("environments", [])
        if not isinstance(envs, list) or not all(isinstance(e, str) for e in envs):
            raise invalid(f"experiments.items[{index}].environments must be a list of environment keys")
        for env_key in envs:
            if env_key not in env_keys:
                raise invalid(f"experiments.items[{index}].environments: unknown environment '{env_key}'")
        if len(set(envs)) != len(envs):
            raise invalid(f"experiments.items[{index}].environments lists an environment twice")


def _record_periods(before: dict[str, Any], doc: dict[str, Any], now_ms: int) -> None:
    """Adding an environment starts recording there, removing it stops recording."""
    previous = {item["metricKey"]: item for item in before["experiments"]["items"]}
    for item in doc["experiments"]["items"]:
        old = previous.get(item["metricKey"], {})
        settings = copy.deepcopy(old.get("_environmentSettings", {}))
        old_envs, new_envs = set(old.get("environments", [])), set(item.get("environments", []))
        for env_key in new_envs - old_envs:
            entry = settings.setdefault(env_key, {"enabledPeriods": []})
            entry["startDate"] = entry.get("startDate", now_ms)
            entry.pop("stopDate", None)
            entry["enabledPeriods"].append({"startDate": now_ms})
        for env_key in old_envs - new_envs:
            entry = settings.setdefault(env_key, {"enabledPeriods": [{"startDate": now_ms}]})
            entry["stopDate"] = now_ms
            if entry["enabledPeriods"]:
                entry["enabledPeriods"][-1]["stopDate"] = now_ms
        for key in list(item):
            if key not in LEGACY_ITEM_FIELDS:
                item.pop(key)
        item["environments"] = list(item.get("environments", []))
        item["_environmentSettings"] = settings
        item.pop("_metric", None)


def patch(state: dict[str, Any], row: dict[str, Any], body: Any, now_ms: int) -> dict[str, Any]:
    ops = _operations(body)
    before = {k: v for k, v in row.items() if k not in INTERNAL}
    try:
        doc = jsonpatch.JsonPatch(ops).apply(copy.deepcopy(before))
    except jsonpatch.InvalidJsonPatch as exc:
        raise invalid(f"Invalid JSON Patch: {exc}") from None
    except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPatchTestFailed, jsonpointer.JsonPointerException) as exc:
        raise patch_failed(f"Unprocessable entity. Could not apply patch: {exc}") from None
    if not isinstance(doc, dict):
        raise invalid("The patch must leave the flag an object")
    for fixed in ("key", "kind", "variations", "creationDate", "_version"):
        doc[fixed] = before.get(fixed)
    _check(state, row["projectKey"], before, doc)
    _record_periods(before, doc, now_ms)
    for env_key, config in doc["environments"].items():
        if config != before["environments"][env_key]:
            config["version"] = before["environments"][env_key]["version"] + 1
            config["lastModified"] = now_ms
    doc["_version"] = before["_version"] + 1
    project_key = row["projectKey"]
    candidate = dict(doc, projectKey=project_key)
    _check_shape(state, candidate)
    row.clear()
    row.update(candidate)
    return row


def _check_shape(state: dict[str, Any], candidate: dict[str, Any]) -> None:
    """The rules above cover what experiments read; the contract covers the rest of the flag.

    A patch that would leave a flag the API could no longer describe (a string where targets go, a
    rule without a variation…) is refused before anything is stored.
    """
    problems = shared_contract("launchdarkly").response_problems(
        "getFeatureFlag", 200, "application/json", rep(state, candidate)
    )
    if problems:
        raise invalid(f"The patched flag is not a valid flag: {problems[0]}")


# -- legacy results -----------------------------------------------------------------------------


def legacy_item(state: dict[str, Any], project_key: str, flag_key: str, env_key: str, metric_key: str):
    row = m.flag(state, project_key, flag_key)
    m.environment(state, project_key, env_key)
    metric = m.metric(state, project_key, metric_key)
    item = next((i for i in row["experiments"]["items"] if i["metricKey"] == metric_key), None)
    if item is None:
        raise not_found(f"Flag '{flag_key}' has no legacy experiment on metric '{metric_key}'")
    return row, metric, item


def legacy_results(state: dict[str, Any], path: dict[str, str], query: dict[str, Any], now_ms: int) -> dict:
    project_key, flag_key = path["projectKey"], path["featureFlagKey"]
    env_key, metric_key = path["environmentKey"], path["metricKey"]
    row, metric, item = legacy_item(state, project_key, flag_key, env_key, metric_key)
    lower, upper = query.get("from"), query.get("to")
    if lower is not None and upper is not None and lower > upper:
        raise invalid("from must not be later than to")
    settings = item.get("_environmentSettings", {}).get(env_key)
    window = None
    if settings and settings.get("startDate") is not None:
        start = settings["startDate"]
        end = now_ms if env_key in item["environments"] else settings.get("stopDate", now_ms)
        start = max(start, state["legacy_resets"].get(m.scoped(project_key, flag_key, env_key, metric_key), start))
        if lower is not None:
            start = max(start, lower)
        if upper is not None:
            end = min(end, upper)
        window = (start, min(end, now_ms))
    href = f"/api/v2/flags/{project_key}/{flag_key}/experiments/{env_key}/{metric_key}"
    return results.legacy(state, row, metric, env_key, window, row["experiments"]["baselineIdx"], href)


def reset_legacy(state: dict[str, Any], path: dict[str, str], now_ms: int) -> None:
    project_key, flag_key = path["projectKey"], path["featureFlagKey"]
    env_key, metric_key = path["environmentKey"], path["metricKey"]
    legacy_item(state, project_key, flag_key, env_key, metric_key)
    state["legacy_resets"][m.scoped(project_key, flag_key, env_key, metric_key)] = now_ms
