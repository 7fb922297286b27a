"""Rate limits switched on through /__admin/launchdarkly/rate-limit.

Rules and their fixed windows live in the vendor state, so /__admin/reset clears them. Each
rule gives every token (or only the named one) ``limit`` requests per ``window_seconds`` window.
"""

from __future__ import annotations

import math
from typing import Any

from mockserver.vendors.launchdarkly.errors import rate_limited

# Every rate-limit header LaunchDarkly may send (browsers may read them: CORS exposes them).
HEADER_NAMES = (
    "X-Ratelimit-Global-Limit",
    "X-Ratelimit-Global-Remaining",
    "X-Ratelimit-Route-Limit",
    "X-Ratelimit-Route-Remaining",
    "X-Ratelimit-Auth-Token-Limit",
    "X-Ratelimit-Auth-Token-Remaining",
    "X-Ratelimit-Auth-Token-Reset",
    "X-Ratelimit-Reset",
)
DEFAULT_WINDOW = 10
MAX_RULES = 100


def validate_rule(body: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    limit = body.get("limit")
    window = body.get("window_seconds", DEFAULT_WINDOW)
    token = body.get("token")
    if type(limit) is not int or limit < 1:
        return None, "limit must be an integer of at least 1"
    if type(window) is not int or window < 1:
        return None, "window_seconds must be an integer of at least 1"
    if token is not None and (not isinstance(token, str) or not token):
        return None, "token must be a non-empty string when given"
    rule: dict[str, Any] = {"limit": limit, "window_seconds": window}
    if token is not None:
        rule["token"] = token
    return rule, None


def add_rule(state: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    stored = dict(rule, id=len(state["rate_limits"]) + 1)
    state["rate_limits"].append(stored)
    return stored


def clear(state: dict[str, Any]) -> None:
    state["rate_limits"].clear()
    state["rate_windows"].clear()


def charge(state: dict[str, Any], token: str, now_ms: int) -> dict[str, str]:
    """Count one request against every rule that applies; 429 when any budget is spent.

    Returns the headers to send with an allowed request (empty when no rule applies).
    """
    tightest: tuple[int, int] | None = None  # (remaining, reset)
    exceeded: tuple[int, int] | None = None
    for rule in state["rate_limits"]:
        if rule.get("token") not in (None, token):
            continue
        span = rule["window_seconds"] * 1000
        start = now_ms - now_ms % span
        slot = f"{rule['id']}:{token}"
        window = state["rate_windows"].get(slot)
        if window is None or window["start"] != start:
            window = state["rate_windows"][slot] = {"start": start, "count": 0}
        reset = start + span
        if window["count"] >= rule["limit"]:
            if exceeded is None or reset > exceeded[1]:
                exceeded = (0, reset, rule["limit"])
            continue
        window["count"] += 1
        remaining = rule["limit"] - window["count"]
        if tightest is None or remaining < tightest[0]:
            tightest = (remaining, reset, rule["limit"])
    if exceeded is not None:
        reset = exceeded[1]
        raise rate_limited(
            {**_token_headers(*exceeded), "Retry-After": str(max(1, math.ceil((reset - now_ms) / 1000)))}
        )
    return {} if tightest is None else _token_headers(*tightest)


def _token_headers(remaining: int, reset: int, limit: int) -> dict[str, str]:
    """The budgets are per access token, so LaunchDarkly's per-token header set describes them."""
    return {
        "X-Ratelimit-Auth-Token-Limit": str(limit),
        "X-Ratelimit-Auth-Token-Remaining": str(remaining),
        "X-Ratelimit-Auth-Token-Reset": str(reset),
    }
