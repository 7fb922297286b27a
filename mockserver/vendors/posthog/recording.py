"""PostHog answers back to PostHog state records (experiments, holdouts, shared metrics, flags, users).

The inverse of ``vendors/posthog/serializers.py``: nested objects become ids plus records of
their own tables (``feature_flag`` -> ``feature_flag_id`` and a flag; ``created_by`` ->
``created_by_id`` and a user), derived fields are dropped, and the fields a list answer leaves
out keep what a fuller answer recorded before.
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.upstream.observe import Observation
from mockserver.vendors.posthog import state

CLEARED = ("experiments", "flags", "holdouts", "saved_metrics", "cohorts", "timeseries_requests", "change_requests")
SEQUENCES = {
    table: state.SEQUENCES[table] for table in ("experiments", "flags", "holdouts", "saved_metrics", "cohorts")
}

EXPERIMENT_FIELDS = (
    "id",
    "name",
    "description",
    "start_date",
    "end_date",
    "exposure_cohort",
    "running_time_calculation",
    "excluded_variants",
    "archived",
    "deleted",
    "created_at",
    "updated_at",
    "type",
    "conclusion",
    "conclusion_comment",
    "secondary_metrics",
    "filters",
    "exposure_criteria",
    "metrics",
    "metrics_secondary",
    "stats_config",
    "scheduling_config",
    "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids",
    "only_count_matured_users",
)
EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "description": None,
    "start_date": None,
    "end_date": None,
    "feature_flag_id": None,
    "holdout_id": None,
    "exposure_cohort": None,
    "parameters": None,
    "secondary_metrics": [],
    "saved_metrics": [],
    "filters": {},
    "archived": False,
    "deleted": False,
    "created_by_id": None,
    "type": "product",
    "exposure_criteria": None,
    "metrics": [],
    "metrics_secondary": [],
    "stats_config": None,
    "scheduling_config": None,
    "conclusion": None,
    "conclusion_comment": None,
    "primary_metrics_ordered_uuids": [],
    "secondary_metrics_ordered_uuids": [],
    "only_count_matured_users": False,
    "running_time_calculation": None,
    "excluded_variants": None,
}
FLAG_FIELDS = (
    "id",
    "name",
    "key",
    "filters",
    "deleted",
    "active",
    "ensure_experience_continuity",
    "has_encrypted_payloads",
    "version",
    "evaluation_runtime",
    "bucketing_identifier",
    "evaluation_contexts",
    "created_at",
)
FLAG_DEFAULTS: dict[str, Any] = {
    "name": "",
    "filters": {"groups": []},
    "deleted": False,
    "active": True,
    "ensure_experience_continuity": False,
    "has_encrypted_payloads": False,
    "version": 1,
    "evaluation_runtime": "all",
    "bucketing_identifier": "distinct_id",
    "evaluation_contexts": [],
    "created_by_id": None,
}


def _team(obs: Observation) -> int | None:
    raw = str(obs.path_args.get("project_id", ""))
    return int(raw) if raw.isdigit() else None


# experiments/… operations whose answers are not experiments (flags, results, counts, a cohort)
NOT_EXPERIMENTS = {
    "experiments_eligible_feature_flags_retrieve",
    "experiments_stats_retrieve",
    "experiments_requires_flag_implementation_retrieve",
    "experiments_timeseries_results_retrieve",
    "experiments_recalculate_timeseries_create",
    "experiments_create_exposure_cohort_for_experiment_create",
}


def _table(operation_id: str) -> str | None:
    if operation_id in NOT_EXPERIMENTS:
        return None
    for prefix, table in (
        ("experiment_holdouts_", "holdouts"),
        ("experiment_saved_metrics_", "saved_metrics"),
        ("experiments_", "experiments"),
    ):
        if operation_id.startswith(prefix):
            return table
    return None


class PostHogLayout:
    clear = CLEARED

    def observe(self, tables: dict[str, Any], obs: Observation) -> bool:
        team = _team(obs)
        table = _table(obs.operation_id)
        if team is None or table is None or obs.operation_id.endswith("copy_to_project_create"):
            return False
        for name in ("projects", "users", "flags", "holdouts", "saved_metrics", "experiments"):
            tables.setdefault(name, {})
        tables["projects"].setdefault(str(team), {"id": team, "name": f"Project {team}"})
        if obs.operation_id.endswith("_destroy"):
            if table == "experiments":
                return False  # PostHog answers 405: experiments are soft-deleted with a PATCH
            return tables[table].pop(str(obs.path_args.get("id")), None) is not None
        body = obs.body
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            items = [item for item in body["results"] if isinstance(item, dict)]
        elif isinstance(body, dict) and "id" in body:
            items = [body]
        else:
            return False
        record = {"experiments": self._experiment, "holdouts": self._holdout, "saved_metrics": self._saved_metric}[
            table
        ]
        recorded = False
        for item in items:
            if "id" in item and "created_at" in item:
                record(tables, team, item)
                recorded = True
        return recorded

    # -- one record each ------------------------------------------------------------------------

    def _user(self, tables: dict[str, Any], user: Any) -> int | None:
        if not isinstance(user, dict) or "id" not in user:
            return None
        tables["users"][str(user["id"])] = copy.deepcopy(user)
        return user["id"]

    def _flag(self, tables: dict[str, Any], team: int, flag: dict[str, Any], exp: dict[str, Any]) -> int:
        existing = tables["flags"].get(str(flag["id"]))
        row = dict(existing) if existing else {**copy.deepcopy(FLAG_DEFAULTS), "created_at": exp.get("created_at")}
        row.update({k: copy.deepcopy(flag[k]) for k in FLAG_FIELDS if k in flag})
        row["team_id"] = team
        if "created_by_id" not in row or row["created_by_id"] is None:
            row["created_by_id"] = (exp.get("created_by") or {}).get("id")
        tables["flags"][str(row["id"])] = row
        return row["id"]

    def _holdout(self, tables: dict[str, Any], team: int, item: dict[str, Any]) -> int:
        existing = tables["holdouts"].get(str(item["id"])) or {}
        row = {
            **existing,
            "id": item["id"],
            "team_id": team,
            "name": item.get("name", existing.get("name", "")),
            "description": item.get("description", existing.get("description")),
            "filters": copy.deepcopy(item.get("filters", existing.get("filters", []))),
            "created_by_id": self._user(tables, item.get("created_by")) or existing.get("created_by_id"),
            "created_at": item["created_at"],
            "updated_at": item.get("updated_at", item["created_at"]),
        }
        tables["holdouts"][str(row["id"])] = row
        return row["id"]

    def _saved_metric(self, tables: dict[str, Any], team: int, item: dict[str, Any]) -> int:
        existing = tables["saved_metrics"].get(str(item["id"])) or {}
        row = {
            **existing,
            "id": item["id"],
            "team_id": team,
            "name": item.get("name", existing.get("name", "")),
            "description": item.get("description", existing.get("description")),
            "query": copy.deepcopy(item.get("query", existing.get("query", {}))),
            "created_by_id": self._user(tables, item.get("created_by")) or existing.get("created_by_id"),
            "created_at": item["created_at"],
            "updated_at": item.get("updated_at", item["created_at"]),
            "tags": list(item.get("tags") or existing.get("tags") or []),
        }
        tables["saved_metrics"][str(row["id"])] = row
        return row["id"]

    def _experiment(self, tables: dict[str, Any], team: int, item: dict[str, Any]) -> None:
        existing = tables["experiments"].get(str(item["id"]))
        row = dict(existing) if existing else copy.deepcopy(EXPERIMENT_DEFAULTS)
        row.update({k: copy.deepcopy(item[k]) for k in EXPERIMENT_FIELDS if k in item})
        row["team_id"] = team
        row.setdefault("updated_at", row.get("created_at"))
        if "parameters" in item:
            row["parameters"] = _parameters(item["parameters"])
        if "feature_flag" in item:
            flag = item["feature_flag"]
            row["feature_flag_id"] = self._flag(tables, team, flag, item) if isinstance(flag, dict) else None
        if "holdout" in item:
            holdout = item["holdout"]
            row["holdout_id"] = self._holdout(tables, team, holdout) if isinstance(holdout, dict) else None
        if "created_by" in item:
            row["created_by_id"] = self._user(tables, item["created_by"])
        if isinstance(item.get("saved_metrics"), list):
            row["saved_metrics"] = [self._link(tables, team, link, item) for link in item["saved_metrics"]]
        tables["experiments"][str(row["id"])] = row

    def _link(self, tables: dict[str, Any], team: int, link: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any]:
        metric_id = link["saved_metric"]
        if str(metric_id) not in tables["saved_metrics"]:
            query = {k: v for k, v in (link.get("query") or {}).items() if not (k == "fingerprint" and v is None)}
            created = link.get("created_at") or exp["created_at"]
            tables["saved_metrics"][str(metric_id)] = {
                "id": metric_id,
                "team_id": team,
                "name": link.get("name", ""),
                "description": None,
                "query": copy.deepcopy(query),
                "created_by_id": None,
                "created_at": created,
                "updated_at": created,
                "tags": [],
            }
        return {
            "id": link["id"],
            "saved_metric": metric_id,
            "metadata": copy.deepcopy(link.get("metadata") or {}),
            "created_at": link.get("created_at") or exp["created_at"],
        }

    def apply(self, part: dict[str, Any], tables: dict[str, Any]) -> None:
        for name, rows in tables.items():
            part.setdefault(name, {}).update(rows)
        sequences = part.setdefault("sequences", {})
        for table, sequence in SEQUENCES.items():
            ids = [row["id"] for row in part.get(table, {}).values() if isinstance(row.get("id"), int)]
            sequences[sequence] = max(ids, default=0)
        links = [
            link["id"]
            for row in part.get("experiments", {}).values()
            for link in row.get("saved_metrics") or []
            if isinstance(link.get("id"), int)
        ]
        sequences["saved_metric_link"] = max(links, default=0)


def _parameters(params: Any) -> Any:
    """The serializer adds ``split_percent`` beside each variant's ``rollout_percentage``: take it off again."""
    if not isinstance(params, dict) or not isinstance(params.get("feature_flag_variants"), list):
        return copy.deepcopy(params)
    variants = [
        {k: v for k, v in variant.items() if k != "split_percent"} if isinstance(variant, dict) else variant
        for variant in params["feature_flag_variants"]
    ]
    return {**copy.deepcopy(params), "feature_flag_variants": variants}
