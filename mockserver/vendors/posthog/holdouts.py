"""Holdout groups: create, update (linked flags follow), delete (linked experiments lose them)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id
from mockserver.vendors.posthog import approvals, flags, inputs
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid


def _stamped(holdout_id: int, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every group of a holdout serves the pseudo-variant holdout-<id>."""
    return [{**copy.deepcopy(item), "variant": f"holdout-{holdout_id}"} for item in filters]


def linked(state, holdout_id: int) -> list[dict[str, Any]]:
    return [e for e in state["experiments"].values() if e.get("holdout_id") == holdout_id]


def _rewrite_flags(state, holdout_id: int, holdout: dict[str, Any] | None) -> None:
    for exp in linked(state, holdout_id):
        flag = m.flag_of(state, exp)
        if flag is not None:
            flags.write_filters(flag, {**flag["filters"], "holdout": flags.holdout_block(holdout)})


def create(state, team_id: int, body: Any, user_id: int, now: datetime) -> dict[str, Any]:
    data = inputs.HOLDOUT.parse(body)
    if not data.get("filters"):
        raise invalid("Filters are required to create an holdout group")
    hid = next_id(state, "holdout")
    stamp = iso(now)
    holdout = {
        "id": hid,
        "team_id": team_id,
        "name": data["name"],
        "description": data.get("description"),
        "filters": _stamped(hid, data["filters"]),
        "created_by_id": user_id,
        "created_at": stamp,
        "updated_at": stamp,
    }
    state["holdouts"][str(hid)] = holdout
    return holdout


def _exclusion_percentage(filters: Any) -> Any:
    """The share of users a holdout holds out: its first group's rollout percentage."""
    if isinstance(filters, list) and filters and isinstance(filters[0], dict):
        return filters[0].get("rollout_percentage")
    return None


def update(state, holdout: dict[str, Any], body: Any, gate: approvals.Gate, partial: bool) -> dict[str, Any]:
    data = inputs.HOLDOUT.parse(body, partial=partial)
    desired = _exclusion_percentage(data.get("filters"))
    if desired is not None and desired != _exclusion_percentage(holdout["filters"]):
        # PostHog's holdout action holds only a change of how many users are held out.
        gate.check(["experiment_holdout.update"], holdout["id"])
    filters = data.get("filters")
    if filters and holdout["filters"] != filters:
        data["filters"] = _stamped(holdout["id"], filters)
        _rewrite_flags(state, holdout["id"], {**holdout, "filters": data["filters"]})
    for name in ("name", "description", "filters"):
        if name in data:
            holdout[name] = copy.deepcopy(data[name])
    holdout["updated_at"] = iso(gate.now)
    return holdout


def delete(state, holdout: dict[str, Any], gate: approvals.Gate) -> None:
    gate.check(["experiment_holdout.delete"], holdout["id"], viewset=True)
    _rewrite_flags(state, holdout["id"], None)
    for exp in linked(state, holdout["id"]):
        exp["holdout_id"] = None
    del state["holdouts"][str(holdout["id"])]
