"""What depends on a flag: other flags (prerequisites) and experiments (treatments, rules, traffic).

A change or a deletion that would pull something out from under a dependent is refused here,
before anything is written. Variations are referred to by index in targeting but by ``_id`` in
experiments, so a change that reorders or removes variations is followed by index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mockserver.vendors.launchdarkly import iterations
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import conflict, in_use, invalid

LIVE_STATUSES = ("running", "not_started")


def reaches(state: dict[str, Any], project_key: str, env_key: str, start_key: str, target_key: str) -> bool:
    """Whether flag ``start_key`` depends, through prerequisites in one environment, on ``target_key``."""
    seen: set[str] = set()
    pending = [start_key]
    while pending:
        key = pending.pop()
        if key == target_key:
            return True
        if key in seen:
            continue
        seen.add(key)
        row = state["flags"].get(m.scoped(project_key, key))
        config = (row or {}).get("environments", {}).get(env_key) or {}
        pending.extend(p["key"] for p in config.get("prerequisites", []) if isinstance(p, dict) and "key" in p)
    return False


def prerequisite_of(state: dict[str, Any], project_key: str, flag_key: str) -> Iterator[tuple[str, str, int]]:
    """(dependent flag key, environment key, variation index) for every prerequisite on this flag."""
    for row in state["flags"].values():
        if row["projectKey"] != project_key or row["key"] == flag_key:
            continue
        for env_key, config in row["environments"].items():
            for prerequisite in config.get("prerequisites", []):
                if prerequisite.get("key") == flag_key:
                    yield row["key"], env_key, prerequisite["variation"]


def live_iterations(state: dict[str, Any], project_key: str, flag_key: str | None) -> Iterator[tuple[dict, dict]]:
    """(experiment, iteration) for each unarchived experiment's current or draft iteration on this flag
    (on any flag when ``flag_key`` is None) that is running or yet to start."""
    for exp in state["experiments"].values():
        if exp["projectKey"] != project_key or exp.get("archivedDate") is not None:
            continue
        seen: set[str] = set()
        for it in (iterations.current_of(exp), iterations.draft_of(exp)):
            if it is None or it["_id"] in seen or it["status"] not in LIVE_STATUSES:
                continue
            seen.add(it["_id"])
            if flag_key is None or flag_key in it["flags"]:
                yield exp, it


def _variation_ids(it: dict[str, Any], flag_key: str) -> list[str]:
    ids = [p["variationId"] for t in it["treatments"] for p in t["parameters"] if p["flagKey"] == flag_key]
    extra = it["flags"][flag_key].get("notInExperimentVariationId")
    return ids + ([extra] if extra else [])


def _serves(config: dict[str, Any], rule_id: str) -> Any:
    target = config.get("fallthrough") if rule_id == "fallthrough" else m.find_rule(config, rule_id)
    if not isinstance(target, dict):
        return None
    return {"variation": target.get("variation"), "rollout": target.get("rollout")}


def _name(row: dict[str, Any], variation_id: str) -> str:
    index = m.variation_index(row, variation_id)
    variation = row["variations"][index] if index is not None else {}
    return variation.get("name") or variation_id


def guard_change(state: dict[str, Any], project_key: str, before: dict[str, Any], doc: dict[str, Any]) -> dict:
    """Refuse a change that breaks a dependent; return old -> new variation indexes that moved."""
    flag_key = before["key"]
    old_ids = [v.get("_id") for v in before["variations"]]
    new_ids = [v.get("_id") for v in doc["variations"]]
    moved = {i: new_ids.index(v) for i, v in enumerate(old_ids) if v in new_ids and new_ids.index(v) != i}
    gone = [v for v in old_ids if v not in new_ids]
    archiving = doc["archived"] and not before["archived"]
    for dependent, env_key, index in prerequisite_of(state, project_key, flag_key):
        if archiving:
            raise invalid(
                f"You cannot archive a flag that is a prerequisite of other flags: '{flag_key}' is a prerequisite "
                f"of '{dependent}' in '{env_key}'"
            )
        if index < len(old_ids) and old_ids[index] in gone:
            raise invalid(
                f"Variation '{_name(before, old_ids[index])}' cannot be removed: flag '{dependent}' requires it as a "
                f"prerequisite in '{env_key}'"
            )
    for exp, it in live_iterations(state, project_key, flag_key):
        env_key, spec = exp["environmentKey"], it["flags"][flag_key]
        for variation_id in _variation_ids(it, flag_key):
            if variation_id in gone:
                raise invalid(
                    f"Variation '{_name(before, variation_id)}' cannot be removed: experiment '{exp['key']}' in "
                    f"'{env_key}' uses it"
                )
        rule_id = spec["ruleId"]
        if rule_id != "fallthrough" and m.find_rule(doc["environments"][env_key], rule_id) is None:
            raise invalid(
                f"Targeting rule '{rule_id}' cannot be removed: experiment '{exp['key']}' in '{env_key}' runs on it"
            )
        if it["status"] != "running":
            continue
        if archiving:
            raise invalid(
                f"Flag '{flag_key}' is used by running experiment '{exp['key']}' in '{env_key}'; "
                "stop the experiment before archiving the flag"
            )
        if _serves(before["environments"][env_key], rule_id) != _serves(doc["environments"][env_key], rule_id):
            what = "default rule (fallthrough)" if rule_id == "fallthrough" else f"rule '{rule_id}'"
            raise conflict(
                f"Conflict. The {what} of flag '{flag_key}' in '{env_key}' is owned by running experiment "
                f"'{exp['key']}'; stop the experiment before changing what it serves"
            )
    return moved


def move_prerequisites(state: dict[str, Any], project_key: str, flag_key: str, moved: dict[int, int]) -> None:
    """Other flags' prerequisites follow this flag's variations when their indexes change."""
    if not moved:
        return
    for row in state["flags"].values():
        if row["projectKey"] != project_key or row["key"] == flag_key:
            continue
        for config in row["environments"].values():
            for prerequisite in config.get("prerequisites", []):
                if prerequisite.get("key") == flag_key and prerequisite["variation"] in moved:
                    prerequisite["variation"] = moved[prerequisite["variation"]]


def guard_delete(state: dict[str, Any], row: dict[str, Any]) -> None:
    """409 while another flag or a running experiment still needs the flag."""
    project_key, flag_key = row["projectKey"], row["key"]
    for dependent, env_key, _index in prerequisite_of(state, project_key, flag_key):
        raise in_use(
            f"Flag '{flag_key}' is a prerequisite of flag '{dependent}' in '{env_key}'; "
            "remove that prerequisite before deleting it"
        )
    for exp, it in live_iterations(state, project_key, flag_key):
        if it["status"] == "running":
            raise in_use(
                f"Flag '{flag_key}' is used by running experiment '{exp['key']}' in '{exp['environmentKey']}'; "
                "stop the experiment before deleting the flag"
            )
