"""An experiment's feature flag: created, linked, synced and shipped as PostHog's flag serializer does.

PostHog writes an experiment's flag through its FeatureFlagSerializer, so a new flag's key and a
flag's variant split answer that serializer's errors (attribute ``key`` or ``filters``). The
functions here compute and check new flag filters; callers write them once every check passed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from mockserver.core.store import next_id
from mockserver.vendors.posthog.drf import CharField, FieldError
from mockserver.vendors.posthog.errors import invalid

DEFAULT_VARIANTS = [
    {"key": "control", "name": "Control Group", "rollout_percentage": 50},
    {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
]
DEFAULT_ROLLOUT = 100
KEY_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
_KEY_FIELD = CharField(required=True, max_length=400)


def variants_of(flag: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not flag:
        return []
    return list(((flag.get("filters") or {}).get("multivariate") or {}).get("variants") or [])


def variant_keys(variants: Any) -> list[str]:
    return [v["key"] for v in variants or [] if isinstance(v, dict) and "key" in v]


def check_new_key(key: Any) -> str:
    """The flag serializer's key field: a non-blank string of at most 400 characters, letters and - _."""
    try:
        text = _KEY_FIELD.read(key) if key is not None else None
    except FieldError as failure:
        raise invalid(failure.detail, "key", failure.code) from None
    if text is None:
        raise invalid("This field may not be null.", "key", "null")
    if not KEY_PATTERN.match(text):
        raise invalid("Only letters, numbers, hyphens (-) & underscores (_) are allowed.", "key", "invalid_key")
    return text


def check_variant_split(filters: dict[str, Any]) -> None:
    """The flag serializer's filters check: multivariate splits add up to exactly 100."""
    variants = (filters.get("multivariate") or {}).get("variants") or []
    if variants and sum(v.get("rollout_percentage", 0) or 0 for v in variants) != 100:
        raise invalid("Invalid variant definitions: Variant rollout percentages must sum to 100.", "filters")


def check_linkable(flag: dict[str, Any]) -> None:
    """An existing flag an experiment may use: two variants at least, one of them control."""
    variants = variants_of(flag)
    if len(variants) < 2:
        raise invalid("Feature flag must have at least 2 variants (control and at least one test variant)")
    if "control" not in [v.get("key") for v in variants]:
        raise invalid("Feature flag must have a variant with key 'control'")


def check_launchable(flag: dict[str, Any] | None) -> None:
    if flag is None or flag.get("deleted"):
        raise invalid("Experiment cannot be launched because its feature flag has been deleted.")
    check_linkable(flag)


def holdout_block(holdout: dict[str, Any] | None) -> dict[str, Any] | None:
    """The flag's ``holdout`` filter for a holdout group (PostHog's holdout_filters_for_flag)."""
    if not holdout or not holdout.get("filters"):
        return None
    return {"id": holdout["id"], "exclusion_percentage": holdout["filters"][0].get("rollout_percentage")}


def new_flag_filters(parameters: dict[str, Any] | None, holdout: dict[str, Any] | None) -> dict[str, Any]:
    """The filters of a flag created for an experiment, from its parameters."""
    params = parameters or {}
    filters: dict[str, Any] = {
        "groups": [{"properties": [], "rollout_percentage": params.get("rollout_percentage", DEFAULT_ROLLOUT)}],
        "multivariate": {"variants": copy.deepcopy(params.get("feature_flag_variants") or DEFAULT_VARIANTS)},
        "aggregation_group_type_index": params.get("aggregation_group_type_index"),
        "holdout": holdout_block(holdout),
    }
    if params.get("feature_flag_payloads"):
        filters["payloads"] = copy.deepcopy(params["feature_flag_payloads"])
    return filters


def synced_filters(
    flag: dict[str, Any], parameters: dict[str, Any] | None, holdout: dict[str, Any] | None
) -> dict[str, Any]:
    """A flag's filters after an experiment update carrying parameters: the rollout stays unless sent."""
    current = flag.get("filters") or {}
    groups = list(current.get("groups") or [])
    rollout = (parameters or {}).get("rollout_percentage")
    if rollout is not None and groups:
        groups = [{**groups[0], "rollout_percentage": rollout}, *groups[1:]]
    return {
        **current,
        "groups": groups,
        "multivariate": {
            "variants": copy.deepcopy((parameters or {}).get("feature_flag_variants") or DEFAULT_VARIANTS)
        },
        "aggregation_group_type_index": (parameters or {}).get("aggregation_group_type_index"),
        "holdout": holdout_block(holdout),
    }


def winning_variant_filters(filters: dict[str, Any], winner: str) -> dict[str, Any]:
    """The flag's filters once ``winner`` ships: it takes the whole split, conditions stay as they were."""
    return {
        "aggregation_group_type_index": filters.get("aggregation_group_type_index"),
        "payloads": copy.deepcopy(filters.get("payloads", {})),
        "multivariate": {
            "variants": [
                {
                    "key": v["key"],
                    "rollout_percentage": 100 if v["key"] == winner else 0,
                    **({"name": v["name"]} if v.get("name") else {}),
                }
                for v in (filters.get("multivariate") or {}).get("variants", [])
            ]
        },
        "groups": copy.deepcopy(list(filters.get("groups", []))),
    }


def write_filters(flag: dict[str, Any], filters: dict[str, Any]) -> None:
    """A flag-serializer update of the filters: a new version of the flag."""
    flag["filters"] = filters
    flag["version"] = (flag.get("version") or 0) + 1


def propagate_variants(state: dict[str, Any], flag: dict[str, Any], stamp: str, skip: int | None = None) -> None:
    """Every other experiment on the flag takes its variants and aggregation group.

    PostHog's flag serializer does this whenever a flag's filters are written, whether through the
    flag API, an experiment update or ship_variant; ``skip`` is the experiment making the change.
    """
    filters = flag.get("filters") or {}
    variants = variants_of(flag)
    aggregation = filters.get("aggregation_group_type_index")
    linked = sorted(
        (e for e in state["experiments"].values() if e.get("feature_flag_id") == flag["id"] and e["id"] != skip),
        key=lambda e: e["id"],
    )
    for exp in linked:
        params = dict(exp.get("parameters") or {})
        params["feature_flag_variants"] = copy.deepcopy(variants)
        if aggregation is not None:
            params["aggregation_group_type_index"] = aggregation
        else:
            params.pop("aggregation_group_type_index", None)
        exp["parameters"] = params
        exp["updated_at"] = stamp


def insert_flag(
    state: dict[str, Any],
    team_id: int,
    key: str,
    name: str,
    filters: dict[str, Any],
    *,
    active: bool,
    created_at: str,
    created_by_id: int | None,
    continuity: bool = False,
) -> dict[str, Any]:
    fid = next_id(state, "flag")
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


def seeded_filters(variants: list[dict[str, Any]] | None, rollout: int = DEFAULT_ROLLOUT) -> dict[str, Any]:
    """Filters for a flag the seed creates directly (not through an experiment)."""
    filters: dict[str, Any] = {"groups": [{"properties": [], "rollout_percentage": rollout}]}
    if variants:
        filters["multivariate"] = {"variants": [dict(v) for v in variants]}
    filters["aggregation_group_type_index"] = None
    filters["holdout"] = None
    return filters
