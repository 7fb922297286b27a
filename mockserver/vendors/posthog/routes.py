"""PostHog HTTP handlers, one per operationId: read the call, ask the model, shape the reply."""

from __future__ import annotations

from typing import Any

from mockserver.core.vendor import Call, Reply
from mockserver.vendors.posthog import (
    actions,
    copies,
    experiments,
    holdouts,
    listing,
    resource_routes,
    saved_metrics,
    timeseries,
)
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog import serializers as s
from mockserver.vendors.posthog.calls import body as _body
from mockserver.vendors.posthog.calls import gate as _gate
from mockserver.vendors.posthog.calls import page as _page
from mockserver.vendors.posthog.calls import remembered_page as _remembered_page
from mockserver.vendors.posthog.calls import remembered_rows as _remembered_rows
from mockserver.vendors.posthog.calls import team as _team
from mockserver.vendors.posthog.calls import user as _user
from mockserver.vendors.posthog.errors import invalid


def _partial(call: Call) -> bool:
    return call.request.method == "PATCH"


# -- holdouts ------------------------------------------------------------------------------------


def holdouts_list(call: Call) -> Reply:
    search = (call.query.get("search") or "").lower()
    rows = [
        h
        for h in call.state["holdouts"].values()
        if h["team_id"] == _team(call) and (not search or search in h["name"].lower())
    ]
    rows.sort(key=lambda h: (h["created_at"], h["id"]), reverse=True)
    return Reply(200, _page(call, rows, lambda h: s.holdout(call.state, h)))


def holdouts_create(call: Call) -> Reply:
    row = holdouts.create(call.state, _team(call), _body(call), _user(call), call.now)
    return Reply(201, s.holdout(call.state, row))


def holdouts_retrieve(call: Call) -> Reply:
    return Reply(200, s.holdout(call.state, m.get(call.state, "holdouts", call.path["id"], _team(call))))


def holdouts_update(call: Call) -> Reply:
    row = m.get(call.state, "holdouts", call.path["id"], _team(call))
    row = holdouts.update(call.state, row, _body(call), _gate(call), _partial(call))
    return Reply(200, s.holdout(call.state, row))


def holdouts_destroy(call: Call) -> Reply:
    row = m.get(call.state, "holdouts", call.path["id"], _team(call))
    holdouts.delete(call.state, row, _gate(call))
    return Reply(204)


# -- saved metrics -------------------------------------------------------------------------------


def saved_metrics_list(call: Call) -> Reply:
    rows = saved_metrics.listing(call.state, _team(call), call.query)
    return Reply(200, _page(call, rows, lambda r: s.saved_metric(call.state, r)))


def saved_metrics_create(call: Call) -> Reply:
    row = saved_metrics.create(call.state, _team(call), _body(call), _user(call), call.now)
    return Reply(201, s.saved_metric(call.state, row))


def saved_metrics_retrieve(call: Call) -> Reply:
    return Reply(200, s.saved_metric(call.state, m.get(call.state, "saved_metrics", call.path["id"], _team(call))))


def saved_metrics_update(call: Call) -> Reply:
    row = m.get(call.state, "saved_metrics", call.path["id"], _team(call))
    row = saved_metrics.update(call.state, row, _body(call), call.now, _partial(call))
    return Reply(200, s.saved_metric(call.state, row))


def saved_metrics_destroy(call: Call) -> Reply:
    saved_metrics.delete(call.state, m.get(call.state, "saved_metrics", call.path["id"], _team(call)))
    return Reply(204)


# -- experiments ---------------------------------------------------------------------------------


def _experiment(call: Call) -> dict[str, Any]:
    return m.live_experiment(call.state, call.path["id"], _team(call), call.request.args.get("search"))


def experiments_list(call: Call) -> Reply:
    def compute() -> list[dict[str, Any]]:
        return listing.listing(call.state, _team(call), call.query, call.now)

    def render(e: dict[str, Any]) -> dict[str, Any]:
        return s.experiment(call.state, e)

    if (call.query.get("order") or "").lstrip("-") == "duration":
        return Reply(200, _page(call, compute(), render))  # a running experiment's duration grows with the clock

    def rows() -> list[dict[str, Any]]:
        return _remembered_rows(call, "posthog.experiments", compute)

    return _remembered_page(call, rows, render, ("posthog.experiments.page", _team(call)))


def experiments_create(call: Call) -> Reply:
    exp = experiments.create(call.state, _team(call), _body(call), _user(call), call.now)
    return Reply(201, s.experiment(call.state, exp))


def experiments_retrieve(call: Call) -> Reply:
    return Reply(200, s.experiment(call.state, _experiment(call)))


def experiments_update(call: Call) -> Reply:
    exp = experiments.update(
        call.state,
        _team(call),
        call.path["id"],
        _body(call),
        _gate(call),
        call.request.args.get("search"),
        _partial(call),
    )
    return Reply(200, s.experiment(call.state, exp))


def experiments_destroy(call: Call) -> Reply:
    return Reply(405)  # PostHog forbids deleting experiments; soft-delete with PATCH deleted=true


def _action(name: str):
    def handler(call: Call) -> Reply:
        exp = actions.act(
            call.state,
            _team(call),
            call.path["id"],
            name,
            _body(call),
            _gate(call),
            call.request.args.get("search"),
        )
        return Reply(200, s.experiment(call.state, exp))

    handler.__name__ = f"experiments_{name}"
    return handler


def experiments_duplicate(call: Call) -> Reply:
    exp = copies.duplicate(call.state, _experiment(call), _body(call), _user(call), call.now)
    return Reply(201, s.experiment(call.state, exp))


def experiments_copy_to_project(call: Call) -> Reply:
    exp = copies.copy_to_project(call.state, _experiment(call), _body(call), _user(call), call.now)
    return Reply(201, s.experiment(call.state, exp))


def experiments_timeseries(call: Call) -> Reply:
    exp = _experiment(call)
    for name in ("metric_uuid", "fingerprint"):
        if not call.query.get(name):
            raise invalid(f"{name} query parameter is required")
    body = timeseries.results(call.state, exp, call.query["metric_uuid"], call.query["fingerprint"], call.now)
    return Reply(200, body)


def experiments_recalculate(call: Call) -> Reply:
    body, created = timeseries.recalculate(call.state, _experiment(call), _body(call), call.now)
    return Reply(201 if created else 200, body)


def experiments_stats(call: Call) -> Reply:
    team = _team(call)
    dates = call.runtime.store.memo(("posthog.stats", team), lambda: listing.stats_dates(call.state, team))
    return Reply(200, listing.stats(call.state, team, call.now, dates))


def experiments_requires_flag_implementation(call: Call) -> Reply:
    # The legacy check warns when the filters reference events that need a flag call; we have none.
    return Reply(200, {"result": False})


HANDLERS = {
    "experiment_holdouts_list": holdouts_list,
    "experiment_holdouts_create": holdouts_create,
    "experiment_holdouts_retrieve": holdouts_retrieve,
    "experiment_holdouts_update": holdouts_update,
    "experiment_holdouts_partial_update": holdouts_update,
    "experiment_holdouts_destroy": holdouts_destroy,
    "experiment_saved_metrics_list": saved_metrics_list,
    "experiment_saved_metrics_create": saved_metrics_create,
    "experiment_saved_metrics_retrieve": saved_metrics_retrieve,
    "experiment_saved_metrics_update": saved_metrics_update,
    "experiment_saved_metrics_partial_update": saved_metrics_update,
    "experiment_saved_metrics_destroy": saved_metrics_destroy,
    "experiments_list": experiments_list,
    "experiments_create": experiments_create,
    "experiments_retrieve": experiments_retrieve,
    "experiments_update": experiments_update,
    "experiments_partial_update": experiments_update,
    "experiments_destroy": experiments_destroy,
    "experiments_launch_create": _action("launch"),
    "experiments_pause_create": _action("pause"),
    "experiments_resume_create": _action("resume"),
    "experiments_end_create": _action("end"),
    "experiments_ship_variant_create": _action("ship_variant"),
    "experiments_reset_create": _action("reset"),
    "experiments_archive_create": _action("archive"),
    "experiments_unarchive_create": _action("unarchive"),
    "experiments_duplicate_create": experiments_duplicate,
    "experiments_copy_to_project_create": experiments_copy_to_project,
    "experiments_timeseries_results_retrieve": experiments_timeseries,
    "experiments_recalculate_timeseries_create": experiments_recalculate,
    "experiments_stats_retrieve": experiments_stats,
    "experiments_requires_flag_implementation_retrieve": experiments_requires_flag_implementation,
}
HANDLERS.update(resource_routes.HANDLERS)  # flags, cohorts, actions, event definitions
