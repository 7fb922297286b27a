"""Event definitions: the events a project knows, which is what metrics are allowed to name.

Ingesting an event creates its definition (with ``created_at`` and ``last_seen_at``) or refreshes
``last_seen_at``; ``POST event_definitions/`` defines one before any event arrives (both dates
null, as PostHog leaves them until the first event). Either way the name then passes the
unknown-event check of experiment metrics.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_uuid
from mockserver.vendors.posthog.errors import invalid, not_found

WRITABLE = ("description", "tags", "verified", "hidden", "default_columns")
# event_type values and the name condition each adds ($-prefixed names are PostHog's own events)
EVENT_TYPES = ("event", "event_custom", "event_posthog", "action_event", "all")


def by_name(state: dict[str, Any], team_id: int, name: str) -> dict[str, Any] | None:
    for row in state["event_definitions"].values():
        if row.get("team_id") == team_id and row["name"] == name:
            return row
    return None


def get(state: dict[str, Any], team_id: int, definition_id: str) -> dict[str, Any]:
    row = state["event_definitions"].get(str(definition_id))
    if row is None or row.get("team_id") != team_id:
        raise not_found()
    return row


def record(state: dict[str, Any], team_id: int, name: str, stamp: str | None) -> dict[str, Any]:
    """A new event definition as PostHog stores one, first and last seen at ``stamp``."""
    uid = next_uuid(state)
    row = {
        "id": uid,
        "team_id": team_id,
        "name": name,
        "description": "",
        "tags": [],
        "owner_id": None,
        "created_at": stamp,
        "updated_at": stamp,
        "updated_by_id": None,
        "last_seen_at": stamp,
        "verified": False,
        "verified_at": None,
        "verified_by_id": None,
        "hidden": False,
        "default_columns": [],
    }
    state["event_definitions"][uid] = row
    return row


def ingest(state: dict[str, Any], team_id: int, names: list[str], now: datetime) -> list[dict[str, Any]]:
    """Record that events with these names arrived now: definitions are created or refreshed."""
    stamp = iso(now)
    known: dict[str, dict[str, Any]] = {}  # one pass over the table, not one per name
    for existing in state["event_definitions"].values():
        if existing.get("team_id") == team_id:
            known.setdefault(existing["name"], existing)
    out = []
    for name in dict.fromkeys(names):
        row = known.get(name)
        if row is None:
            row = record(state, team_id, name, stamp)
        else:
            row["last_seen_at"] = stamp
            row["created_at"] = row.get("created_at") or stamp
        out.append(row)
    return out


def create(state: dict[str, Any], team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    name = body["name"]
    if by_name(state, team_id, name) is not None:
        raise invalid(f"Event definition with name '{name}' already exists", "name", "invalid")
    owner = body.get("owner")
    if owner is not None and str(owner) not in state["users"]:
        raise invalid(f'Invalid pk "{owner}" - object does not exist.', "owner", "does_not_exist")
    if body.get("hidden") and body.get("verified"):
        raise invalid("An event cannot be both hidden and verified")
    row = record(state, team_id, name, None)  # dates stay null until the first event is ingested
    for field in WRITABLE:
        if body.get(field) is not None:
            row[field] = body[field]
    stamp = iso(now)
    row.update(owner_id=owner, updated_at=stamp, updated_by_id=user_id)
    if row["verified"]:
        row.update(verified_by_id=user_id, verified_at=stamp, hidden=False)
    if row["hidden"]:
        row.update(verified=False, verified_by_id=None, verified_at=None)
    return row


def _json_list(raw: Any) -> list[Any] | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _ordering(values: list[str]) -> list[tuple[str, bool]]:
    out = []
    for value in values:
        field = value.replace("-", "")
        if value and field in ("name", "last_seen_at", "last_seen_at::date"):
            out.append((field, "-" in value))
    return out or [("last_seen_at::date", True), ("name", False)]


def _sort_value(row: dict[str, Any], field: str) -> Any:
    if field == "name":
        return row["name"]
    seen = row.get("last_seen_at")
    return seen[:10] if seen and field == "last_seen_at::date" else seen


def listing(state: dict[str, Any], team_id: int, query: dict[str, Any], orderings: list[str]) -> list[dict[str, Any]]:
    """PostHog's filters: name terms, event_type, exclude_hidden, excluded_properties, tags; then ordering."""
    terms = [t.lower() for t in str(query.get("search") or "").split()]
    event_type = query.get("event_type") or "event"
    excluded = set(_json_list(query.get("excluded_properties")) or [])
    tags = set(_json_list(query.get("tags")) or [])
    exclude_hidden = str(query.get("exclude_hidden") or "false").lower() == "true"
    rows = []
    for row in state["event_definitions"].values():
        name = row["name"]
        if row.get("team_id") != team_id or any(t not in name.lower() for t in terms):
            continue
        if (event_type == "event_custom" and name.startswith("$")) or (
            event_type == "event_posthog" and not name.startswith("$")
        ):
            continue
        if name in excluded or (exclude_hidden and row.get("hidden")):
            continue
        if tags and not tags & set(row.get("tags") or []):
            continue
        rows.append(row)
    rows.sort(key=lambda r: r["id"])
    # Postgres puts nulls first when ascending, last when descending: the same either way round here.
    for field, descending in reversed(_ordering(orderings)):
        present = sorted(
            (r for r in rows if _sort_value(r, field) is not None),
            key=lambda r, f=field: _sort_value(r, f),
            reverse=descending,
        )
        nulls = [r for r in rows if _sort_value(r, field) is None]
        rows = present + nulls if descending else nulls + present
    return rows
