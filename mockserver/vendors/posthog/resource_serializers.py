"""Feature flags, cohorts, actions and event definitions in the JSON shapes PostHog answers with."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mockserver.vendors.posthog import cohorts, feature_flags
from mockserver.vendors.posthog.serializers import user


def _filters_with_cohort_names(state: dict[str, Any], flag: dict[str, Any]) -> dict[str, Any]:
    """Cohort conditions carry the cohort's name (null when it is gone), as PostHog adds it on read."""
    filters = feature_flags.readable_filters(flag)
    groups = filters.get("groups") or []
    if not any(isinstance(p, dict) and p.get("type") == "cohort" for g in groups for p in g.get("properties") or []):
        return filters
    filters = copy.deepcopy(filters)
    for group in filters["groups"]:
        for prop in group.get("properties") or []:
            if isinstance(prop, dict) and prop.get("type") == "cohort":
                cohort = state["cohorts"].get(str(prop.get("value")))
                live = cohort and cohort.get("team_id") == flag["team_id"] and not cohort.get("deleted")
                prop["cohort_name"] = cohort["name"] if live else None
    return filters


def feature_flag(
    state: dict[str, Any], flag: dict[str, Any], now: datetime, live: dict[int, list[int]] | None = None
) -> dict[str, Any]:
    """PostHog's FeatureFlagSerializer (the full flag, as the flag API and eligible_feature_flags answer).

    ``live`` is feature_flags.live_experiment_ids(state), computed once when many flags are rendered.
    """
    if live is None:
        live = {flag["id"]: [e["id"] for e in feature_flags.linked_experiments(state, flag["id"], live_only=True)]}
    return {
        "id": flag["id"],
        "name": flag.get("name") or "",
        "key": flag["key"],
        "filters": _filters_with_cohort_names(state, flag),
        "deleted": bool(flag.get("deleted")),
        "active": bool(flag.get("active")),
        "created_by": user(state, flag.get("created_by_id")),
        "created_at": flag["created_at"],
        "updated_at": flag.get("updated_at") or flag["created_at"],
        "version": flag.get("version"),
        "last_modified_by": user(state, flag.get("last_modified_by_id", flag.get("created_by_id"))),
        "ensure_experience_continuity": flag.get("ensure_experience_continuity"),
        "experiment_set": list(live.get(flag["id"], [])),
        "surveys": [],
        "features": [],
        "rollback_conditions": flag.get("rollback_conditions"),
        "performed_rollback": flag.get("performed_rollback"),
        "can_edit": True,
        "tags": list(flag.get("tags") or []),
        "evaluation_contexts": list(flag.get("evaluation_contexts") or []),
        "usage_dashboard": flag.get("usage_dashboard"),
        "analytics_dashboards": list(flag.get("analytics_dashboards") or []),
        "has_enriched_analytics": flag.get("has_enriched_analytics", False),
        "user_access_level": "editor",
        "is_remote_configuration": flag.get("is_remote_configuration", False),
        "has_encrypted_payloads": flag.get("has_encrypted_payloads", False),
        "status": feature_flags.status(flag, now),
        "evaluation_runtime": flag.get("evaluation_runtime", "all"),
        "bucketing_identifier": flag.get("bucketing_identifier"),
        "last_called_at": flag.get("last_called_at"),
    }


def cohort(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """PostHog's CohortSerializer; ``experiment_set`` lists the experiments using it as exposure cohort."""
    return {
        "id": row["id"],
        "name": row.get("name"),
        "description": row.get("description") or "",
        "groups": row.get("groups") or [],
        "deleted": bool(row.get("deleted")),
        "filters": row.get("filters") or {"properties": {}},
        "query": row.get("query"),
        "is_calculating": bool(row.get("is_calculating")),
        "created_by": user(state, row.get("created_by_id")),
        "created_at": row.get("created_at"),
        "last_calculation": row.get("last_calculation"),
        "errors_calculating": row.get("errors_calculating", 0),
        "count": row.get("count"),
        "is_static": bool(row.get("is_static")),
        "cohort_type": row.get("cohort_type"),
        "experiment_set": cohorts.experiment_set(state, row["id"]),
    }


def _step(step: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": step.get("event"),
        "properties": step.get("properties"),
        "selector": step.get("selector"),
        "selector_regex": None,
        "tag_name": step.get("tag_name"),
        "text": step.get("text"),
        "text_matching": step.get("text_matching"),
        "href": step.get("href"),
        "href_matching": step.get("href_matching"),
        "url": step.get("url"),
        "url_matching": step.get("url_matching"),
    }


def action(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row.get("name"),
        "description": row.get("description") or "",
        "tags": list(row.get("tags") or []),
        "post_to_slack": bool(row.get("post_to_slack")),
        "slack_message_format": row.get("slack_message_format") or "",
        "steps": [_step(s) for s in row.get("steps") or []],
        "created_at": row.get("created_at"),
        "created_by": user(state, row.get("created_by_id")),
        "deleted": bool(row.get("deleted")),
        "is_calculating": False,
        "last_calculated_at": row.get("last_calculated_at"),
        "team_id": row["team_id"],
        "is_action": True,
        "bytecode_error": None,
        "pinned_at": row.get("pinned_at"),
        "creation_context": None,
        "user_access_level": "editor",
    }


def event_definition(state: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """PostHog's enterprise EventDefinition serializer (the one PostHog Cloud answers with)."""
    return {
        "id": row["id"],
        "name": row["name"],
        "owner": user(state, row.get("owner_id")),
        "description": row.get("description") or "",
        "tags": list(row.get("tags") or []),
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
        "updated_by": user(state, row.get("updated_by_id")),
        "last_seen_at": row.get("last_seen_at"),
        "verified": bool(row.get("verified")),
        "verified_at": row.get("verified_at"),
        "verified_by": user(state, row.get("verified_by_id")),
        "hidden": bool(row.get("hidden")),
        "is_action": False,
        "post_to_slack": False,
        "default_columns": list(row.get("default_columns") or []),
    }
