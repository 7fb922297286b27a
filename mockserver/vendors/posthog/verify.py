"""Every PostHog record of a candidate state, rendered as the API would serve it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from mockserver.core.verify import Check
from mockserver.vendors.posthog import approvals, feature_flags, listing, timeseries
from mockserver.vendors.posthog import resource_serializers as rs
from mockserver.vendors.posthog import serializers as s


def checks(state: dict[str, Any]) -> Iterator[Check]:
    now = datetime.now(UTC)
    live = cache(partial(feature_flags.live_experiment_ids, state))  # one pass for all flags, not one per flag
    for key, row in state["experiments"].items():
        yield f"experiments.{key}", "experiments_retrieve", partial(_experiment, state, row)
    for key, row in state["holdouts"].items():
        yield f"holdouts.{key}", "experiment_holdouts_retrieve", partial(s.holdout, state, row)
    for key, row in state["saved_metrics"].items():
        yield f"saved_metrics.{key}", "experiment_saved_metrics_retrieve", partial(s.saved_metric, state, row)
    for key, row in state["flags"].items():
        yield f"flags.{key}", "feature_flags_retrieve", partial(_flag, state, row, now, live)
    for key, row in state["cohorts"].items():
        yield f"cohorts.{key}", "cohorts_retrieve", partial(rs.cohort, state, row)
    for key, row in state["actions"].items():
        yield f"actions.{key}", "actions_retrieve", partial(rs.action, state, row)
    for key, row in state["event_definitions"].items():
        yield f"event_definitions.{key}", "event_definitions_retrieve", partial(rs.event_definition, state, row)
    for key in state["projects"]:
        yield f"projects.{key}", "experiments_stats_retrieve", partial(_project, state, int(key), now)
    for key, row in state["timeseries_requests"].items():  # read by timeseries_results: its instants
        yield f"timeseries_requests.{key}", None, partial(timeseries.completed_at, row)
    for key, row in state["change_requests"].items():  # served by the control API: rendered, not contract-checked
        yield f"change_requests.{key}", None, partial(_change_request, state, row, now)


def _experiment(state: dict[str, Any], row: dict[str, Any]) -> Any:
    """An experiment names its flag by id: a missing one is said as such (its response check would
    only say that ``feature_flag_key`` is null, a field the document never had)."""
    flag_id = row.get("feature_flag_id")
    if flag_id is not None and str(flag_id) not in state["flags"]:
        raise LookupError(f"feature_flag_id {flag_id} names no flag in flags")
    return s.experiment(state, row)


def _change_request(state: dict[str, Any], row: dict[str, Any], now: datetime) -> Any:
    """What the control API and the gates read of a change request. Its expiry must compare with an
    instant, but checking records changes none of them: no expiry is recorded here (the mock clock
    decides that when the request is read)."""
    approvals.current_state(row, now)
    return approvals.change_request_json(state, row, None)


def _flag(
    state: dict[str, Any], row: dict[str, Any], now: datetime, live: Callable[[], dict[int, list[int]]]
) -> dict[str, Any]:
    return rs.feature_flag(state, row, now, live())


def _project(state: dict[str, Any], team: int, now: datetime) -> dict[str, Any]:
    """The list in every order reads dates, names and creators of every row; the answer is the stats shape."""
    listing.check_orderings(state, team, now)
    return listing.stats(state, team, now)
