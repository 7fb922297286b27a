"""Legacy (flag-scoped) experiments: the flag's ``experiments`` member, its recording periods and results.

They are managed by patching the flag; this module keeps what a patch must check and record for
them, and serves the legacy results and reset endpoints.
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly import results
from mockserver.vendors.launchdarkly.errors import invalid, not_found

ITEM_FIELDS = ("metricKey", "environments", "_environmentSettings", "_metric")


def check(state: dict[str, Any], project_key: str, doc: dict[str, Any]) -> None:
    """The rules a flag's legacy experiments must satisfy after any change."""
    count = len(doc["variations"])
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


def record_periods(before: dict[str, Any], doc: dict[str, Any], now_ms: int) -> None:
    """Adding an environment starts recording there, removing it stops recording."""
    previous = {item["metricKey"]: item for item in before["experiments"]["items"]}
    for item in doc["experiments"]["items"]:
        old = previous.get(item["metricKey"], {})
        settings = copy.deepcopy(old.get("_environmentSettings", {}))
        old_envs, new_envs = set(old.get("environments", [])), set(item.get("environments", []))
        for env_key in sorted(new_envs - old_envs):
            entry = settings.setdefault(env_key, {"enabledPeriods": []})
            entry["startDate"] = entry.get("startDate", now_ms)
            entry.pop("stopDate", None)
            entry["enabledPeriods"].append({"startDate": now_ms})
        for env_key in sorted(old_envs - new_envs):
            entry = settings.setdefault(env_key, {"enabledPeriods": [{"startDate": now_ms}]})
            entry["stopDate"] = now_ms
            if entry["enabledPeriods"]:
                entry["enabledPeriods"][-1]["stopDate"] = now_ms
        for key in list(item):
            if key not in ITEM_FIELDS:
                item.pop(key)
        item["environments"] = list(item.get("environments", []))
        item["_environmentSettings"] = settings
        item.pop("_metric", None)


# -- results ------------------------------------------------------------------------------------


def item_of(state: dict[str, Any], project_key: str, flag_key: str, env_key: str, metric_key: str):
    row = m.flag(state, project_key, flag_key)
    m.environment(state, project_key, env_key)
    metric = m.metric(state, project_key, metric_key)
    item = next((i for i in row["experiments"]["items"] if i["metricKey"] == metric_key), None)
    if item is None:
        raise not_found(f"Flag '{flag_key}' has no legacy experiment on metric '{metric_key}'")
    return row, metric, item


def results_of(state: dict[str, Any], path: dict[str, str], query: dict[str, Any], now_ms: int) -> dict:
    project_key, flag_key = path["projectKey"], path["featureFlagKey"]
    env_key, metric_key = path["environmentKey"], path["metricKey"]
    row, metric, item = item_of(state, project_key, flag_key, env_key, metric_key)
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


def reset(state: dict[str, Any], path: dict[str, str], now_ms: int) -> None:
    project_key, flag_key = path["projectKey"], path["featureFlagKey"]
    env_key, metric_key = path["environmentKey"], path["metricKey"]
    item_of(state, project_key, flag_key, env_key, metric_key)
    state["legacy_resets"][m.scoped(project_key, flag_key, env_key, metric_key)] = now_ms


def forget(state: dict[str, Any], project_key: str, flag_key: str) -> None:
    """A deleted flag takes its legacy result resets with it."""
    prefix = m.scoped(project_key, flag_key) + "/"
    for key in [k for k in state["legacy_resets"] if k.startswith(prefix)]:
        del state["legacy_resets"][key]
