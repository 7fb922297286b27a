"""Whether the events and actions metrics name exist in the project: the check PostHog runs on write.

PostHog refuses an ActionsNode whose action is missing or deleted (``Action(s) with ID 12 not found
or deleted. …``), and an EventsNode event the project never ingested unless
``allow_unknown_events`` is set (``Event(s) 'foo' not found. …``); both answer 400 without a field
name. The project's actions and event definitions are not kept here yet: the part of the mock
that serves them fills this in. Until then every reference is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def check_metric_references(
    state: dict[str, Any],
    team_id: int,
    metric_lists: Sequence[list[Any] | None],
    allow_unknown_events: bool,
) -> None:
    """Raise PostHog's 400 for a missing action, or an unknown event unless allowed.

    ``metric_lists`` holds lists of metrics (a list may be None). PostHog checks the actions of
    every list first, then the events of every list: create passes the primary and secondary
    lists together, update one list per call, and shared metrics pass ``allow_unknown_events``
    (PostHog checks only their actions). A no-op for now.
    """
    return None
