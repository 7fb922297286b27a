"""HTTP handlers of the feature-flag API, one per operationId: read the call, ask the model, shape the reply."""

from __future__ import annotations

from typing import Any

from mockserver.core.pagination import paginate, with_query
from mockserver.core.vendor import Call, Reply
from mockserver.vendors.launchdarkly import flag_listing, flag_patch, flag_status, flags, members, serializers
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import invalid


def _now(call: Call) -> int:
    return m.millis(call.now)


def _member(call: Call) -> str | None:
    """The member the token acts for (None for a service token): a new flag's maintainer unless the body names one."""
    return members.member_of(call.state, call.identity)


def _expand(call: Call, strict: bool = True) -> list[str]:
    """The expand list; an unknown part is a 400 where the operation documents one (the list), else ignored."""
    raw = call.query.get("expand")
    if raw is None:
        return []
    values = [v.strip() for v in raw.split(",")]
    for value in values:
        if value not in serializers.EXPANDS and strict:
            raise invalid(
                f"Unsupported expand '{value}'; use a comma-separated list of: {', '.join(serializers.EXPANDS)}"
            )
    return [v for v in values if v in serializers.EXPANDS]


def _envs(call: Call) -> list[str]:
    return [e for e in call.request.args.getlist("env") if e]


def _row(call: Call) -> dict[str, Any]:
    return m.flag(call.state, call.path["projectKey"], call.path["featureFlagKey"])


def get_feature_flags(call: Call) -> Reply:
    project_key = call.path["projectKey"]
    m.project(call.state, project_key)
    if call.query.get("compare") is not None:
        raise invalid("compare is not available in API version 20240415")
    expand = _expand(call)
    filters = call.request.args.getlist("filter")
    envs = _envs(call)
    rows = flag_listing.listing(
        call.state,
        project_key,
        _now(call),
        filters,
        call.query.get("sort"),
        envs,
        call.query.get("tag"),
        call.query.get("archived"),
    )
    filter_env = [v for raw in filters for f, v in flag_listing.split_filter(raw) if f == "filterEnv"]
    shown = list(dict.fromkeys([*envs, *filter_env]))
    limit, offset = call.query["limit"], call.query.get("offset", 0)
    page = paginate(rows, limit, offset)
    summary = call.query.get("summary", True)
    items = [serializers.flag(call.state, r, shown, summary=summary, expand=expand) for r in page.items]
    args = [(k, v) for k, v in call.request.args.items(multi=True) if k not in ("limit", "offset")]
    path = call.request.path
    links = {"self": m.link(with_query(path, args, limit=limit, offset=offset))}
    if page.previous_offset is not None:
        links["first"] = m.link(with_query(path, args, limit=limit, offset=0))
        links["prev"] = m.link(with_query(path, args, limit=limit, offset=page.previous_offset))
    if page.next_offset is not None:
        links["next"] = m.link(with_query(path, args, limit=limit, offset=page.next_offset))
        last = (page.total - 1) // limit * limit
        links["last"] = m.link(with_query(path, args, limit=limit, offset=last))
    return Reply(200, {"items": items, "_links": links, "totalCount": page.total})


def post_feature_flag(call: Call) -> Reply:
    project_key = call.path["projectKey"]
    row = flags.create(call.state, project_key, call.body, _member(call), _now(call), call.query.get("clone"))
    return Reply(201, serializers.flag(call.state, row))


def get_feature_flag(call: Call) -> Reply:
    envs = _envs(call)
    expand = _expand(call, strict=False)  # getFeatureFlag documents no 400
    return Reply(200, serializers.flag(call.state, _row(call), envs or None, expand=expand))


def patch_feature_flag(call: Call) -> Reply:
    row = _row(call)
    content_type = call.request.headers.get("Content-Type")
    dry_run = bool(call.query.get("dryRun", False))
    # ignoreConflicts is accepted: no scheduled changes or approval requests exist here to conflict with.
    candidate = flag_patch.apply(call.state, row, call.body, content_type, _now(call), dry_run=dry_run)
    return Reply(200, serializers.flag(call.state, candidate))


def delete_feature_flag(call: Call) -> Reply:
    flags.delete(call.state, _row(call))
    return Reply(204)


def _running(call: Call, project_key: str) -> flag_status.Running:
    """The flags running experiments are on, per environment: one pass over the experiments per write."""
    compute = lambda: flag_status.running(call.state, project_key)  # noqa: E731
    return call.runtime.store.memo(("launchdarkly.flag_status.running", project_key), compute)


def get_feature_flag_status_across_environments(call: Call) -> Reply:
    row = _row(call)
    wanted = _envs(call)
    running = _running(call, row["projectKey"])
    by_env = {
        env_key: flag_status.of(call.state, row, env_key, _now(call), running)
        for env_key in row["environments"]
        if not wanted or env_key in wanted
    }
    return Reply(200, serializers.status_across(row["projectKey"], row["key"], by_env))


def get_feature_flag_statuses(call: Call) -> Reply:
    project_key, env_key = call.path["projectKey"], call.path["environmentKey"]
    m.environment(call.state, project_key, env_key)
    rows = sorted(
        (r for r in call.state["flags"].values() if r["projectKey"] == project_key and env_key in r["environments"]),
        key=lambda r: r["key"],
    )
    running = _running(call, project_key)  # once, not once per flag
    found = [(r["key"], flag_status.of(call.state, r, env_key, _now(call), running)) for r in rows]
    return Reply(200, serializers.statuses(project_key, env_key, found))


def get_feature_flag_status(call: Call) -> Reply:
    project_key, env_key = call.path["projectKey"], call.path["environmentKey"]
    m.environment(call.state, project_key, env_key)
    row = _row(call)
    found = flag_status.of(call.state, row, env_key, _now(call), _running(call, project_key))
    return Reply(200, serializers.flag_status(project_key, env_key, row["key"], found))


HANDLERS = {
    "getFeatureFlags": get_feature_flags,
    "postFeatureFlag": post_feature_flag,
    "getFeatureFlag": get_feature_flag,
    "patchFeatureFlag": patch_feature_flag,
    "deleteFeatureFlag": delete_feature_flag,
    "getFeatureFlagStatusAcrossEnvironments": get_feature_flag_status_across_environments,
    "getFeatureFlagStatuses": get_feature_flag_statuses,
    "getFeatureFlagStatus": get_feature_flag_status,
}
