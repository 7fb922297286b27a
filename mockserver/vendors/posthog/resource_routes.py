"""Handlers for the resources around experiments: feature flags, cohorts, actions, event definitions.

Also the two experiment actions that answer with those resources: the exposure cohort and the
flags eligible for a new experiment.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.vendor import Call, Reply
from mockserver.vendors.posthog import action_defs, cohorts, events, feature_flags
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog import resource_serializers as rs
from mockserver.vendors.posthog.calls import body, gate, page, remembered_rows, team, user

# -- feature flags -------------------------------------------------------------------------------


def _live(call: Call) -> dict[int, list[int]]:
    """Flag id -> its live experiments' ids, for rendering many flags: one pass per write."""
    compute = lambda: feature_flags.live_experiment_ids(call.state)  # noqa: E731
    return call.runtime.store.memo(("posthog.live_experiment_ids",), compute)


def feature_flags_list(call: Call) -> Reply:
    def compute() -> list[dict[str, Any]]:
        return feature_flags.listing(call.state, team(call), call.query, call.now)

    # A flag's staleness reads the clock; a page renders each time (its flags' status does too).
    rows = compute() if call.query.get("active") == "STALE" else remembered_rows(call, "posthog.flags", compute)
    live = _live(call)
    return Reply(200, page(call, rows, lambda f: rs.feature_flag(call.state, f, call.now, live)))


def feature_flags_create(call: Call) -> Reply:
    flag = feature_flags.create(call.state, team(call), body(call), user(call), call.now)
    return Reply(201, rs.feature_flag(call.state, flag, call.now))


def feature_flags_retrieve(call: Call) -> Reply:
    flag = feature_flags.get(call.state, team(call), call.path["id"])
    return Reply(200, rs.feature_flag(call.state, flag, call.now))


def feature_flags_partial_update(call: Call) -> Reply:
    flag = feature_flags.get(call.state, team(call), call.path["id"])
    flag = feature_flags.update(call.state, flag, body(call), gate(call))
    return Reply(200, rs.feature_flag(call.state, flag, call.now))


def feature_flags_destroy(call: Call) -> Reply:
    return Reply(405)  # PostHog forbids deleting flags; soft-delete with PATCH deleted=true


# -- cohorts -------------------------------------------------------------------------------------


def cohorts_list(call: Call) -> Reply:
    rows = cohorts.listing(call.state, team(call), call.query)
    return Reply(200, page(call, rows, lambda c: rs.cohort(call.state, c)))


def cohorts_retrieve(call: Call) -> Reply:
    return Reply(200, rs.cohort(call.state, cohorts.get(call.state, team(call), call.path["id"])))


# -- actions -------------------------------------------------------------------------------------


def actions_list(call: Call) -> Reply:
    """Not DRF's page: everything unless ``limit`` is given, and a count without links."""
    rows = action_defs.listing(call.state, team(call), call.query)
    offset, limit = action_defs.page_bounds(call.query)
    total = len(rows)
    rows = rows[offset:] if limit is None else rows[offset : offset + limit]
    results = [rs.action(call.state, a) for a in rows]
    return Reply(200, {"count": total if limit is not None else offset + len(results), "results": results})


def actions_create(call: Call) -> Reply:
    row = action_defs.create(call.state, team(call), body(call), user(call), call.now)
    return Reply(201, rs.action(call.state, row))


def actions_retrieve(call: Call) -> Reply:
    return Reply(200, rs.action(call.state, action_defs.get(call.state, team(call), call.path["id"])))


# -- event definitions ---------------------------------------------------------------------------


def event_definitions_list(call: Call) -> Reply:
    rows = events.listing(call.state, team(call), call.query, call.request.args.getlist("ordering"))
    return Reply(200, page(call, rows, lambda d: rs.event_definition(call.state, d)))


def event_definitions_create(call: Call) -> Reply:
    row = events.create(call.state, team(call), body(call), user(call), call.now)
    return Reply(201, rs.event_definition(call.state, row))


def event_definitions_retrieve(call: Call) -> Reply:
    row = events.get(call.state, team(call), call.path["id"])
    return Reply(200, rs.event_definition(call.state, row))


# -- experiment actions answering with these resources --------------------------------------------


def experiments_exposure_cohort(call: Call) -> Reply:
    exp = m.live_experiment(call.state, call.path["id"], team(call), call.request.args.get("search"))
    cohort = cohorts.create_exposure_cohort(call.state, exp, m.flag_of(call.state, exp), user(call), call.now)
    return Reply(201, {"cohort": rs.cohort(call.state, cohort)})


def experiments_eligible_feature_flags(call: Call) -> Reply:
    """PostHog's own paging: limit capped at 100, a negative offset read as 0, no links."""
    limit = min(call.query.get("limit", 20), 100)
    offset = max(call.query.get("offset", 0), 0)
    rows = remembered_rows(
        call, "posthog.eligible_flags", lambda: feature_flags.eligible(call.state, team(call), call.query)
    )
    live = _live(call)
    results = [rs.feature_flag(call.state, f, call.now, live) for f in rows[offset : offset + limit]]
    return Reply(200, {"results": results, "count": len(rows)})


HANDLERS = {
    "feature_flags_list": feature_flags_list,
    "feature_flags_create": feature_flags_create,
    "feature_flags_retrieve": feature_flags_retrieve,
    "feature_flags_partial_update": feature_flags_partial_update,
    "feature_flags_destroy": feature_flags_destroy,
    "cohorts_list": cohorts_list,
    "cohorts_retrieve": cohorts_retrieve,
    "actions_list": actions_list,
    "actions_create": actions_create,
    "actions_retrieve": actions_retrieve,
    "event_definitions_list": event_definitions_list,
    "event_definitions_create": event_definitions_create,
    "event_definitions_retrieve": event_definitions_retrieve,
    "experiments_create_exposure_cohort_for_experiment_create": experiments_exposure_cohort,
    "experiments_eligible_feature_flags_retrieve": experiments_eligible_feature_flags,
}
