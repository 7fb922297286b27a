"""Actions: named event matchers that metrics may reference by id (``ActionsNode``).

Names are unique among a project's live actions; list answers only live ones, retrieve answers a
soft-deleted one too (a metric naming it is still refused).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.store import next_id
from mockserver.vendors.posthog.errors import invalid, not_found

STEP_FIELDS = ("tag_name", "text", "text_matching", "href", "href_matching", "selector", "url", "event", "properties")
ORDERINGS = ("name", "created_at", "pinned_at", "created_by")


def get(state: dict[str, Any], team_id: int, action_id: int) -> dict[str, Any]:
    row = state["actions"].get(str(action_id))
    if row is None or row.get("team_id") != team_id:
        raise not_found()
    return row


def _step(raw: dict[str, Any]) -> dict[str, Any]:
    """A step as PostHog stores it: every field present, url matching by substring unless told."""
    step: dict[str, Any] = {field: raw.get(field) for field in STEP_FIELDS}
    step["url_matching"] = raw.get("url_matching", "contains")
    return step


def check_name(state: dict[str, Any], team_id: int, name: Any, skip: int | None = None) -> None:
    if name is not None and not str(name).strip():
        raise invalid("This field may not be blank.", "name", "blank")
    for row in state["actions"].values():
        if row.get("team_id") == team_id and not row.get("deleted") and row["id"] != skip and row["name"] == name:
            raise invalid(f"This project already has an action with this name, ID {row['id']}", "name", "unique")


def create(state: dict[str, Any], team_id: int, body: dict[str, Any], user_id: int, now: datetime) -> dict[str, Any]:
    name = body.get("name")
    check_name(state, team_id, name)
    aid = next_id(state, "action")
    stamp = iso(now)
    row = {
        "id": aid,
        "team_id": team_id,
        "name": name,
        "description": body.get("description") or "",
        "tags": list(body.get("tags") or []),
        "post_to_slack": bool(body.get("post_to_slack", False)),
        "slack_message_format": body.get("slack_message_format") or "",
        "steps": [_step(step) for step in body.get("steps") or []],
        "created_at": stamp,
        "created_by_id": user_id,
        "deleted": bool(body.get("deleted", False)),
        "last_calculated_at": stamp,
        "pinned_at": body.get("pinned_at") or None,
    }
    state["actions"][str(aid)] = row
    return row


def _creator_key(state: dict[str, Any], row: dict[str, Any]) -> tuple[str, str]:
    who = state["users"].get(str(row.get("created_by_id"))) or {}
    return (who.get("first_name") or "", who.get("last_name") or "")


def listing(state: dict[str, Any], team_id: int, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Live actions with PostHog's opt-in filters; default order: last calculated first, then name."""
    search = str(query.get("search") or "").lower()
    creators = {int(v) for v in str(query.get("created_by") or "").split(",") if v.strip().isdigit()}
    try:
        tags = json.loads(query["tags"]) if query.get("tags") else None
    except ValueError:
        tags = None
    rows = [
        row
        for row in state["actions"].values()
        if row.get("team_id") == team_id
        and not row.get("deleted")
        and (not search or search in (row.get("name") or "").lower())
        and (not creators or row.get("created_by_id") in creators)
        and (not tags or not isinstance(tags, list) or set(row.get("tags") or []) & set(map(str, tags)))
    ]
    rows.sort(key=lambda r: (r.get("name") is None, r.get("name") or "", r["id"]))
    raw = str(query.get("ordering") or "")
    field = raw.lstrip("-")
    if field not in ORDERINGS:
        rows.sort(key=lambda r: r.get("last_calculated_at") or "", reverse=True)
        return rows
    if field == "created_by":
        rows.sort(key=lambda r: _creator_key(state, r), reverse=raw.startswith("-"))
        return rows
    present = [r for r in rows if r.get(field) is not None]
    nulls = [r for r in rows if r.get(field) is None]
    present.sort(key=lambda r: r[field], reverse=raw.startswith("-"))
    # Postgres sorts nulls as the largest value: last ascending, first descending.
    return nulls + present if raw.startswith("-") else present + nulls


def page_bounds(query: dict[str, Any]) -> tuple[int, int | None]:
    """limit/offset are opt-in; values that are not non-negative integers are ignored, as PostHog does."""

    def parse(raw: Any) -> int | None:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return None
        return value if value >= 0 else None

    return parse(query.get("offset")) or 0, parse(query.get("limit"))
