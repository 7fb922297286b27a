"""Handlers for what an experimentation workflow needs around experiments: metrics, metric groups,
holdouts, layers, context kinds, the project and its environments, members and the caller's identity.
"""

from __future__ import annotations

from typing import Any

from mockserver.core import auth
from mockserver.core.vendor import Call, Reply
from mockserver.vendors.launchdarkly import (
    context_kinds,
    holdouts,
    layers,
    members,
    metric_groups,
    metrics,
    paging,
    projects,
)
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid, not_found

METRICS_MAX_LIMIT = 50


def _now(call: Call) -> int:
    return m.millis(call.now)


def _expand(call: Call, allowed: tuple[str, ...], strict: bool = True) -> list[str]:
    """The expand list; unknown parts are a 400 where the operation documents one, else ignored."""
    raw = call.query.get("expand")
    values = [v.strip() for v in raw.split(",") if v.strip()] if raw else []
    unknown = [v for v in values if v not in allowed]
    if unknown and strict:
        raise invalid(f"Unsupported expand '{unknown[0]}'; use a comma-separated list of: {', '.join(allowed)}")
    return [v for v in values if v in allowed]


def _args(call: Call) -> list[tuple[str, str]]:
    return list(call.request.args.items(multi=True))


def _member(call: Call) -> str | None:
    return members.member_of(call.state, call.identity)


# -- metrics ------------------------------------------------------------------------------------


def get_metrics(call: Call) -> Reply:
    p = call.path["projectKey"]
    rows = metrics.listing(call.state, p, call.query.get("filter"), call.query.get("sort"))
    expand = _expand(call, metrics.LIST_EXPANDS, strict=False)
    page, links = paging.page(
        rows, call.request.path, _args(call), call.query["limit"], call.query.get("offset", 0), METRICS_MAX_LIMIT
    )
    items = [metrics.rep(call.state, p, row, expand) for row in page.items]
    return Reply(200, {"items": items, "_links": links, "totalCount": page.total})


def post_metric(call: Call) -> Reply:
    p = call.path["projectKey"]
    row = metrics.create(call.state, p, call.body, _member(call) or call.state["members"][0], _now(call))
    return Reply(201, metrics.rep(call.state, p, row))


def get_metric(call: Call) -> Reply:
    p = call.path["projectKey"]
    row = metrics.version(m.metric(call.state, p, call.path["metricKey"]), call.query.get("versionId"))
    return Reply(200, metrics.rep(call.state, p, row, _expand(call, metrics.ONE_EXPANDS, strict=False)))


def patch_metric(call: Call) -> Reply:
    p = call.path["projectKey"]
    row = metrics.patch(call.state, p, m.metric(call.state, p, call.path["metricKey"]), call.body, _now(call))
    return Reply(200, metrics.rep(call.state, p, row))


def delete_metric(call: Call) -> Reply:
    metrics.delete(call.state, call.path["projectKey"], call.path["metricKey"])
    return Reply(204)


# -- metric groups ------------------------------------------------------------------------------


def get_metric_groups(call: Call) -> Reply:
    p = call.path["projectKey"]
    rows = metric_groups.listing(call.state, p, call.query.get("filter"), call.query.get("sort"))
    page, links = paging.page(
        rows, call.request.path, _args(call), call.query["limit"], call.query.get("offset", 0), METRICS_MAX_LIMIT
    )
    items = [metric_groups.rep(call.state, p, row) for row in page.items]
    return Reply(200, {"items": items, "_links": links, "totalCount": page.total})


def create_metric_group(call: Call) -> Reply:
    p = call.path["projectKey"]
    row = metric_groups.create(call.state, p, call.body, _now(call))
    return Reply(201, metric_groups.rep(call.state, p, row))


def get_metric_group(call: Call) -> Reply:
    p = call.path["projectKey"]
    row = m.metric_group(call.state, p, call.path["metricGroupKey"])
    return Reply(200, metric_groups.rep(call.state, p, row, _expand(call, metric_groups.EXPANDS)))


def patch_metric_group(call: Call) -> Reply:
    p = call.path["projectKey"]
    row = m.metric_group(call.state, p, call.path["metricGroupKey"])
    return Reply(200, metric_groups.rep(call.state, p, metric_groups.patch(call.state, p, row, call.body, _now(call))))


def delete_metric_group(call: Call) -> Reply:
    metric_groups.delete(call.state, call.path["projectKey"], call.path["metricGroupKey"])
    return Reply(204)


# -- holdouts -----------------------------------------------------------------------------------


def get_all_holdouts(call: Call) -> Reply:
    p, e = call.path["projectKey"], call.path["environmentKey"]
    rows = holdouts.rows(call.state, p, e)
    page, links = paging.page(rows, call.request.path, _args(call), call.query["limit"], call.query.get("offset", 0))
    items = [holdouts.summary(call.state, h) for h in page.items]
    return Reply(200, {"items": items, "_links": links, "total_count": page.total})


def post_holdout(call: Call) -> Reply:
    p, e = call.path["projectKey"], call.path["environmentKey"]
    member = _member(call) or call.state["members"][0]
    return Reply(201, holdouts.rep(call.state, holdouts.create(call.state, p, e, call.body, member, _now(call))))


def get_holdout(call: Call) -> Reply:
    p, e = call.path["projectKey"], call.path["environmentKey"]
    holdout = holdouts.get(call.state, p, e, call.path["holdoutKey"])
    expand = _expand(call, (*holdouts.BASE_EXPANDS, *holdouts.REL_EXPANDS))
    return Reply(200, holdouts.detail(call.state, holdout, expand))


def get_holdout_by_id(call: Call) -> Reply:
    p, e = call.path["projectKey"], call.path["environmentKey"]
    m.environment(call.state, p, e)
    holdout = holdouts.by_id(call.state, p, e, call.path["holdoutId"])
    if holdout is None:
        raise not_found(f"Unknown holdout id '{call.path['holdoutId']}' in {p}/{e}")
    return Reply(200, holdouts.rep(call.state, holdout))


def patch_holdout(call: Call) -> Reply:
    p, e = call.path["projectKey"], call.path["environmentKey"]
    holdout = holdouts.get(call.state, p, e, call.path["holdoutKey"])
    return Reply(200, holdouts.rep(call.state, holdouts.patch(call.state, holdout, call.body, _now(call))))


# -- layers -------------------------------------------------------------------------------------


def get_layers(call: Call) -> Reply:
    p = call.path["projectKey"]
    rows = layers.listing(call.state, p, call.query.get("filter"))
    items = [layers.rep(call.state, layer) for layer in rows]
    links = {"self": m.link(call.request.full_path.rstrip("?")), "parent": m.link(f"/api/v2/projects/{p}")}
    return Reply(200, {"items": items, "totalCount": len(items), "_links": links})


def create_layer(call: Call) -> Reply:
    return Reply(201, layers.rep(call.state, layers.create(call.state, call.path["projectKey"], call.body, _now(call))))


def update_layer(call: Call) -> Reply:
    layer = layers.get(call.state, call.path["projectKey"], call.path["layerKey"])
    return Reply(200, layers.rep(call.state, layers.patch(call.state, layer, call.body)))


# -- context kinds, project, environments -------------------------------------------------------


def get_context_kinds(call: Call) -> Reply:
    return Reply(200, context_kinds.collection(call.state, call.path["projectKey"]))


def put_context_kind(call: Call) -> Reply:
    p, key = call.path["projectKey"], call.path["key"]
    status = context_kinds.upsert(call.state, p, key, call.body, _now(call))
    return Reply(200, {"status": status, "_links": {"self": m.link(f"/api/v2/projects/{p}/context-kinds/{key}")}})


def get_project(call: Call) -> Reply:
    return Reply(200, projects.project_rep(call.state, call.path["projectKey"], _expand(call, projects.EXPANDS)))


def get_environment(call: Call) -> Reply:
    return Reply(200, projects.environment(call.state, call.path["projectKey"], call.path["environmentKey"]))


def patch_environment(call: Call) -> Reply:
    p, e = call.path["projectKey"], call.path["environmentKey"]
    return Reply(200, projects.patch_environment(call.state, p, e, call.body))


# -- members and identity -----------------------------------------------------------------------


def get_caller_identity(call: Call) -> Reply:
    registered = f"launchdarkly:{call.identity.token}" in auth.registry(call.runtime.admin_state)
    return Reply(200, members.caller_identity(call.state, call.identity, registered))


def get_member(call: Call) -> Reply:
    member_id = members.lookup(call.state, call.identity, call.path["id"])
    return Reply(200, members.rep(call.state, member_id, _expand(call, members.EXPANDS, strict=False)))


HANDLERS: dict[str, Any] = {
    "getMetrics": get_metrics,
    "postMetric": post_metric,
    "getMetric": get_metric,
    "patchMetric": patch_metric,
    "deleteMetric": delete_metric,
    "getMetricGroups": get_metric_groups,
    "createMetricGroup": create_metric_group,
    "getMetricGroup": get_metric_group,
    "patchMetricGroup": patch_metric_group,
    "deleteMetricGroup": delete_metric_group,
    "getAllHoldouts": get_all_holdouts,
    "postHoldout": post_holdout,
    "getHoldout": get_holdout,
    "getHoldoutById": get_holdout_by_id,
    "patchHoldout": patch_holdout,
    "getLayers": get_layers,
    "createLayer": create_layer,
    "updateLayer": update_layer,
    "getContextKindsByProjectKey": get_context_kinds,
    "putContextKind": put_context_kind,
    "getProject": get_project,
    "getEnvironment": get_environment,
    "patchEnvironment": patch_environment,
    "getCallerIdentity": get_caller_identity,
    "getMember": get_member,
}
