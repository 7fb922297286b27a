"""PostHog state and the rules that guard it: experiments, flags, holdouts, shared metrics.

Functions here take the vendor state dict and plain values; they validate everything first and
only then write, so a rejected request leaves the state as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso, parse_instant
from mockserver.core.store import KeyIndex, next_id, next_uuid
from mockserver.vendors.posthog.errors import invalid, not_found

DEFAULT_VARIANTS = [
    {"key": "control", "name": "Control Group", "rollout_percentage": 50},
    {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
]
FLAG_KEY = re.compile(r"^[a-zA-Z0-9_-]+$")
CREATABLE = {
    "name",
    "description",
    "start_date",
    "end_date",
    "feature_flag_key",
    "feature_flag",
    "parameters",
    "running_time_calculation",
    "excluded_variants",
    "archived",
    "deleted",
    "type",
    "conclusion",
    "conclusion_comment",
    "holdout_id",
    "secondary_metrics",
    "saved_metrics_ids",
    "filters",
    "exposure_criteria",
    "metrics",
    "metrics_secondary",
    "stats_config",
    "scheduling_config",
    "allow_unknown_events",
    "_create_in_folder",
    "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids",
    "only_count_matured_users",
    "update_feature_flag_params",
}
UPDATABLE = {
    "name",
    "description",
    "start_date",
    "end_date",
    "filters",
    "parameters",
    "running_time_calculation",
    "excluded_variants",
    "archived",
    "deleted",
    "secondary_metrics",
    "holdout_id",
    "exposure_criteria",
    "metrics",
    "metrics_secondary",
    "stats_config",
    "scheduling_config",
    "conclusion",
    "conclusion_comment",
    "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids",
    "saved_metrics_ids",
    "only_count_matured_users",
    "update_feature_flag_params",
    "allow_unknown_events",
    "feature_flag",
}
READ_ONLY = {
    "id",
    "feature_flag",
    "holdout",
    "exposure_cohort",
    "created_by",
    "created_at",
    "updated_at",
    "status",
    "is_legacy",
    "user_access_level",
    "saved_metrics",
    "flag_cleanup_task_id",
    "can_freeze_exposure",
}
STATS_METHODS = ("bayesian", "frequentist")


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
        "timeseries_requests": {},
        "approval_policies": {},
        "change_requests": {},
    }


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def variant_list(keys: list[str]) -> list[dict[str, Any]]:
    share, rest = divmod(100, len(keys))
    out = []
    for index, key in enumerate(keys):
        name = "Control" if key == "control" else key.replace("-", " ").capitalize()
        out.append({"key": key, "name": name, "rollout_percentage": share + (1 if index < rest else 0)})
    return out


def mean_metric(event: str, math: str = "total", math_property: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"kind": "EventsNode", "event": event, "math": math}
    if math_property:
        source["math_property"] = math_property
    return {
        "kind": "ExperimentMetric",
        "metric_type": "mean",
        "name": f"{event} ({math})",
        "goal": "increase",
        "source": source,
    }


def funnel_metric(events: list[str]) -> dict[str, Any]:
    return {
        "kind": "ExperimentMetric",
        "metric_type": "funnel",
        "name": " → ".join(events),
        "goal": "increase",
        "series": [{"kind": "EventsNode", "event": e} for e in events],
    }


def fingerprint(metric: dict[str, Any], exp: dict[str, Any]) -> str:
    """Changes whenever the metric definition or the experiment's analysis settings change."""
    material = {k: v for k, v in metric.items() if k not in ("uuid", "fingerprint", "name")}
    material["__start"] = exp.get("start_date")
    material["__stats"] = exp.get("stats_config")
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Lookups


def project_or_404(state: dict[str, Any], project_id: str) -> int:
    """`@current` is project 1; anything else must be the integer id of a seeded project."""
    if project_id == "@current":
        return 1
    if not (project_id.isascii() and project_id.isdigit()) or str(int(project_id)) not in state["projects"]:
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


def flag_variants(flag: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not flag:
        return []
    return list(((flag.get("filters") or {}).get("multivariate") or {}).get("variants") or [])


def status_of(exp: dict[str, Any], flag: dict[str, Any] | None) -> str:
    if exp.get("start_date") is None:
        return "draft"
    if exp.get("end_date") is not None:
        return "stopped"
    if flag is not None and not flag.get("active"):
        return "paused"
    return "running"


# ---------------------------------------------------------------------------------------------
# Flags, holdouts, saved-metric links


def insert_flag(
    state,
    team_id,
    key,
    name,
    variants,
    *,
    active,
    created_at,
    created_by_id,
    rollout=100,
    holdout=None,
    aggregation=None,
    payloads=None,
    continuity=False,
) -> dict[str, Any]:
    fid = next_id(state, "flag")
    filters: dict[str, Any] = {"groups": [{"properties": [], "rollout_percentage": rollout}]}
    if variants:
        filters["multivariate"] = {"variants": [dict(v) for v in variants]}
    filters["aggregation_group_type_index"] = aggregation
    filters["holdout"] = holdout
    if payloads:
        filters["payloads"] = payloads
    flag = {
        "id": fid,
        "team_id": team_id,
        "name": name,
        "key": key,
        "filters": filters,
        "deleted": False,
        "active": active,
        "ensure_experience_continuity": continuity,
        "has_encrypted_payloads": False,
        "version": 1,
        "evaluation_runtime": "all",
        "bucketing_identifier": "distinct_id",
        "evaluation_contexts": [],
        "created_at": created_at,
        "created_by_id": created_by_id,
    }
    state["flags"][str(fid)] = flag
    return flag


def holdout_block(holdout: dict[str, Any] | None) -> dict[str, Any] | None:
    if not holdout:
        return None
    first = (holdout.get("filters") or [{}])[0]
    return {"id": holdout["id"], "exclusion_percentage": first.get("rollout_percentage")}


def apply_holdout_to_flag(state, flag: dict[str, Any] | None, holdout: dict[str, Any] | None) -> None:
    if flag is not None:
        flag["filters"]["holdout"] = holdout_block(holdout)
        flag["version"] = flag.get("version", 1) + 1


def link_saved_metrics(state, exp, items: list[dict[str, Any]], now: str) -> None:
    """Full replacement: links not listed go away, listed ones keep their id and creation time."""
    existing = {link["saved_metric"]: link for link in exp.get("saved_metrics", [])}
    links = []
    for item in items:
        metric_id = item["id"]
        metadata = item.get("metadata") or {"type": "primary"}
        link = existing.get(metric_id)
        if link is None:
            link = {"id": next_id(state, "saved_metric_link"), "saved_metric": metric_id, "created_at": now}
        links.append(dict(link, metadata=metadata))
    exp["saved_metrics"] = links


def sync_ordering(exp: dict[str, Any], state: dict[str, Any]) -> None:
    """Keep the ordered-uuid arrays in step with inline and linked metrics, and refresh fingerprints."""
    for metric in (exp.get("metrics") or []) + (exp.get("metrics_secondary") or []):
        metric["fingerprint"] = fingerprint(metric, exp)
    for kind, inline_key, order_key in (
        ("primary", "metrics", "primary_metrics_ordered_uuids"),
        ("secondary", "metrics_secondary", "secondary_metrics_ordered_uuids"),
    ):
        wanted = [m["uuid"] for m in exp.get(inline_key) or [] if m.get("uuid")]
        for link in exp.get("saved_metrics", []):
            if (link.get("metadata") or {}).get("type", "primary") == kind:
                metric = state["saved_metrics"].get(str(link["saved_metric"]))
                if metric and metric["query"].get("uuid"):
                    wanted.append(metric["query"]["uuid"])
        current = [u for u in exp.get(order_key) or [] if u in wanted]
        exp[order_key] = current + [u for u in wanted if u not in current]


def new_experiment_record(
    state, *, team_id, name, description, flag, created_by_id, created_at, parameters=None, metrics=None
) -> dict[str, Any]:
    eid = next_id(state, "experiment")
    exp = {
        "id": eid,
        "team_id": team_id,
        "name": name,
        "description": description,
        "start_date": None,
        "end_date": None,
        "feature_flag_id": flag["id"] if flag else None,
        "holdout_id": None,
        "exposure_cohort": None,
        "parameters": parameters,
        "secondary_metrics": [],
        "saved_metrics": [],
        "filters": {},
        "archived": False,
        "deleted": False,
        "created_by_id": created_by_id,
        "created_at": created_at,
        "updated_at": created_at,
        "type": "product",
        "exposure_criteria": {"filterTestAccounts": True},
        "metrics": metrics or [],
        "metrics_secondary": [],
        "stats_config": {"method": "bayesian"},
        "scheduling_config": None,
        "conclusion": None,
        "conclusion_comment": None,
        "primary_metrics_ordered_uuids": [],
        "secondary_metrics_ordered_uuids": [],
        "only_count_matured_users": False,
        "running_time_calculation": None,
        "excluded_variants": None,
    }
    state["experiments"][str(eid)] = exp
    return exp


# ---------------------------------------------------------------------------------------------
# Validation of experiment input


def parse_date(value: Any, attr: str) -> str | None:
    if value is None:
        return None
    try:
        return iso(parse_instant(str(value)))
    except ValueError:
        raise invalid(
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            attr,
            "invalid",
        ) from None


def check_dates(start: str | None, end: str | None) -> None:
    if start and end and parse_instant(start) >= parse_instant(end):
        raise invalid("End date must be after start date")


def normalise_variants(parameters: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """Validate parameters.feature_flag_variants as PostHog does; split_percent wins over rollout."""
    if not parameters or "feature_flag_variants" not in parameters:
        return None
    variants = parameters.get("feature_flag_variants") or []
    out = []
    for index, variant in enumerate(variants):
        if not isinstance(variant, dict):
            raise invalid(f"Feature flag variant at index {index} must be an object", "parameters", "invalid")
        if "key" not in variant:
            raise invalid(f"Feature flag variant at index {index} must have a 'key' field", "parameters", "invalid")
        if "split_percent" not in variant and "rollout_percentage" not in variant:
            raise invalid(
                "Each variant must include split_percent (recommended) or rollout_percentage (deprecated).",
                "parameters",
                "invalid",
            )
        item = {k: v for k, v in variant.items() if k != "split_percent"}
        if "split_percent" in variant:
            item["rollout_percentage"] = variant["split_percent"]
        if str(item["key"]).lower() == "control":
            item["key"] = "control"
        out.append(item)
    if not out:
        return []
    if len(out) > 20:
        raise invalid("Feature flag variants must be less than 21", "parameters", "invalid")
    if len(out) < 2:
        raise invalid(
            "Feature flag must have at least 2 variants (control and at least one test variant)",
            "parameters",
            "invalid",
        )
    if not any(v["key"] == "control" for v in out):
        keys = [v["key"] for v in out]
        raise invalid(
            f"Feature flag variants must contain a variant with key 'control' (lowercase, exactly). "
            f"Got keys: {keys!r}. Rename the baseline variant's 'key' to 'control'.",
            "parameters",
            "invalid",
        )
    return out


def check_variant_sum(variants: list[dict[str, Any]]) -> None:
    total = sum(v.get("rollout_percentage") or 0 for v in variants)
    if round(total, 6) != 100:
        raise invalid("Invalid variant definitions: Variant rollout percentages must sum to 100.", "filters", "invalid")


def check_existing_flag(flag: dict[str, Any]) -> None:
    variants = flag_variants(flag)
    if len(variants) < 2:
        raise invalid("Feature flag must have at least 2 variants (control and at least one test variant)")
    if not any(v.get("key") == "control" for v in variants):
        raise invalid("Feature flag must have a variant with key 'control'")


def check_metrics(body: dict[str, Any]) -> None:
    for attr in ("metrics", "metrics_secondary"):
        for index, metric in enumerate(body.get(attr) or []):
            if metric.get("metric_type") == "funnel" and not metric.get("series"):
                raise invalid(
                    f"Invalid metric at index {index}: funnel metrics require at least one step. The "
                    "experiment exposure event is added as the initial step automatically.",
                    attr,
                    "invalid",
                )


def check_stats_config(stats: Any) -> None:
    if isinstance(stats, dict) and "method" in stats and stats["method"] not in STATS_METHODS:
        raise invalid(f"Invalid stats method: '{stats['method']}'. Must be one of: bayesian, frequentist")


def check_filters(filters: Any) -> None:
    if isinstance(filters, dict) and filters.get("properties"):
        raise invalid("Experiments do not support global filter properties")


def check_holdout(state, team_id: int, holdout_id: Any) -> dict[str, Any] | None:
    if holdout_id is None:
        return None
    holdout = state["holdouts"].get(str(holdout_id))
    if holdout is None or holdout["team_id"] != team_id:
        raise invalid(f'Invalid pk "{holdout_id}" - object does not exist.', "holdout_id", "does_not_exist")
    return holdout


def check_saved_metric_links(items: Any) -> None:
    """The shape of saved_metrics_ids, checked before any id is looked up (PostHog's order)."""
    if items is None:
        return
    if not isinstance(items, list):
        raise invalid("Saved metrics must be a list", "saved_metrics_ids", "invalid")
    for item in items:
        if not isinstance(item, dict):
            raise invalid("Saved metric must be an object", "saved_metrics_ids", "invalid")
        if "id" not in item:
            raise invalid("Saved metric must have an id", "saved_metrics_ids", "invalid")
        metadata = item.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise invalid("Metadata must be an object", "saved_metrics_ids", "invalid")
        if metadata is not None and "type" not in metadata:
            raise invalid("Metadata must have a type key", "saved_metrics_ids", "invalid")


def check_saved_metric_ids(state, team_id: int, items: Any) -> list[dict[str, Any]]:
    check_saved_metric_links(items)
    out = []
    for item in items or []:
        metric = state["saved_metrics"].get(str(item.get("id")))
        if metric is None or metric["team_id"] != team_id:
            raise invalid(
                "Saved metric does not exist or does not belong to this project", "saved_metrics_ids", "invalid"
            )
        metadata = item.get("metadata")
        if metadata is None:
            metadata = {"type": "primary"}
        out.append({"id": metric["id"], "metadata": metadata})
    return out


def assign_metric_uuids(state, metrics: list[dict[str, Any]] | None, taken: set[str]) -> list[dict[str, Any]]:
    out = []
    for metric in metrics or []:
        metric = dict(metric)
        if not metric.get("uuid") or metric["uuid"] in taken:
            metric["uuid"] = next_uuid(state)
        taken.add(metric["uuid"])
        out.append(metric)
    return out


def unique_copy_name(state, team_id: int, name: str) -> str:
    taken = {e["name"] for e in state["experiments"].values() if e["team_id"] == team_id and not e.get("deleted")}
    candidate = f"{name} (Copy)"
    counter = 1
    while candidate in taken:
        candidate = f"{name} (Copy) {counter}"
        counter += 1
    return candidate


def now_iso(now: datetime) -> str:
    return iso(now)
