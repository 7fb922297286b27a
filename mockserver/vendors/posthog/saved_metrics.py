"""Shared (saved) metrics: a named ExperimentMetric query with a server-owned uuid.

Create and update read the body through PostHog's serializer, then the metric service's checks
(query required and valid, uuid fixed once assigned, legacy queries frozen). Deleting one drops its
links from experiments; their display orders keep the uuid, as PostHog leaves them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id, next_uuid
from mockserver.vendors.posthog import inputs, metric_validation
from mockserver.vendors.posthog.errors import invalid
from mockserver.vendors.posthog.metric_references import check_metric_references, event_matcher, stored_action_ids

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


NAME_TAKEN = "A shared metric with this name already exists."


def listing(state, team_id: int, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Ordered by lower-cased name. ``search`` is DRF's SearchFilter over name, description and tag
    names (every term must match one of them); ``event`` keeps metrics whose query references it."""
    terms = search_terms(query.get("search") or "")
    references = event_matcher(state, team_id, query["event"]) if query.get("event") else None
    rows = []
    for row in state["saved_metrics"].values():
        if row["team_id"] != team_id:
            continue
        if terms:
            fields = [row["name"], row.get("description") or "", *(str(t) for t in row.get("tags") or [])]
            folded = [f.casefold() for f in fields]
            if not all(any(term in f for f in folded) for term in terms):
                continue
        if references is not None and not references([row["query"]]):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (r["name"].lower(), r["id"]))
    return rows


# Django's smart_split: words, with quoted stretches (and the words they sit in) kept whole.
_SMART_SPLIT = re.compile(r"""((?:[^\s'"]*(?:(?:"(?:[^"\\]|\\.)*" | '(?:[^'\\]|\\.)*')[^\s'"]*)+) | \S+)""", re.VERBOSE)


def search_terms(text: str) -> list[str]:
    """DRF's SearchFilter terms (``search_smart_split``): Django's smart_split, then a quoted
    phrase is one term (its quotes taken off) and anything else is split on commas."""
    terms: list[str] = []
    for found in _SMART_SPLIT.finditer(text.replace("\x00", "")):
        term = found[0].strip(",")
        if len(term) > 1 and term[0] in "\"'" and term[0] == term[-1]:
            quote = term[0]
            terms.append(term[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\"))
        else:
            terms.extend(part.strip() for part in term.split(",") if part)
    return [term.casefold() for term in terms if term]


def _check_name(state, team_id: int, name: str, skip: int | None = None) -> None:
    """PostHog's validate_name: unique within the project, compared case-insensitively."""
    folded = name.upper()
    for row in state["saved_metrics"].values():
        if row["team_id"] == team_id and row["id"] != skip and str(row["name"]).upper() == folded:
            raise invalid(NAME_TAKEN, "name")


def create(state, team_id: int, body: Any, user_id: int, now: datetime) -> dict[str, Any]:
    data = inputs.SAVED_METRIC.parse(body)
    _check_name(state, team_id, data["name"])
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
    if "name" in data:
        _check_name(state, row["team_id"], data["name"], skip=row["id"])
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
