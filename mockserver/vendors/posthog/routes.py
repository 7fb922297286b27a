"""PostHog HTTP handlers, one per operationId: read the call, ask the model, shape the reply."""

from __future__ import annotations

from typing import Any

from mockserver.core.pagination import paginate, with_query
from mockserver.core.vendor import Call, Reply
from mockserver.vendors.posthog import (
    actions,
    approvals,
    copies,
    experiments,
    holdouts,
    listing,
    saved_metrics,
    timeseries,
)
from mockserver.vendors.posthog import models as m
from mockserver.vendors.posthog import serializers as s
from mockserver.vendors.posthog.errors import invalid

DEFAULT_LIMIT = 100


def _body(call: Call) -> dict[str, Any]:
    body = call.body if isinstance(call.body, dict) else {}
    return {k: v for k, v in body.items() if k != "personal_api_key"}


def _gate(call: Call) -> approvals.Gate:
    """The approval gate for this request, carrying enough of it to replay once approved."""
    intent = {
        "operation_id": call.valid.operation.operation_id,
        "method": call.request.method,
        "path": call.request.path,
        "query_string": call.request.query_string.decode("latin-1"),
        "body": call.body if call.valid.has_body else None,
    }
    return approvals.Gate(call.state, _team(call), _user(call), call.now, intent, call.approved)


def _page(call: Call, rows: list[Any], render, memo_key: Any = None) -> dict[str, Any]:
    """A page of ``rows``; with ``memo_key`` its rendered rows are remembered until the next write."""
    limit = call.query.get("limit", DEFAULT_LIMIT)
    offset = call.query.get("offset", 0)
    page = paginate(rows, limit, offset)
    if memo_key is not None:
        results = call.runtime.store.memo((memo_key, limit, offset), lambda: [render(r) for r in page.items])
    else:
        results = [render(r) for r in page.items]
    base = call.request.base_url
    args = list(call.request.args.items(multi=True))
    nxt = with_query(base, args, limit=limit, offset=page.next_offset) if page.next_offset is not None else None
    prev = None
    if page.previous_offset is not None:
        prev = (
            with_query(base, args, limit=limit, offset=page.previous_offset or None)
            if page.previous_offset
            else with_query(base, [(k, v) for k, v in args if k != "offset"], limit=limit)
        )
    return {"count": page.total, "next": nxt, "previous": prev, "results": results}


def _partial(call: Call) -> bool:
    return call.request.method == "PATCH"


def _team(call: Call) -> int:
    return call.identity.team_id


def _user(call: Call) -> int:
    return call.identity.user_id


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
    search = (call.query.get("search") or "").lower()
    rows = [
        r
        for r in call.state["saved_metrics"].values()
        if r["team_id"] == _team(call)
        and (not search or search in r["name"].lower() or search in (r.get("description") or "").lower())
    ]
    rows.sort(key=lambda r: (r["name"].lower(), r["id"]))
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

    memo_key = None
    if (call.query.get("order") or "").lstrip("-") == "duration":
        rows = compute()  # a running experiment's duration grows with the clock
    else:
        filters = tuple(sorted((k, str(v)) for k, v in call.query.items() if k not in ("limit", "offset")))
        rows = call.runtime.store.memo(("posthog.experiments", _team(call), filters), compute)
        memo_key = ("posthog.experiments.page", _team(call), filters)  # a page renders the same until a write
    return Reply(200, _page(call, rows, lambda e: s.experiment(call.state, e), memo_key))


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


def experiments_exposure_cohort(call: Call) -> Reply:
    cohort = experiments.exposure_cohort(call.state, _experiment(call), _user(call), call.now)
    return Reply(201, {"cohort": s.cohort(call.state, cohort)})


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
    return Reply(200, listing.stats(call.state, _team(call), call.now))


def experiments_requires_flag_implementation(call: Call) -> Reply:
    # The legacy check warns when the filters reference events that need a flag call; we have none.
    return Reply(200, {"result": False})


FLAG_ORDER = ("created_at", "key", "name")


def experiments_eligible_feature_flags(call: Call) -> Reply:
    query = call.query
    limit = min(query.get("limit", 20), 100)
    offset = query.get("offset", 0)
    order = query.get("order") or "-created_at"
    if order.lstrip("-") not in FLAG_ORDER:
        raise invalid(f"Invalid order field: '{order}'")
    search = (query.get("search") or "").lower()
    active = query.get("active")
    creators = {c.strip() for c in str(query.get("created_by_id") or "").split(",") if c.strip()}
    rows = []
    for flag in call.state["flags"].values():
        variants = m.flag_variants(flag)
        if flag["team_id"] != _team(call) or flag["deleted"] or len(variants) < 2:
            continue
        if not any(v.get("key") == "control" for v in variants):
            continue
        if search and search not in flag["key"].lower() and search not in flag["name"].lower():
            continue
        if active is not None and str(flag["active"]).lower() != str(active).lower():
            continue
        if creators and str(flag.get("created_by_id")) not in creators:
            continue
        rows.append(flag)
    field = order.lstrip("-")
    rows.sort(key=lambda f: (f[field], f["id"]), reverse=order.startswith("-"))
    return Reply(
        200, {"results": [s.full_flag(call.state, f) for f in rows[offset : offset + limit]], "count": len(rows)}
    )


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
    "experiments_create_exposure_cohort_for_experiment_create": experiments_exposure_cohort,
    "experiments_timeseries_results_retrieve": experiments_timeseries,
    "experiments_recalculate_timeseries_create": experiments_recalculate,
    "experiments_stats_retrieve": experiments_stats,
    "experiments_requires_flag_implementation_retrieve": experiments_requires_flag_implementation,
    "experiments_eligible_feature_flags_retrieve": experiments_eligible_feature_flags,
}
