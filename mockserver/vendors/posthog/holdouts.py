"""Holdout groups: create, update (linked flags follow), delete (linked experiments lose them)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id
from mockserver.vendors.posthog import approvals
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid


def _check_filters(filters: Any) -> list[dict[str, Any]]:
    if filters is None:
        raise invalid("Filters are required to create an holdout group")
    if not filters:
        raise invalid("Filters must not be empty.", "filters", "invalid")
    for item in filters:
        pct = item.get("rollout_percentage")
        if pct is None:
            raise invalid("Rollout percentage must be present.", "filters", "invalid")
        if not 0 <= pct <= 100:
            raise invalid("Rollout percentage must be between 0 and 100.", "filters", "invalid")
    return copy.deepcopy(filters)


def _stamp(holdout: dict[str, Any]) -> None:
    for item in holdout["filters"]:
        item["variant"] = f"holdout-{holdout['id']}"


def linked(state, holdout_id: int) -> list[dict[str, Any]]:
    return [e for e in state["experiments"].values() if e.get("holdout_id") == holdout_id]


def create(state, team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    filters = _check_filters(body.get("filters"))
    if not str(body["name"]).strip():
        raise invalid("This field may not be blank.", "name", "blank")
    hid = next_id(state, "holdout")
    stamp = iso(now)
    holdout = {
        "id": hid,
        "team_id": team_id,
        "name": body["name"],
        "description": body.get("description"),
        "filters": filters,
        "created_by_id": user_id,
        "created_at": stamp,
        "updated_at": stamp,
    }
    _stamp(holdout)
    state["holdouts"][str(hid)] = holdout
    return holdout


def update(
    state,
    holdout: dict[str, Any],
    body: dict[str, Any],
    gate: approvals.Gate,
) -> dict[str, Any]:
    filters = _check_filters(body["filters"]) if "filters" in body else None
    if "name" in body and not str(body["name"]).strip():
        raise invalid("This field may not be blank.", "name", "blank")
    gate.check(["experiment_holdout.update"], holdout["id"])
    for field in ("name", "description"):
        if field in body:
            holdout[field] = body[field]
    if filters is not None:
        holdout["filters"] = filters
        _stamp(holdout)
        for exp in linked(state, holdout["id"]):
            m.apply_holdout_to_flag(state, m.flag_of(state, exp), holdout)
    holdout["updated_at"] = iso(gate.now)
    return holdout


def delete(state, holdout: dict[str, Any], gate: approvals.Gate) -> None:
    gate.check(["experiment_holdout.delete"], holdout["id"])
    for exp in linked(state, holdout["id"]):
        exp["holdout_id"] = None
        m.apply_holdout_to_flag(state, m.flag_of(state, exp), None)
    del state["holdouts"][str(holdout["id"])]
