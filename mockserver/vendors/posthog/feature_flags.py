"""Feature flags: create, update, list, and the flags an experiment may use.

A flag is shared with the experiments that use it, as in PostHog: deactivating it pauses a running
experiment (status is computed from the flag), it cannot be deleted while a live experiment uses it,
and a change of its ``filters`` rewrites ``parameters.feature_flag_variants`` (and the aggregation
group) of every experiment linked to it.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id
from mockserver.vendors.posthog import approvals, flag_filters, flags
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import conflict, invalid, not_found
from mockserver.vendors.posthog.serializers import user

KEY = re.compile(r"^[a-zA-Z0-9_-]+$")
# Fields a request may set and that are stored as given.
STORED = (
    "name",
    "active",
    "ensure_experience_continuity",
    "rollback_conditions",
    "performed_rollback",
    "tags",
    "is_remote_configuration",
    "has_encrypted_payloads",
    "has_enriched_analytics",
    "evaluation_runtime",
    "bucketing_identifier",
    "analytics_dashboards",
)
# Model fields a stale edit can collide on (tags and dashboards are relations, not fields).
VERSIONED = (*(f for f in STORED if f not in ("tags", "analytics_dashboards")), "key", "filters", "deleted", "version")
ROLLOUT_GROUPS = ("groups", "super_groups", "holdout_groups")
ELIGIBLE_ORDERS = ("created_at", "key", "name")


def get(state: dict[str, Any], team_id: int, flag_id: int) -> dict[str, Any]:
    """Retrieve answers soft-deleted flags too; only the list hides them."""
    flag = state["flags"].get(str(flag_id))
    if flag is None or flag["team_id"] != team_id:
        raise not_found()
    return flag


def readable_filters(flag: dict[str, Any]) -> dict[str, Any]:
    """PostHog's get_filters(): filters without groups read as one legacy group."""
    filters = flag.get("filters")
    if isinstance(filters, dict) and "groups" in filters:
        return filters
    legacy = filters if isinstance(filters, dict) else {}
    group = {"properties": legacy.get("properties", []), "rollout_percentage": flag.get("rollout_percentage")}
    return {"groups": [group]}


def linked_experiments(state: dict[str, Any], flag_id: int, *, live_only: bool) -> list[dict[str, Any]]:
    return sorted(
        (e for e in m.experiments_on_flag(state, flag_id) if not (live_only and e.get("deleted"))),
        key=lambda e: e["id"],
    )


def live_experiment_ids(state: dict[str, Any]) -> dict[int, list[int]]:
    """Flag id -> ids of the live experiments on it, for rendering many flags with one pass."""
    out: dict[int, list[int]] = {}
    for exp in state["experiments"].values():
        if exp.get("feature_flag_id") is not None and not exp.get("deleted"):
            out.setdefault(exp["feature_flag_id"], []).append(exp["id"])
    return {flag_id: sorted(ids) for flag_id, ids in out.items()}


def _check_key(state: dict[str, Any], team_id: int, key: str, skip: int | None = None) -> None:
    for other in m.flags_with_key(state, team_id, key):
        if not other.get("deleted") and other["id"] != skip:
            raise invalid("There is already a feature flag with this key.", "key", "unique")
    if not KEY.match(key):
        raise invalid("Only letters, numbers, hyphens (-) & underscores (_) are allowed.", "key", "invalid_key")


def _flag_refs(flag: dict[str, Any]) -> list[str]:
    return [str(p.get("key")) for p in flag_filters.properties_of(readable_filters(flag)) if p.get("type") == "flag"]


def dependents(state: dict[str, Any], flag: dict[str, Any]) -> list[dict[str, Any]]:
    """Live, active flags of the team whose conditions depend on this flag."""
    return sorted(
        (
            other
            for other in state["flags"].values()
            if other["team_id"] == flag["team_id"]
            and other["id"] != flag["id"]
            and not other.get("deleted")
            and other.get("active")
            and str(flag["id"]) in _flag_refs(other)
        ),
        key=lambda f: f["key"],
    )


def _disabled_dependencies(state: dict[str, Any], flag: dict[str, Any]) -> list[dict[str, Any]]:
    ids = {ref for ref in _flag_refs(flag) if ref.lstrip("-").isdigit()}
    return sorted(
        (
            other
            for other in state["flags"].values()
            if other["team_id"] == flag["team_id"]
            and str(other["id"]) in ids
            and not other.get("deleted")
            and not other.get("active")
        ),
        key=lambda f: f["key"],
    )


def _names(flags: list[dict[str, Any]]) -> str:
    shown = [f"{f['key']} (ID: {f['id']})" for f in flags[:5]]
    if len(flags) > 5:
        shown.append(f"and {len(flags) - 5} more")
    return ", ".join(shown)


def _rollouts(filters: Any) -> dict[str, Any]:
    """Every rollout percentage of a filters object, by path (what the feature_flag.update gate watches)."""
    out: dict[str, Any] = {}
    if not isinstance(filters, dict):
        return out
    for group_key in ROLLOUT_GROUPS:
        for index, group in enumerate(filters.get(group_key) or []):
            if isinstance(group, dict) and "rollout_percentage" in group:
                out[f"{group_key}[{index}].rollout_percentage"] = group["rollout_percentage"]
    for index, variant in enumerate(flag_filters.variants_of(filters)):
        if isinstance(variant, dict) and "rollout_percentage" in variant:
            out[f"multivariate.variants[{index}].rollout_percentage"] = variant["rollout_percentage"]
    return out


def gated_actions(flag: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """The approval actions a flag PATCH triggers, as each action's ``detect`` in PostHog's
    ``approvals/actions/feature_flags.py`` decides: switching the flag on, switching it off,
    moving a rollout percentage."""
    found = []
    for key, target in (("feature_flag.enable", True), ("feature_flag.disable", False)):
        if "active" in body and body["active"] == target and flag.get("active") != target:
            found.append(key)
    if changes_rollout(flag, body):
        found.append("feature_flag.update")
    return found


def changes_rollout(flag: dict[str, Any], body: dict[str, Any]) -> bool:
    """PostHog's UpdateFeatureFlagAction.detect: a PATCH whose filters move any rollout percentage."""
    desired = body.get("active")
    if desired is not None and desired != flag.get("active") and "filters" not in body:
        return False
    if not body.get("filters"):
        return False
    return _rollouts(flag.get("filters")) != _rollouts(body["filters"])


def create(state: dict[str, Any], team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    key = body["key"]
    _check_key(state, team_id, key)
    if "filters" in body:
        filters = flag_filters.validate(state, team_id, body["filters"], creating=True, key=key)
    else:
        filters = readable_filters({"filters": {}})
    # A soft-deleted flag with the same key is removed for good, unless an experiment still points at it.
    doomed = sorted((f for f in m.flags_with_key(state, team_id, key) if f.get("deleted")), key=lambda f: f["id"])
    if any(linked_experiments(state, f["id"], live_only=False) for f in doomed):
        raise invalid(
            "Feature flag with this key already exists and is used in an experiment. "
            "Please delete the experiment before deleting the flag."
        )
    for old in doomed:
        del state["flags"][str(old["id"])]
    fid = next_id(state, "flag")
    stamp = iso(now)
    flag: dict[str, Any] = {
        "id": fid,
        "team_id": team_id,
        "name": "",
        "key": key,
        "filters": filters,
        "deleted": bool(body.get("deleted", False)),
        "active": True,
        "ensure_experience_continuity": False,
        "has_encrypted_payloads": False,
        "version": 1,
        "evaluation_runtime": "all",
        "bucketing_identifier": "distinct_id",
        "evaluation_contexts": list(dict.fromkeys(body.get("evaluation_contexts") or [])),
        "created_at": stamp,
        "created_by_id": user_id,
        "updated_at": stamp,
        "last_modified_by_id": user_id,
        "tags": [],
        "rollback_conditions": None,
        "performed_rollback": None,
        "is_remote_configuration": False,
        "has_enriched_analytics": False,
        "analytics_dashboards": [],
        "last_called_at": None,
        "usage_dashboard": next_id(state, "dashboard") if body.get("_should_create_usage_dashboard", True) else None,
    }
    for field in STORED:
        if field in body:
            flag[field] = copy.deepcopy(body[field])
    if body.get("active"):
        flag["performed_rollback"] = False
    state["flags"][str(fid)] = flag
    return flag


def update(state: dict[str, Any], flag: dict[str, Any], body: dict[str, Any], gate: approvals.Gate) -> dict[str, Any]:
    team_id = flag["team_id"]
    if "key" in body:
        _check_key(state, team_id, body["key"], skip=flag["id"])
    filters = None
    if "filters" in body:
        filters = flag_filters.validate(
            state, team_id, body["filters"], creating=False, key=body.get("key", flag["key"]), current=flag["filters"]
        )
    gate.check(gated_actions(flag, body), flag["id"])
    new_key = body.get("key", flag["key"])
    if body.get("deleted") is True:
        live = linked_experiments(state, flag["id"], live_only=True)
        if live:
            raise invalid(
                "Cannot delete a feature flag that is linked to active experiment(s) with ID(s): "
                f"{', '.join(str(e['id']) for e in live)}. Please delete the experiment(s) before deleting the flag."
            )
        if found := dependents(state, flag):
            raise invalid(
                f"Cannot delete this feature flag because other flags depend on it: {_names(found)}. "
                "Please update or delete the dependent flags first."
            )
        if linked_experiments(state, flag["id"], live_only=False):
            new_key = f"{flag['key']}:deleted:{flag['id']}"  # frees the key; deleted experiments keep the link
    if body.get("active") is False and flag.get("active") and (found := dependents(state, flag)):
        raise invalid(
            f"Cannot disable this feature flag because other flags depend on it: {_names(found)}. "
            "Please update or disable the dependent flags first."
        )
    if body.get("active") is True and not flag.get("active") and (found := _disabled_dependencies(state, flag)):
        raise invalid(
            f"Cannot enable this feature flag because it depends on disabled flags: {_names(found)}. "
            "Please enable the dependency flags first."
        )

    _check_version(state, flag, body, new_key, filters)

    # -- everything checked: write
    stamp = iso(gate.now)
    for field in STORED:
        if field in body:
            flag[field] = copy.deepcopy(body[field])
    if "deleted" in body:
        flag["deleted"] = bool(body["deleted"])
    if "evaluation_contexts" in body:
        flag["evaluation_contexts"] = list(dict.fromkeys(body["evaluation_contexts"] or []))
    if body.get("active"):
        flag["performed_rollback"] = False
    if new_key != flag["key"]:
        flag["key"] = new_key
    if filters is not None:
        flag["filters"] = filters
    flag.update(version=(flag.get("version") or 0) + 1, updated_at=stamp, last_modified_by_id=gate.user_id)
    if "filters" in body:
        flags.propagate_variants(state, flag, stamp)
    return flag


def _check_version(
    state: dict[str, Any], flag: dict[str, Any], body: dict[str, Any], new_key: str, filters: dict[str, Any] | None
) -> None:
    """PostHog's optimistic concurrency on flag updates: a PATCH whose ``version`` is not the flag's
    current one, sent with the ``original_flag`` it started from, is refused when a field it
    changes (as ``original_flag`` shows) was meanwhile changed by someone else to another value.
    Without ``original_flag`` a stale version is accepted, and every update moves the version on."""
    sent = body.get("version", -1)
    if sent == -1 or sent == (flag.get("version") or 0):
        return
    original = body.get("original_flag")
    if not isinstance(original, dict) or not original:
        return
    changes = {f: body[f] for f in VERSIONED if f in body}  # what the edit writes, as it will be stored
    if new_key != flag["key"]:
        changes["key"] = new_key
    if filters is not None:
        changes["filters"] = filters
    clashes = [
        field
        for field, value in changes.items()
        if field in original and value != original[field] and original[field] != flag.get(field) != value
    ]
    if clashes:
        by = user(state, flag.get("last_modified_by_id"))
        raise conflict(
            f"The feature flag was updated by {by['email'] if by else 'another user'} since you started editing it. "
            "Please refresh and try again."
        )


def _json_list(raw: Any) -> list[Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def fully_rolled_out(flag: dict[str, Any]) -> bool:
    """PostHog's FeatureFlagStatusChecker: every user gets the same value."""
    if not flag.get("active"):
        return False
    filters = readable_filters(flag)
    full_groups = [
        g
        for g in filters.get("groups") or []
        if isinstance(g, dict) and g.get("rollout_percentage") == 100 and not g.get("properties")
    ]
    if filters.get("multivariate"):
        winner = any(v.get("rollout_percentage") == 100 for v in flag_filters.variants_of(filters))
        return bool(full_groups) and (winner or any(g.get("variant") is not None for g in full_groups))
    return not flag.get("filters") or bool(full_groups)


def status(flag: dict[str, Any], now: datetime) -> str:
    if flag.get("deleted"):
        return "DELETED"
    old = (flag.get("created_at") or "") < iso(now - timedelta(days=30))
    return "STALE" if old and fully_rolled_out(flag) else "ACTIVE"


def _stale(flag: dict[str, Any], now: datetime) -> bool:
    month_ago = iso(now - timedelta(days=30))
    if not flag.get("active"):
        return False
    if flag.get("last_called_at"):
        return flag["last_called_at"] < month_ago
    return (flag.get("created_at") or "") < month_ago and fully_rolled_out(flag)


def listing(state: dict[str, Any], team_id: int, query: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Live flags with PostHog's list filters, newest first unless ``order`` says otherwise."""
    search = str(query.get("search") or "").lower()
    excluded = set(_json_list(query.get("excluded_properties")))
    tags = set(map(str, _json_list(query.get("tags"))))
    names: dict[int, list[str]] = {}  # flag id -> names of its live experiments, for search
    if search:
        for exp in state["experiments"].values():
            if not exp.get("deleted") and exp.get("feature_flag_id") is not None:
                names.setdefault(exp["feature_flag_id"], []).append(exp["name"].lower())
    with_experiments = {e.get("feature_flag_id") for e in state["experiments"].values()}
    rows = []
    for flag in state["flags"].values():
        if flag["team_id"] != team_id or flag.get("deleted") or flag["key"] in excluded:
            continue
        if search and not (
            search in flag["key"].lower()
            or search in (flag.get("name") or "").lower()
            or any(search in name for name in names.get(flag["id"], []))
        ):
            continue
        if query.get("type") == "experiment" and flag["id"] not in with_experiments:
            continue
        if not _matches(flag, query, tags, now):
            continue
        rows.append(flag)
    order = query.get("order") or "-created_at"
    field = order.lstrip("-")
    # Postgres order: nulls last ascending, first descending; ties by id.
    rows.sort(key=lambda f: (f.get(field) is None, f.get(field), f["id"]), reverse=order.startswith("-"))
    return rows


def _matches(flag: dict[str, Any], query: dict[str, Any], tags: set[str], now: datetime) -> bool:
    active = query.get("active")
    if active == "STALE" and not _stale(flag, now):
        return False
    if active is not None and active != "STALE" and flag.get("active") != (active == "true"):
        return False
    if query.get("created_by_id") is not None and flag.get("created_by_id") != query["created_by_id"]:
        return False
    kind = query.get("type")
    if kind in ("boolean", "multivariant"):  # the variants only when the filter asks (a list reads every flag)
        variants = flag_filters.variants_of(readable_filters(flag))
        if (kind == "boolean" and variants) or (kind == "multivariant" and not variants):
            return False
    if kind == "remote_config" and not flag.get("is_remote_configuration"):
        return False
    if query.get("evaluation_runtime") and flag.get("evaluation_runtime") != query["evaluation_runtime"]:
        return False
    if tags and not tags & set(flag.get("tags") or []):
        return False
    wanted = query.get("has_evaluation_tags")
    return wanted is None or bool(flag.get("evaluation_contexts")) == (str(wanted).lower() in ("true", "1", "yes"))


def eligible(state: dict[str, Any], team_id: int, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Flags an experiment can use: at least two variants with ``control`` first. Deleted ones are not skipped."""
    search = str(query.get("search") or "").lower()
    active = query.get("active")
    creator = query.get("created_by_id")
    runtime = query.get("evaluation_runtime")
    contexts = query.get("has_evaluation_contexts")
    rows = []
    for flag in state["flags"].values():
        if flag["team_id"] != team_id:
            continue
        variants = flag_filters.variants_of(readable_filters(flag))
        if len(variants) < 2 or variants[0].get("key") != "control":
            continue
        if search and search not in flag["key"].lower() and search not in (flag.get("name") or "").lower():
            continue
        if active is not None and flag.get("active") != (str(active).lower() == "true"):
            continue
        if creator is not None and flag.get("created_by_id") != creator:
            continue
        if runtime and flag.get("evaluation_runtime") != runtime:
            continue
        if contexts is not None and bool(flag.get("evaluation_contexts")) != (
            str(contexts).lower() in ("true", "1", "yes")
        ):
            continue
        rows.append(flag)
    order = query.get("order") or "-created_at"
    if order.lstrip("-") not in ELIGIBLE_ORDERS:
        raise invalid(f"Invalid order field: '{order}'")
    field = order.lstrip("-")
    rows.sort(key=lambda f: (f.get(field) or "", f["id"]), reverse=order.startswith("-"))
    return rows
