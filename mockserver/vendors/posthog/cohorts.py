"""Cohorts: listed and read through the API; an experiment's exposure cohort is created here.

The exposure cohort is PostHog's behavioral cohort of people who performed the experiment's
exposure event since its start date: ``$feature_flag_called`` with ``$feature_flag`` equal to the
flag key, or the first entity of ``parameters.custom_exposure_filter`` (an event or an action, with
its event, feature, element and HogQL property filters).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso, parse_instant
from mockserver.core.store import next_id
from mockserver.vendors.posthog import lifecycle
from mockserver.vendors.posthog.errors import invalid, not_found

EXPOSURE_PROPERTY_TYPES = ("event", "feature", "element", "hogql")
# The attributes of PostHog's Property, in the order its to_dict() lists those that are set.
PROPERTY_ATTRS = (
    "key",
    "operator",
    "type",
    "group_type_index",
    "event_type",
    "operator_value",
    "time_value",
    "time_interval",
    "total_periods",
    "min_periods",
    "seq_event_type",
    "seq_event",
    "seq_time_value",
    "seq_time_interval",
    "negation",
)


def get(state: dict[str, Any], team_id: int, cohort_id: int) -> dict[str, Any]:
    row = state["cohorts"].get(str(cohort_id))
    if row is None or row.get("team_id") != team_id:
        raise not_found()
    return row


def experiment_set(state: dict[str, Any], cohort_id: int) -> list[int]:
    return sorted(e["id"] for e in state["experiments"].values() if e.get("exposure_cohort") == cohort_id)


def flat_properties(node: Any) -> list[dict[str, Any]]:
    """A property list or a property group ({type, values}), flattened to its leaf properties."""
    if isinstance(node, list):
        return [leaf for item in node for leaf in flat_properties(item)]
    if isinstance(node, dict):
        if isinstance(node.get("values"), list) and node.get("type") in ("AND", "OR"):
            return flat_properties(node["values"])
        return [node]
    return []


def is_behavioral(state: dict[str, Any], cohort: dict[str, Any], seen: frozenset[int] = frozenset()) -> bool:
    """Filters on events, directly or through a cohort it includes: such cohorts cannot target flags."""
    leaves = flat_properties((cohort.get("filters") or {}).get("properties"))
    for leaf in leaves:
        if leaf.get("type") == "behavioral":
            return True
        if leaf.get("type") == "cohort" and str(leaf.get("value")) not in {str(s) for s in seen}:
            nested = state["cohorts"].get(str(leaf.get("value")))
            if nested and is_behavioral(state, nested, seen | {cohort["id"]}):
                return True
    return False


def _property(raw: dict[str, Any]) -> dict[str, Any]:
    """PostHog's Property(**raw).to_dict(): the type defaults to event, unset attributes are left out."""
    prop = dict(raw, type=raw.get("type") or "event")
    value = prop.get("value")
    if value is None and prop.get("operator") in ("is_set", "is_not_set"):
        value = prop["operator"]
    if value is None:
        raise invalid(f"Value must be set for property type {prop['type']} & operator {prop.get('operator')}")
    out = {attr: prop[attr] for attr in PROPERTY_ATTRS if prop.get(attr) is not None}
    out["value"] = value
    return out


def _entities(custom: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A legacy filter's entities: actions then events (JSON strings allowed), ordered by ``order``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for key in ("actions", "events"):
        items = custom.get(key) or []
        if isinstance(items, str):
            try:
                items = json.loads(items)
            except ValueError:
                items = []
        if isinstance(items, list):
            found.extend((key, item) for item in items if isinstance(item, dict))
    found.sort(key=lambda pair: _order(pair[1].get("order")))
    return found


def _order(value: Any) -> float:
    """An entity without an order (or with order 0) sorts first, as in PostHog's Filter."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) and value else -1


def _target(exp: dict[str, Any], flag: dict[str, Any]) -> tuple[Any, str, list[dict[str, Any]]]:
    default = ("$feature_flag_called", "events", [
        {"key": "$feature_flag", "value": [flag["key"]], "operator": "exact", "type": "event"}
    ])  # fmt: skip
    custom = (exp.get("parameters") or {}).get("custom_exposure_filter")
    entities = _entities(custom) if isinstance(custom, dict) and custom else []
    if not entities:
        return default
    kind, entity = entities[0]
    entity_id = entity.get("id")
    if not entity_id:
        return default
    if kind == "actions":
        try:
            entity_id = int(entity_id)
        except (TypeError, ValueError):
            raise invalid("Invalid action ID") from None
    every = [_property(leaf) for leaf in flat_properties(entity.get("properties"))]  # all are parsed first
    return entity_id, kind, [prop for prop in every if prop["type"] in EXPOSURE_PROPERTY_TYPES]


def create_exposure_cohort(
    state: dict[str, Any], exp: dict[str, Any], flag: dict[str, Any] | None, user_id: int, now: datetime
) -> dict[str, Any]:
    lifecycle.require("create_exposure_cohort", exp, flag)
    key, event_type, event_filters = _target(exp, flag)
    cid = next_id(state, "cohort")
    cohort = {
        "id": cid,
        "team_id": exp["team_id"],
        "name": f'Users exposed to experiment "{exp["name"]}"',
        "description": "",
        "groups": [],
        "deleted": False,
        "filters": {
            "properties": {
                "type": "OR",
                "values": [
                    {
                        "type": "OR",
                        "values": [
                            {
                                "type": "behavioral",
                                "value": "performed_event",
                                "key": key,
                                "negation": False,
                                "event_type": event_type,
                                "event_filters": event_filters,
                                # Python's isoformat, as PostHog writes it: an offset, not a Z.
                                "explicit_datetime": parse_instant(exp["start_date"]).isoformat(),
                            }
                        ],
                    }
                ],
            }
        },
        "query": None,
        "is_calculating": True,
        "created_by_id": user_id,
        "created_at": iso(now),
        "last_calculation": None,
        "errors_calculating": 0,
        "count": None,
        "is_static": False,
        "cohort_type": "behavioral",
    }
    state["cohorts"][str(cid)] = cohort
    exp["exposure_cohort"] = cid  # PostHog saves only this field: updated_at stays as it was
    return cohort


def listing(state: dict[str, Any], team_id: int, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Live cohorts, newest first, with PostHog's filters (type, created_by_id, search, hide_behavioral_cohorts)."""
    kind = query.get("type")
    creator = query.get("created_by_id")
    search = str(query.get("search") or "").lower()
    hide_behavioral = str(query.get("hide_behavioral_cohorts") or "false").lower() == "true"
    rows = []
    for row in state["cohorts"].values():
        if row.get("team_id") != team_id or row.get("deleted"):
            continue
        if (kind == "static" and not row.get("is_static")) or (kind == "dynamic" and row.get("is_static")):
            continue
        if creator is not None and str(row.get("created_by_id")) != str(creator):
            continue
        if search and search not in (row.get("name") or "").lower():
            continue
        if hide_behavioral and is_behavioral(state, row):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (r.get("created_at") or "", r["id"]), reverse=True)
    return rows
