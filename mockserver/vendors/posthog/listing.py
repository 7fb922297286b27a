"""Experiment lists and the velocity stats: PostHog's filters, orderings and counts."""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from mockserver.core.clock import parse_instant
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog.errors import invalid
from mockserver.vendors.posthog.metric_references import event_matcher

ORDER_FIELDS = ("created_at", "created_by", "updated_at", "name", "start_date", "end_date", "duration", "status")
STATUS_RANK = {"draft": 0, "running": 1, "paused": 1, "stopped": 2}


def _sort_key(state, field: str, now: datetime):
    if field not in ("created_by", "duration", "status", "name"):
        return lambda exp: exp.get(field) or ""  # a plain field: no per-row branching on a 10,000-row sort

    def key(exp):
        if field == "created_by":
            who = state["users"].get(str(exp.get("created_by_id"))) or {}
            return (who.get("first_name") or who.get("email") or "").lower()
        if field == "duration":
            if not exp.get("start_date"):
                return -1.0
            stop = parse_instant(exp["end_date"]) if exp.get("end_date") else now
            return (stop - parse_instant(exp["start_date"])).total_seconds()
        if field == "status":
            return STATUS_RANK[m.status_of(exp, m.flag_of(state, exp))]
        if field == "name":
            return exp["name"].lower()
        return exp.get(field) or ""

    return key


def listing(state, team_id: int, query: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    order = query.get("order") or "-created_at"
    field = order[1:] if order.startswith("-") else order
    if field not in ORDER_FIELDS:
        raise invalid(f"Invalid order field: '{order}'")
    flag_filter = query.get("feature_flag_id")
    if flag_filter is not None and not (str(flag_filter).isascii() and str(flag_filter).lstrip("-").isdigit()):
        raise invalid("feature_flag_id must be an integer")
    archived = str(query["archived"]).lower() == "true" if "archived" in query else False
    status = str(query.get("status") or "").lower()
    search = (query.get("search") or "").lower()
    creators = {c.strip() for c in str(query.get("created_by_id") or "").strip("[]").split(",") if c.strip()}
    wanted = {"draft": "draft", "running": "running", "paused": "paused", "stopped": "stopped", "complete": "stopped"}
    wanted_status = wanted.get(status)
    prompt_name = query.get("prompt_name")
    event = query.get("event")
    references = event_matcher(state, team_id, event) if event else None
    rows = []
    for exp in state["experiments"].values():
        if exp["team_id"] != team_id or exp.get("deleted") or bool(exp.get("archived")) != archived:
            continue
        # The status needs the flag: a second lookup per row, so only when the query filters on it.
        if wanted_status is not None and m.status_of(exp, m.flag_of(state, exp)) != wanted_status:
            continue
        if search and search not in exp["name"].lower():
            continue
        if creators and str(exp.get("created_by_id")) not in creators:
            continue
        if flag_filter is not None and str(exp.get("feature_flag_id")) != str(int(flag_filter)):
            continue
        if prompt_name and _prompt_name(exp) != prompt_name:
            continue
        if references is not None and not references(_all_metrics(state, exp)):
            continue
        rows.append(exp)
    rows.sort(key=lambda e: e["id"])
    rows.sort(key=_sort_key(state, field, now), reverse=order.startswith("-"))
    return rows


def _prompt_name(exp: dict[str, Any]) -> Any:
    """``parameters.prompt_metadata.name``, PostHog's ``prompt_name`` filter (a JSON lookup: absent
    anywhere along the path matches nothing)."""
    parameters = exp.get("parameters")
    metadata = parameters.get("prompt_metadata") if isinstance(parameters, dict) else None
    return metadata.get("name") if isinstance(metadata, dict) else None


def _all_metrics(state, exp: dict[str, Any]) -> list[Any]:
    """Inline primary and secondary metrics, then the queries of linked shared metrics."""
    linked = m.saved_queries(state, exp.get("saved_metrics") or []).values()
    inline = [exp.get("metrics"), exp.get("metrics_secondary")]
    return [metric for group in inline if isinstance(group, list) for metric in group] + list(linked)


def check_orderings(state, team_id: int, now: datetime) -> None:
    """Raise where listing() would, whatever its order and filters: what every ordering reads, every row.

    One sort of all the project's live rows per order field, not one listing per order and
    filter: a sort that succeeds on the union succeeds on every part of it (keys of one type).
    """
    rows = [e for e in state["experiments"].values() if e["team_id"] == team_id and not e.get("deleted")]
    rows.sort(key=lambda e: e["id"])
    for exp in rows:
        exp["name"].lower()  # the search filter
    for field in ORDER_FIELDS:
        sorted(map(_sort_key(state, field, now), rows))


class StatsDates(NamedTuple):
    """What the velocity stats read from a project's live experiments: sorted launch and end instants."""

    starts: list[datetime]
    ends: list[datetime]
    active: int  # launched and not ended


def stats_dates(state, team_id: int) -> StatsDates:
    """The part of the stats that changes only with a write (remembered per write by the route)."""
    live = [
        e
        for e in state["experiments"].values()
        if e["team_id"] == team_id and not e.get("deleted") and not e.get("archived")
    ]
    return StatsDates(
        sorted(parse_instant(e["start_date"]) for e in live if e.get("start_date") is not None),
        sorted(parse_instant(e["end_date"]) for e in live if e.get("end_date") is not None),
        sum(1 for e in live if e.get("start_date") and not e.get("end_date")),
    )


def stats(state, team_id: int, now: datetime, dates: StatsDates | None = None) -> dict[str, Any]:
    """PostHog's experiment velocity stats at ``now``: counts of instants in 30-day windows, by bisection."""
    found = dates if dates is not None else stats_dates(state, team_id)

    def within(values: list[datetime], low: int, high: int) -> int:
        """How many of ``values`` fall in [now - high days, now - low days)."""
        return bisect_left(values, now - timedelta(days=low)) - bisect_left(values, now - timedelta(days=high))

    last = within(found.starts, 0, 30)
    previous = within(found.starts, 30, 60)
    # PostHog reports +100% when nothing launched in the previous window but something did now.
    change = round((last - previous) / previous * 100, 1) if previous else (100.0 if last else 0.0)
    return {
        "launched_last_30d": last,
        "launched_previous_30d": previous,
        "percent_change": change,
        "active_experiments": found.active,
        "completed_last_30d": within(found.ends, 0, 30),
    }
