"""What experiment metrics name: actions that must exist and events the project must have ingested.

PostHog reads the entity nodes of each metric (a mean's source, a funnel's steps, a ratio's numerator
and denominator, a retention's start and completion events). An ``ActionsNode`` must name a live
action of the project; an ``EventsNode`` must name an event the project has an event definition for
(ingestion creates one, so does ``POST event_definitions/``) unless the caller passes
``allow_unknown_events``. A blank or missing event means "all events" and is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mockserver.vendors.posthog.errors import invalid


def _nodes(metric: dict[str, Any]) -> list[Any]:
    kind = metric.get("metric_type")
    if kind == "mean":
        return [metric.get("source")]
    if kind == "funnel":
        return list(metric.get("series") or [])
    if kind == "ratio":
        return [metric.get("numerator"), metric.get("denominator")]
    if kind == "retention":
        return [metric.get("start_event"), metric.get("completion_event")]
    return []


def _as_action_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # the metric's shape check rejects it before this one runs


def entity_references(metrics: Iterable[Any] | None) -> tuple[set[str], set[int]]:
    """The event names and action ids the metrics reference."""
    events: set[str] = set()
    actions: set[int] = set()
    for metric in metrics or []:
        if not isinstance(metric, dict):
            continue
        for node in _nodes(metric):
            if not isinstance(node, dict):
                continue
            if node.get("kind") == "EventsNode":
                event = node.get("event")
                if isinstance(event, str) and event.strip():
                    events.add(event)
            elif node.get("kind") == "ActionsNode" and node.get("id") is not None:
                action_id = _as_action_id(node["id"])
                if action_id is not None:
                    actions.add(action_id)
    return events, actions


def ingested_event_names(state: dict[str, Any], team_id: int) -> set[str]:
    return {d["name"] for d in state["event_definitions"].values() if d.get("team_id") == team_id}


def check_action_ids(state: dict[str, Any], team_id: int, metrics: Any, known: Iterable[int] = ()) -> None:
    """Every ActionsNode names a live action of the project (ids in ``known`` are exempt)."""
    _, action_ids = entity_references(metrics)
    action_ids -= set(known)
    live = {
        a["id"]
        for a in state["actions"].values()
        if a.get("team_id") == team_id and not a.get("deleted") and a["id"] in action_ids
    }
    missing = sorted(action_ids - live)
    if missing:
        raise invalid(
            f"Action(s) with ID {', '.join(str(i) for i in missing)} not found or deleted. "
            "Each ActionsNode must reference an existing action belonging to this project."
        )


def check_event_names(state: dict[str, Any], team_id: int, metrics: Any) -> None:
    """Every EventsNode names an event the project has ingested."""
    events, _ = entity_references(metrics)
    unknown = sorted(events - ingested_event_names(state, team_id)) if events else []
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        raise invalid(
            f"Event(s) {names} not found. No events with these names have been ingested by this project. "
            "If you meant a different event, please correct it. Only if the user has explicitly confirmed "
            "they want to proceed with the unknown event (e.g. they will instrument it shortly), call again "
            "with allow_unknown_events=True. Do not flip the flag silently to bypass this check."
        )


def check_metric_references(
    state: dict[str, Any],
    team_id: int,
    metric_lists: Sequence[Any],
    allow_unknown_events: bool,
    *,
    known_action_ids: Iterable[int] = (),
) -> None:
    """Raise PostHog's 400 for a missing action, or an unknown event unless allowed.

    ``metric_lists`` holds lists of metrics (a list may be None). PostHog checks the actions of
    every list first, then the events of every list: create passes the primary and secondary
    lists together, update one list per call, and shared metrics pass ``allow_unknown_events``
    (PostHog checks only their actions). Actions in ``known_action_ids`` (those a stored metric
    already names) are not checked again.
    """
    for group in metric_lists:
        check_action_ids(state, team_id, group, known_action_ids)
    if not allow_unknown_events:
        for group in metric_lists:
            check_event_names(state, team_id, group)


def stored_action_ids(metrics: Any) -> set[int]:
    """Actions a stored metric already names: an update is checked for what it adds, not what it resends."""
    return entity_references(metrics)[1]


def _collect(node: Any, events: set[str], actions: set[int]) -> None:
    """Every EventsNode event and ActionsNode id anywhere in a metric (PostHog walks the whole JSON,
    legacy queries included, unlike the entity check above)."""
    if isinstance(node, dict):
        kind = node.get("kind")
        if kind == "EventsNode":
            event = node.get("event")
            if isinstance(event, str) and event:  # a null event is "all events": no name to match
                events.add(event)
        elif kind == "ActionsNode" and "id" in node:
            action_id = _as_action_id(node["id"])
            if action_id is not None:
                actions.add(action_id)
        for value in node.values():
            _collect(value, events, actions)
    elif isinstance(node, list):
        for item in node:
            _collect(item, events, actions)


def event_matcher(state: dict[str, Any], team_id: int, event: str) -> Callable[[Iterable[Any]], bool]:
    """The ``?event=`` filter of experiment and shared-metric lists: do these metrics reference the
    event, directly or as a step event of a live action of the project (resolved now, as PostHog
    does, so a renamed step changes what matches)?"""
    resolved: dict[int, set[str]] = {}

    def action_events(action_id: int) -> set[str]:
        if action_id not in resolved:
            row = state["actions"].get(str(action_id))
            live = row is not None and row.get("team_id") == team_id and not row.get("deleted")
            steps = (row.get("steps") or []) if live else []
            resolved[action_id] = {s["event"] for s in steps if isinstance(s, dict) and isinstance(s.get("event"), str)}
        return resolved[action_id]

    def matches(metrics: Iterable[Any]) -> bool:
        events: set[str] = set()
        actions: set[int] = set()
        _collect(list(metrics), events, actions)
        return event in events or any(event in action_events(a) for a in actions)

    return matches
