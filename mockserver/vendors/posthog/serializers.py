"""Stored PostHog records to the JSON shapes the API answers with (field order as PostHog's).

Outputs share nested values with the stored records (no deep copies): they are only read, then
checked and encoded while the store lock is held. Whatever a serializer adds to a nested value it
adds to a shallow copy of it.
"""

from __future__ import annotations

from typing import Any

from mockserver.vendors.posthog.models import flag_of, status_of


def user(state: dict[str, Any], user_id: int | None) -> dict[str, Any] | None:
    found = state["users"].get(str(user_id))
    return dict(found) if found else None


def minimal_flag(flag: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": flag["id"],
        "team_id": flag["team_id"],
        "name": flag["name"],
        "key": flag["key"],
        "filters": flag["filters"],
        "deleted": flag["deleted"],
        "active": flag["active"],
        "ensure_experience_continuity": flag["ensure_experience_continuity"],
        "has_encrypted_payloads": flag["has_encrypted_payloads"],
        "version": flag["version"],
        "evaluation_runtime": flag["evaluation_runtime"],
        "bucketing_identifier": flag["bucketing_identifier"],
        "evaluation_contexts": flag["evaluation_contexts"],
    }


def holdout(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row.get("description"),
        "filters": row["filters"],
        "created_by": user(state, row.get("created_by_id")),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "user_access_level": "editor",
    }


def saved_metric(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row.get("description"),
        "query": row["query"],
        "created_by": user(state, row.get("created_by_id")),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "tags": row.get("tags") or [],
        "user_access_level": "editor",
    }


def _parameters(exp: dict[str, Any]) -> dict[str, Any] | None:
    params = exp.get("parameters")
    if not isinstance(params, dict) or not isinstance(params.get("feature_flag_variants"), list):
        return params
    variants = [
        dict(variant, split_percent=variant["rollout_percentage"])
        if isinstance(variant, dict) and "rollout_percentage" in variant
        else variant
        for variant in params["feature_flag_variants"]
    ]
    return dict(params, feature_flag_variants=variants)


def _links(state: dict[str, Any], exp: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for link in exp.get("saved_metrics", []):
        metric = state["saved_metrics"].get(str(link["saved_metric"]))
        if metric is None:
            continue
        query = dict(metric["query"])
        query.setdefault("fingerprint", None)
        out.append(
            {
                "id": link["id"],
                "experiment": exp["id"],
                "saved_metric": link["saved_metric"],
                "metadata": link.get("metadata") or {},
                "created_at": link["created_at"],
                "query": query,
                "name": metric["name"],
            }
        )
    return out


def experiment_basic(state: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any]:
    flag = flag_of(state, exp)
    holdout_row = state["holdouts"].get(str(exp.get("holdout_id")))
    return {
        "id": exp["id"],
        "name": exp["name"],
        "description": exp.get("description"),
        "start_date": exp.get("start_date"),
        "end_date": exp.get("end_date"),
        "feature_flag_key": flag["key"] if flag else None,
        "feature_flag": minimal_flag(flag) if flag else None,
        "holdout": holdout(state, holdout_row) if holdout_row else None,
        "exposure_cohort": exp.get("exposure_cohort"),
        "parameters": _parameters(exp),
        "running_time_calculation": exp.get("running_time_calculation"),
        "excluded_variants": exp.get("excluded_variants"),
        "archived": exp.get("archived", False),
        "deleted": exp.get("deleted", False),
        "created_by": user(state, exp.get("created_by_id")),
        "created_at": exp["created_at"],
        "updated_at": exp["updated_at"],
        "type": exp.get("type"),
        "conclusion": exp.get("conclusion"),
        "conclusion_comment": exp.get("conclusion_comment"),
        "status": status_of(exp, flag),
        "is_legacy": False,
        "user_access_level": "editor",
    }


def experiment(state: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any]:
    out = experiment_basic(state, exp)
    status = out.pop("status")
    is_legacy = out.pop("is_legacy")
    access = out.pop("user_access_level")
    out.update(
        secondary_metrics=exp.get("secondary_metrics") or [],
        saved_metrics=_links(state, exp),
        filters=exp.get("filters") or {},
        exposure_criteria=exp.get("exposure_criteria"),
        metrics=exp.get("metrics") or [],
        metrics_secondary=exp.get("metrics_secondary") or [],
        stats_config=exp.get("stats_config"),
        scheduling_config=exp.get("scheduling_config"),
        primary_metrics_ordered_uuids=exp.get("primary_metrics_ordered_uuids") or [],
        secondary_metrics_ordered_uuids=exp.get("secondary_metrics_ordered_uuids") or [],
        only_count_matured_users=exp.get("only_count_matured_users", False),
        status=status,
        is_legacy=is_legacy,
        can_freeze_exposure=status == "running",
        flag_cleanup_task_id=None,
        user_access_level=access,
    )
    return out
