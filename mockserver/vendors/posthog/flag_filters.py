"""A feature flag's ``filters`` checked as PostHog's FeatureFlagSerializer.validate_filters checks them.

Every failure is a 400 on ``attr: "filters"``; the code is DRF's ``invalid`` (answered as
``invalid_input``, like every generic code) unless PostHog names another (``cohort_does_not_exist``,
``behavioral_cohort_found``, ``invalid_date``, ``invalid_value``, ``invalid_operator``).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from mockserver.core.clock import parse_instant
from mockserver.vendors.posthog.cohorts import is_behavioral
from mockserver.vendors.posthog.errors import invalid

MAX_PROPERTY_VALUES = 1000
STRING_OPERATORS = ("regex", "icontains", "not_regex", "not_icontains", "gte", "lte", "gt", "lt")
PROPERTY_TYPES = (
    "event",
    "person",
    "cohort",
    "element",
    "static-cohort",
    "precalculated-cohort",
    "group",
    "recording",
    "log_entry",
    "behavioral",
    "session",
    "hogql",
    "data_warehouse",
    "data_warehouse_person_property",
    "error_tracking_issue",
    "flag",
)
RELATIVE_DATE = re.compile(r"^-?[0-9]+[hdwmy]$")


def _fail(detail: str, code: str = "invalid"):
    return invalid(detail, "filters", code)


def variants_of(filters: dict[str, Any]) -> list[dict[str, Any]]:
    multivariate = filters.get("multivariate")
    variants = multivariate.get("variants") if isinstance(multivariate, dict) else None
    return variants if isinstance(variants, list) else []


def properties_of(filters: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for group in filters.get("groups") or [] for p in group.get("properties") or [] if isinstance(p, dict)]


def _typed(prop: dict[str, Any]) -> dict[str, Any]:
    """PostHog builds a Property from each entry: the type defaults to event and a value is required."""
    kind = prop.get("type") or "event"
    if kind not in PROPERTY_TYPES:
        raise _fail(f"Invalid property type: {kind}")
    if prop.get("value") is None and prop.get("operator") not in ("is_set", "is_not_set"):
        raise _fail(f"Value must be set for property type {kind} & operator {prop.get('operator')}")
    return dict(prop, type=kind)


def _dependencies(state: dict[str, Any], team_id: int, filters: dict[str, Any]) -> set[str]:
    """Keys of the flags this one depends on; each must be a live, active flag named by id."""
    keys = set()
    for prop in properties_of(filters):
        if prop.get("type") != "flag" or not prop.get("key"):
            continue
        ref = prop["key"]
        if isinstance(ref, bool) or not str(ref).lstrip("-").isdigit():
            raise _fail(
                f"Flag dependencies must reference flag IDs (integers), not flag keys. Invalid reference: '{ref}'"
            )
        flag_id = int(ref)
        target = state["flags"].get(str(flag_id))
        if target is None or target["team_id"] != team_id or target.get("deleted"):
            raise _fail(f"Flag dependency references non-existent flag with ID {flag_id}")
        if not target.get("active"):
            raise _fail(
                f"Cannot create dependency on disabled flag '{target['key']}' (ID: {flag_id}). "
                "Flag dependencies must reference active flags only."
            )
        keys.add(target["key"])
    return keys


def _check_cycles(state: dict[str, Any], team_id: int, key: str | None, filters: dict[str, Any]) -> None:
    if not key:
        return
    deps = _dependencies(state, team_id, filters)
    if key in deps:
        raise _fail(f"Feature flag '{key}' cannot depend on itself")

    def visit(flag_key: str, path: list[str]) -> None:
        if flag_key in path:
            cycle = [*path[path.index(flag_key) :], flag_key]
            raise _fail(f"Circular dependency detected: {' → '.join(cycle)}")
        flag = next(
            (
                f
                for f in state["flags"].values()
                if f["team_id"] == team_id and f["key"] == flag_key and not f.get("deleted")
            ),
            None,
        )
        if flag is None:
            return
        for dep in _dependencies(state, team_id, flag.get("filters") or {}):
            visit(dep, [*path, flag_key])

    for dep in sorted(deps):
        visit(dep, [key])


def _valid_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if RELATIVE_DATE.match(value.strip()):
        return True
    try:
        parse_instant(value)
        return True
    except ValueError:
        pass
    try:
        date.fromisoformat(value.strip())
        return True
    except ValueError:
        return False


def _check_property(state: dict[str, Any], team_id: int, prop: dict[str, Any]) -> None:
    value, operator, kind = prop.get("value"), prop.get("operator"), prop["type"]
    if isinstance(value, list) and len(value) > MAX_PROPERTY_VALUES:
        raise _fail(
            f"Property group expressions of type {prop.get('key')} cannot contain more than "
            f"{MAX_PROPERTY_VALUES} values."
        )
    if kind == "cohort":
        cohort = state["cohorts"].get(str(value)) if isinstance(value, int | str) else None
        if cohort is None or cohort.get("team_id") != team_id:
            raise _fail(f"Cohort with id {value} does not exist", "cohort_does_not_exist")
        if is_behavioral(state, cohort):
            raise _fail(
                f"Cohort '{cohort['name']}' with filters on events cannot be used in feature flags.",
                "behavioral_cohort_found",
            )
    if operator in ("is_date_before", "is_date_after") and not _valid_date(value):
        raise _fail(f"Invalid date value: {value}", "invalid_date")
    if operator in STRING_OPERATORS and not isinstance(value, str):
        raise _fail(f"Invalid value for operator {operator}: {value}", "invalid_value")
    if operator in ("in", "not_in") and kind != "cohort":
        raise _fail(
            f"The '{operator}' operator is only valid for cohort properties, not '{kind}' properties.",
            "invalid_operator",
        )


def _payloads(filters: dict[str, Any], variant_keys: set[str]) -> dict[str, Any] | None:
    payloads = filters.get("payloads", {})
    if not isinstance(payloads, dict):
        raise _fail("Payloads must be passed as a dictionary")
    normalised = {}
    for key, value in payloads.items():
        if isinstance(value, dict):
            value = json.dumps(value)  # JSON objects are kept as strings, as the UI sends them
        elif isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise _fail("Payload value is not valid JSON") from None
        normalised[key] = value
    if filters.get("multivariate"):
        if not all(key in variant_keys for key in normalised):
            raise _fail("Payload keys must match a variant key for multivariate flags")
    elif len(normalised) > 1 or any(key != "true" for key in normalised):
        raise _fail("Payload keys must be 'true' for boolean flags")
    return normalised if "payloads" in filters else None


def validate(
    state: dict[str, Any],
    team_id: int,
    filters: dict[str, Any],
    *,
    creating: bool,
    key: str | None,
    current: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The filters to store; a PATCH without ``groups`` keeps the current ones, as PostHog does."""
    if not creating and "groups" not in filters:
        return current or {}
    filters = json.loads(json.dumps(filters))
    filters.setdefault("groups", [])
    if creating and not filters["groups"]:
        raise _fail("Feature flags must have at least one condition set (group).")
    props = [_typed(p) for p in properties_of(filters)]
    aggregation = filters.get("aggregation_group_type_index")
    if aggregation is None:
        if not all(p["type"] in ("person", "cohort", "flag") for p in props):
            raise _fail("Filters are not valid (can only use person, cohort, and flag properties)")
        if any(p["type"] == "flag" and p.get("operator") != "flag_evaluates_to" for p in props):
            raise _fail("Flag properties must use the 'flag_evaluates_to' operator")
        _check_cycles(state, team_id, key, filters)
    elif not all(p["type"] == "group" and p.get("group_type_index") == aggregation for p in props):
        raise _fail("Filters are not valid (can only use group properties)")
    variants = variants_of(filters)
    if variants and sum(v.get("rollout_percentage", 0) or 0 for v in variants) != 100:
        raise _fail("Invalid variant definitions: Variant rollout percentages must sum to 100.", "invalid_input")
    variant_keys = {v.get("key") for v in variants}
    for group in filters["groups"]:
        if group.get("variant") and group["variant"] not in variant_keys:
            raise _fail("Filters are not valid (variant override does not exist)")
        for prop in group.get("properties") or []:
            if isinstance(prop, dict):
                _check_property(state, team_id, _typed(prop))
    payloads = _payloads(filters, variant_keys)
    if payloads is not None:
        filters["payloads"] = payloads
    return filters
