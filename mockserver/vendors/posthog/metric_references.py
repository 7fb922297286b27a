"""Whether a metric's events and actions exist in the project: the check PostHog runs on write.

PostHog refuses an ActionsNode whose action is missing or deleted, and an EventsNode event no
project has ingested unless ``allow_unknown_events`` is set. The project's actions and event
definitions are not kept here yet: the part of the mock that serves them fills this in. Until
then every reference is accepted.
"""

from __future__ import annotations

from typing import Any


def check_metric_references(
    state: dict[str, Any], team_id: int, metrics: list[Any] | None, allow_unknown_events: bool
) -> None:
    """Raise PostHog's 400 for a missing action, or an unknown event unless allowed; a no-op for now."""
    return None
