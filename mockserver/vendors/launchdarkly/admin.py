"""/__admin/launchdarkly: rate-limit rules (specs/launchdarkly.admin.yaml)."""

from __future__ import annotations

from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply
from mockserver.vendors.launchdarkly import ratelimit, routes


def add_rate_limit(call: Call) -> Reply:
    rule, message = ratelimit.validate_rule(call.body)
    if not message and rule.get("route") is not None and rule["route"] not in routes.HANDLERS:
        message = f"route must be an operationId of the LaunchDarkly API, such as getExperiments; got {rule['route']!r}"
    if message:
        raise Problem("bad_request", message, attr=_field(message))
    if len(call.state["rate_limits"]) >= ratelimit.MAX_RULES:
        raise Problem("bad_request", f"at most {ratelimit.MAX_RULES} rate-limit rules can be set")
    return Reply(201, ratelimit.add_rule(call.state, rule))


def _field(message: str) -> str | None:
    """The rule's field a refusal names (its first word)."""
    word = message.split(" ", 1)[0]
    return word if word in ("limit", "window_seconds", "scope", "token", "route") else None


def list_rate_limits(call: Call) -> Reply:
    return Reply(200, {"rules": [dict(r) for r in call.state["rate_limits"]]})


def clear_rate_limits(call: Call) -> Reply:
    ratelimit.clear(call.state)
    return Reply(204)


HANDLERS = {
    "addLaunchdarklyRateLimit": add_rate_limit,
    "listLaunchdarklyRateLimits": list_rate_limits,
    "clearLaunchdarklyRateLimits": clear_rate_limits,
}
