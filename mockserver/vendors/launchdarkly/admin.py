"""/__admin/launchdarkly: rate-limit rules, and the rate-limit headers on every LaunchDarkly answer."""

from __future__ import annotations

from flask import Blueprint, Response, g

from mockserver.admin import json_body, problem, reply, runtime
from mockserver.vendors.launchdarkly import ratelimit, routes

blueprint = Blueprint("launchdarkly_admin", __name__, url_prefix="/__admin/launchdarkly")


def _state():
    return runtime().store.data["launchdarkly"]


@blueprint.post("/rate-limit")
def add_rate_limit() -> Response:
    body, error = json_body()
    if error:
        return error
    rule, message = ratelimit.validate_rule(body)
    if not message and rule.get("route") is not None and rule["route"] not in routes.HANDLERS:
        message = f"route must be an operationId of the LaunchDarkly API, such as getExperiments; got {rule['route']!r}"
    if message:
        return problem(400, message)
    with runtime().store.lock:
        stored = ratelimit.add_rule(_state(), rule)
    return reply(stored, 201)


@blueprint.get("/rate-limit")
def list_rate_limits() -> Response:
    with runtime().store.lock:
        return reply({"rules": [dict(r) for r in _state()["rate_limits"]]})


@blueprint.delete("/rate-limit")
def clear_rate_limits() -> Response:
    with runtime().store.lock:
        ratelimit.clear(_state())
    return reply(None, 204)


@blueprint.after_app_request
def rate_headers(response: Response) -> Response:
    """Requests under budget still learn how much is left, as LaunchDarkly's replies say."""
    for key, value in (g.get("launchdarkly_rate_headers") or {}).items():
        response.headers.setdefault(key, value)
    return response
