"""Shared (saved) metrics: unique names per project, server-owned query.uuid, cascade on delete."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id, next_uuid
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid
from mockserver.vendors.posthog.metric_references import check_action_ids, stored_action_ids

WRITABLE = {"name", "description", "query", "tags"}
READ_ONLY = {"id", "created_by", "created_at", "updated_at", "user_access_level"}
LEGACY_KINDS = ("ExperimentTrendsQuery", "ExperimentFunnelsQuery")


def _keys(body: dict[str, Any], verb: str) -> None:
    extra = sorted(k for k in body if k not in WRITABLE and k not in READ_ONLY)
    if extra:
        raise invalid(f"Can't {verb} keys: {', '.join(extra)} on ExperimentSavedMetric")


def _check_query(query: dict[str, Any]) -> None:
    kind = query.get("kind")
    if kind in LEGACY_KINDS:
        raise invalid(
            f"Invalid metric: legacy metric kind '{kind}' is not supported. Use 'ExperimentMetric' instead.",
            "query",
            "invalid",
        )
    if kind != "ExperimentMetric":
        raise invalid("Invalid metric: metric kind must be 'ExperimentMetric'", "query", "invalid")
    if query.get("metric_type") not in ("mean", "funnel", "ratio", "retention"):
        raise invalid("Invalid metric: metric_type must be one of mean, funnel, ratio, retention", "query", "invalid")


def _unique(state, team_id: int, name: str, skip: int | None = None) -> None:
    for row in state["saved_metrics"].values():
        if row["team_id"] == team_id and row["id"] != skip and row["name"].lower() == name.lower():
            raise invalid("A shared metric with this name already exists.", "name", "unique")


def create(state, team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    if not str(body["name"]).strip():
        raise invalid("This field may not be blank.", "name", "blank")
    _unique(state, team_id, body["name"])
    query = copy.deepcopy(body["query"])
    _check_query(query)
    _keys(body, "create")
    check_action_ids(state, team_id, [query])
    query["uuid"] = next_uuid(state)
    mid = next_id(state, "saved_metric")
    stamp = iso(now)
    row = {
        "id": mid,
        "team_id": team_id,
        "name": body["name"],
        "description": body.get("description"),
        "query": query,
        "created_by_id": user_id,
        "created_at": stamp,
        "updated_at": stamp,
        "tags": list(body.get("tags") or []),
    }
    state["saved_metrics"][str(mid)] = row
    return row


def update(state, row: dict[str, Any], body: dict[str, Any], now: datetime) -> dict[str, Any]:
    _keys(body, "update")
    if "name" in body:
        if not str(body["name"]).strip():
            raise invalid("This field may not be blank.", "name", "blank")
        _unique(state, row["team_id"], body["name"], skip=row["id"])
    query = None
    if "query" in body:
        if row["query"].get("kind") in LEGACY_KINDS:
            raise invalid(
                "This saved metric uses a legacy query format and cannot be updated. Please create a new "
                "saved metric with the ExperimentMetric format instead."
            )
        query = copy.deepcopy(body["query"])
        _check_query(query)
        if query.get("uuid") not in (None, row["query"].get("uuid")):
            raise invalid("Saved metric UUID cannot be changed")
        query["uuid"] = row["query"].get("uuid")
        check_action_ids(state, row["team_id"], [query], known=stored_action_ids([row["query"]]))
    for field in ("name", "description", "tags"):
        if field in body:
            row[field] = copy.deepcopy(body[field])
    if query is not None:
        row["query"] = query
    row["updated_at"] = iso(now)
    for exp in state["experiments"].values():
        if any(link["saved_metric"] == row["id"] for link in exp.get("saved_metrics", [])):
            m.sync_ordering(exp, state)
    return row


def delete(state, row: dict[str, Any]) -> None:
    for exp in state["experiments"].values():
        before = exp.get("saved_metrics", [])
        exp["saved_metrics"] = [link for link in before if link["saved_metric"] != row["id"]]
        if len(exp["saved_metrics"]) != len(before):
            m.sync_ordering(exp, state)
    del state["saved_metrics"][str(row["id"])]
