"""Shared (saved) metrics: a named ExperimentMetric query with a server-owned uuid.

Create and update read the body through PostHog's serializer, then the metric service's checks
(query required and valid, uuid fixed once assigned, legacy queries frozen). Deleting one drops its
links from experiments; their display orders keep the uuid, as PostHog leaves them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id, next_uuid
from mockserver.vendors.posthog import inputs, metric_validation
from mockserver.vendors.posthog.errors import invalid
from mockserver.vendors.posthog.metric_references import check_metric_references, stored_action_ids

LEGACY_FROZEN = (
    "This saved metric uses a legacy query format and cannot be updated. "
    "Please create a new saved metric with the ExperimentMetric format instead."
)


def _normalised_query(state, query: Any, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The query as stored: checked unless resent unchanged, with the uuid the metric already has."""
    if not (query and stored is not None and query == stored):
        metric_validation.check_saved_query(query)
    out = dict(query)
    stored_uuid = (stored or {}).get("uuid")
    if stored_uuid and out.get("uuid") and out["uuid"] != stored_uuid:
        raise invalid("Saved metric UUID cannot be changed")
    out["uuid"] = stored_uuid or next_uuid(state)
    return out


def create(state, team_id: int, body: Any, user_id: int, now: datetime) -> dict[str, Any]:
    data = inputs.SAVED_METRIC.parse(body)
    query = _normalised_query(state, data["query"], None)
    check_metric_references(state, team_id, [[query]], True)
    mid = next_id(state, "saved_metric")
    stamp = iso(now)
    row = {
        "id": mid,
        "team_id": team_id,
        "name": data["name"],
        "description": data.get("description"),
        "query": query,
        "created_by_id": user_id,
        "created_at": stamp,
        "updated_at": stamp,
        "tags": list(data.get("tags") or []),
    }
    state["saved_metrics"][str(mid)] = row
    return row


def update(state, row: dict[str, Any], body: Any, now: datetime, partial: bool) -> dict[str, Any]:
    data = inputs.SAVED_METRIC.parse(body, partial=partial)
    tags = data.pop("tags", None)
    if metric_validation.is_legacy(row["query"]):
        raise invalid(LEGACY_FROZEN)
    query = _normalised_query(state, data["query"], row["query"]) if "query" in data else None
    if query is not None:
        # An update is checked for the actions it adds, not for those the stored query already names.
        known = stored_action_ids([row["query"]])
        check_metric_references(state, row["team_id"], [[query]], True, known_action_ids=known)
    for name in ("name", "description"):
        if name in data:
            row[name] = data[name]
    if query is not None:
        row["query"] = query
    if tags is not None:
        row["tags"] = list(tags)
    if data:
        row["updated_at"] = iso(now)
    return row


def delete(state, row: dict[str, Any]) -> None:
    for exp in state["experiments"].values():
        links = exp.get("saved_metrics") or []
        if any(link["saved_metric"] == row["id"] for link in links):
            exp["saved_metrics"] = [link for link in links if link["saved_metric"] != row["id"]]
    del state["saved_metrics"][str(row["id"])]
