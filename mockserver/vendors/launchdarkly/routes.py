"""LaunchDarkly HTTP handlers, one per operationId: read the call, ask the model, shape the reply."""

from __future__ import annotations

from typing import Any

from mockserver.core.vendor import Call, Reply
from mockserver.vendors.launchdarkly import (
    experiments,
    flag_routes,
    holdouts,
    iterations,
    legacy_experiments,
    members,
    paging,
    results,
    semantic_patch,
    settings,
    workflow_routes,
)
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import not_found


def _now(call: Call) -> int:
    return m.millis(call.now)


def _member(call: Call) -> str | None:
    """The member the token acts for (None for a service token)."""
    return members.member_of(call.state, call.identity)


def _experiment(call: Call) -> dict[str, Any]:
    p = call.path
    return m.experiment(call.state, p["projectKey"], p["environmentKey"], p["experimentKey"])


def _collection(call: Call, env_key: str | None) -> Reply:
    project_key = call.path["projectKey"]
    m.project(call.state, project_key)
    if env_key is not None:
        m.environment(call.state, project_key, env_key)
    expand = experiments.parse_csv(call.query.get("expand"), experiments.EXPANDS_LIST, "expand")
    # Several filter parameters AND together like the conditions inside one.
    query = dict(call.query, filter=",".join(call.request.args.getlist("filter")) or None)
    key = ("launchdarkly.experiments", project_key, env_key, query["filter"], query.get("lifecycleState"))
    args = list(call.request.args.items(multi=True))

    def render() -> dict[str, Any]:
        rows = call.runtime.store.memo(key, lambda: experiments.listing(call.state, project_key, env_key, query))
        page, links = paging.page(rows, call.request.path, args, call.query["limit"], call.query.get("offset", 0))
        items = [experiments.rep(call.state, e, expand) for e in page.items]
        return {"items": items, "total_count": page.total, "_links": links}

    # A page renders the same until the next write (a rep does not read the clock): it is
    # remembered with its contract verdict (see Reply.memo).
    page_key = (*key, "page", call.request.path, tuple(args))
    return Reply(200, call.runtime.store.memo(page_key, render), memo=page_key)


def get_experiments(call: Call) -> Reply:
    return _collection(call, call.path["environmentKey"])


def get_experiments_any_env(call: Call) -> Reply:
    return _collection(call, None)


def create_experiment(call: Call) -> Reply:
    p = call.path
    m.environment(call.state, p["projectKey"], p["environmentKey"])
    exp = holdouts.create_experiment(
        call.state, p["projectKey"], p["environmentKey"], call.body, _member(call), _now(call)
    )
    return Reply(201, experiments.rep(call.state, exp, ["treatments", "secondaryMetrics", "draftIteration"]))


def get_experiment(call: Call) -> Reply:
    exp = _experiment(call)
    expand = experiments.parse_csv(call.query.get("expand"), experiments.EXPANDS_ONE, "expand")
    return Reply(200, experiments.rep(call.state, exp, expand))


def patch_experiment(call: Call) -> Reply:
    exp = semantic_patch.apply(call.state, _experiment(call), call.body, _now(call))
    return Reply(200, experiments.rep(call.state, exp, ["treatments", "secondaryMetrics"]))


def create_iteration(call: Call) -> Reply:
    exp = _experiment(call)
    iteration = holdouts.add_iteration(call.state, exp, call.body, _now(call))
    return Reply(200, iterations.rep(call.state, exp["projectKey"], iteration))


def _iteration(call: Call, exp: dict[str, Any]) -> dict[str, Any]:
    wanted = call.query.get("iterationId")
    if wanted is None:
        found = iterations.current_of(exp)
        if found is None:
            raise not_found("The experiment has no current iteration")
        return found
    found = iterations.find(exp, wanted)
    if found is None:
        raise not_found(f"Unknown iteration '{wanted}' for experiment '{exp['key']}'")
    return found


def _traffic(call: Call) -> bool:
    return "traffic" in experiments.parse_csv(call.query.get("expand"), ("traffic",), "expand")


def get_experiment_results(call: Call) -> Reply:
    exp = _experiment(call)
    traffic = _traffic(call)
    it = _iteration(call, exp)
    key = call.path["metricKey"]
    metric = m.metric(call.state, exp["projectKey"], key)
    if not any(e["key"] == key and not e["isGroup"] for e in it["metrics"]):
        raise not_found(f"Metric '{key}' is not measured by iteration '{it['_id']}'")
    body = results.metric_results(call.state, exp, it, metric, _now(call), traffic, call.request.path)
    return Reply(200, body)


def get_experiment_results_for_metric_group(call: Call) -> Reply:
    exp = _experiment(call)
    traffic = _traffic(call)
    it = _iteration(call, exp)
    key = call.path["metricGroupKey"]
    group = m.metric_group(call.state, exp["projectKey"], key)
    if not any(e["key"] == key and e["isGroup"] for e in it["metrics"]):
        raise not_found(f"Metric group '{key}' is not measured by iteration '{it['_id']}'")
    project_key = exp["projectKey"]
    rows = []
    for item in group["metrics"]:
        metric = call.state["metrics"][m.scoped(project_key, item["key"])]
        href = f"{call.request.path}#{item['key']}"
        rows.append(
            {
                "metric": m.metric_in_group(project_key, metric, item.get("nameInGroup")),
                "results": results.metric_results(call.state, exp, it, metric, _now(call), traffic, href),
            }
        )
    return Reply(200, {"_links": {"self": m.link(call.request.path)}, "metrics": rows})


def get_experimentation_settings(call: Call) -> Reply:
    return Reply(200, settings.rep(call.state, call.path["projectKey"]))


def put_experimentation_settings(call: Call) -> Reply:
    settings.replace(call.state, call.path["projectKey"], call.body)
    return Reply(200, settings.rep(call.state, call.path["projectKey"]))


def get_legacy_experiment_results(call: Call) -> Reply:
    return Reply(200, legacy_experiments.results_of(call.state, call.path, call.query, _now(call)))


def reset_experiment(call: Call) -> Reply:
    legacy_experiments.reset(call.state, call.path, _now(call))
    return Reply(204)


HANDLERS = {
    "getExperiments": get_experiments,
    "createExperiment": create_experiment,
    "getExperimentsAnyEnv": get_experiments_any_env,
    "getExperiment": get_experiment,
    "patchExperiment": patch_experiment,
    "createIteration": create_iteration,
    "getExperimentResults": get_experiment_results,
    "getExperimentResultsForMetricGroup": get_experiment_results_for_metric_group,
    "getExperimentationSettings": get_experimentation_settings,
    "putExperimentationSettings": put_experimentation_settings,
    "getLegacyExperimentResults": get_legacy_experiment_results,
    "resetExperiment": reset_experiment,
    **flag_routes.HANDLERS,
    **workflow_routes.HANDLERS,
}
