"""PostHog's tables and the lookups every rule shares: projects, experiments, flags, links.

Records are plain JSON dicts in the vendor state. The rules that change them live in
``experiments``, ``copies``, ``holdouts`` and ``saved_metrics``; this module only finds records,
derives an experiment's status and builds a new experiment row.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.core.store import KeyIndex, next_id, next_uuid
from mockserver.vendors.posthog import flags
from mockserver.vendors.posthog.errors import not_found
from mockserver.vendors.posthog.metric_validation import is_legacy

_PROJECT_ID = re.compile(r"[0-9]+")


def empty_state(seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "sequences": {},
        "organization": {},
        "projects": {},
        "users": {},
        "flags": {},
        "holdouts": {},
        "saved_metrics": {},
        "experiments": {},
        "cohorts": {},
        "actions": {},
        "event_definitions": {},
        "timeseries_requests": {},
        "approval_policies": {},
        "change_requests": {},
    }


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------------------------------------------------------------------------------------------
# Lookups


def project_or_404(state: dict[str, Any], project_id: str) -> int:
    """``@current`` is the key's project (1); otherwise ASCII digits naming a project of the state."""
    if project_id == "@current":
        return 1
    if not _PROJECT_ID.fullmatch(project_id) or len(project_id) > 18 or str(int(project_id)) not in state["projects"]:
        raise not_found("Project not found.")
    return int(project_id)


def get(state: dict[str, Any], table: str, object_id: int, team_id: int) -> dict[str, Any]:
    row = state[table].get(str(object_id))
    if row is None or row.get("team_id") != team_id:
        raise not_found()
    return row


def live_experiment(state: dict[str, Any], exp_id: int, team_id: int, search: str | None = None) -> dict[str, Any]:
    exp = get(state, "experiments", exp_id, team_id)
    if exp.get("deleted"):
        raise not_found()
    if search and search.lower() not in exp["name"].lower():
        raise not_found()  # PostHog applies ?search= to detail routes too
    return exp


def flag_of(state: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any] | None:
    return state["flags"].get(str(exp.get("feature_flag_id")))


_FLAGS_BY_KEY = KeyIndex(lambda flag: (flag["team_id"], flag["key"]))


def flag_by_key(state: dict[str, Any], team_id: int, key: str) -> dict[str, Any] | None:
    """PostHog's lookup does not skip soft-deleted flags. Indexed: every create looks a key up."""
    return _FLAGS_BY_KEY.find(state["flags"], (team_id, key))


def flags_with_key(state: dict[str, Any], team_id: int, key: str) -> list[dict[str, Any]]:
    """Every flag of the team with this key, soft-deleted ones too, in no particular order."""
    return _FLAGS_BY_KEY.find_all(state["flags"], (team_id, key))


_EXPERIMENTS_BY_FLAG = KeyIndex(lambda exp: exp.get("feature_flag_id"))
_EXPERIMENTS_BY_NAME = KeyIndex(lambda exp: (exp["team_id"], exp["name"]))


def experiments_on_flag(state: dict[str, Any], flag_id: int) -> list[dict[str, Any]]:
    """Every experiment linked to the flag, deleted ones too, in no particular order (indexed)."""
    return _EXPERIMENTS_BY_FLAG.find_all(state["experiments"], flag_id)


def flag_variants(flag: dict[str, Any] | None) -> list[dict[str, Any]]:
    return flags.variants_of(flag)


def status_of(exp: dict[str, Any], flag: dict[str, Any] | None) -> str:
    if exp.get("start_date") is None:
        return "draft"
    if exp.get("end_date") is not None:
        return "stopped"
    if flag is not None and not flag.get("active"):
        return "paused"
    return "running"


def saved_queries(state: dict[str, Any], links: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The query of each shared metric the links point at, by id."""
    out = {}
    for link in links:
        metric = state["saved_metrics"].get(str(link["saved_metric"]))
        if metric is not None:
            out[link["saved_metric"]] = metric["query"]
    return out


def has_legacy_metrics(state: dict[str, Any], exp: dict[str, Any]) -> bool:
    """Inline or linked metrics in a pre-ExperimentMetric format (trends or funnels queries)."""
    if any(is_legacy(m) for m in (exp.get("metrics") or []) + (exp.get("metrics_secondary") or [])):
        return True
    return any(is_legacy(q) for q in saved_queries(state, exp.get("saved_metrics") or []).values())


def unique_copy_name(state: dict[str, Any], team_id: int, name: str) -> str:
    """``<name> (Copy)``, then ``(Copy) 1``, ``(Copy) 2``… among the project's live experiments."""

    def taken(candidate: str) -> bool:
        holders = _EXPERIMENTS_BY_NAME.find_all(state["experiments"], (team_id, candidate))
        return any(not e.get("deleted") for e in holders)

    candidate = f"{name} (Copy)"
    counter = 1
    while taken(candidate):
        candidate = f"{name} (Copy) {counter}"
        counter += 1
    return candidate


# ---------------------------------------------------------------------------------------------
# Records


def assign_metric_uuids(state: dict[str, Any], metrics: Any, taken: set[str]) -> Any:
    """Copies of ``metrics`` with a uuid each: missing ones and repeats get a fresh one."""
    if metrics is None:
        return None
    out = []
    for metric in metrics:
        metric = dict(metric)
        if not metric.get("uuid") or metric["uuid"] in taken:
            metric["uuid"] = next_uuid(state)
        taken.add(metric["uuid"])
        out.append(metric)
    return out


def new_link(state: dict[str, Any], saved_metric_id: int, metadata: Any, created_at: str) -> dict[str, Any]:
    return {
        "id": next_id(state, "saved_metric_link"),
        "saved_metric": saved_metric_id,
        "metadata": metadata,
        "created_at": created_at,
    }


def new_experiment_record(state: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A row with the model's defaults, overridden by ``fields`` (team_id, name and flag are required)."""
    eid = next_id(state, "experiment")
    flag = fields.pop("flag")
    exp = {
        "id": eid,
        "team_id": fields.pop("team_id"),
        "name": fields.pop("name"),
        "description": "",
        "start_date": None,
        "end_date": None,
        "feature_flag_id": flag["id"] if flag else None,
        "holdout_id": None,
        "exposure_cohort": None,
        "parameters": None,
        "secondary_metrics": [],
        "saved_metrics": [],
        "filters": {},
        "archived": False,
        "deleted": False,
        "created_by_id": None,
        "created_at": None,
        "updated_at": None,
        "type": "product",
        "exposure_criteria": {"filterTestAccounts": True},
        "metrics": [],
        "metrics_secondary": [],
        "stats_config": {"method": "bayesian"},
        "scheduling_config": None,
        "conclusion": None,
        "conclusion_comment": None,
        "primary_metrics_ordered_uuids": None,
        "secondary_metrics_ordered_uuids": None,
        "only_count_matured_users": False,
    }
    exp.update(fields)
    if exp["updated_at"] is None:
        exp["updated_at"] = exp["created_at"]
    state["experiments"][str(eid)] = exp
    return exp
