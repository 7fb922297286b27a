"""LaunchDarkly's rate limits: the global, route, access-token and IP budgets and the headers that report them.

Every authenticated answer carries the global (``X-Ratelimit-Global-*``), route
(``X-Ratelimit-Route-*``, both with ``X-Ratelimit-Reset``) and access-token
(``X-Ratelimit-Auth-Token-*``) header sets. LaunchDarkly publishes no numbers, so without a rule
the mock reports the budgets in ``REPORTED`` and never refuses a request for them: a frozen clock
keeps one window open for ever, and a generous default would still end in surprise 429s.

Rules added through /__admin/launchdarkly/rate-limit are enforced. Each has a ``scope``: ``global``
(the whole account), ``route`` (one operation, or every operation separately), ``token`` (each
access token, or only the named one) or ``ip`` (each client address). Only an IP limit answers
``Retry-After``, as LaunchDarkly documents it for IP-based limiting alone. Windows are fixed and
live in the vendor state, so /__admin/reset clears them; ``headers`` is a pure function of that
state, the caller and the clock.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

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
SCOPES = ("global", "route", "token", "ip")
# Budgets per ten-second window reported when no rule sets one (never enforced).
REPORTED = {"global": 10_000, "route": 2_000, "token": 5_000}


class Caller(NamedTuple):
    """Who is counted: the access token, the route (its operationId) and the client address."""

    token: str
    route: str
    ip: str


class Budget(NamedTuple):
    limit: int
    used: int
    reset: int  # epoch ms when the window ends
    enforced: bool

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def validate_rule(body: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    limit = body.get("limit")
    window = body.get("window_seconds", DEFAULT_WINDOW)
    scope = body.get("scope", "token")
    token, route = body.get("token"), body.get("route")
    if type(limit) is not int or limit < 1:
        return None, "limit must be an integer of at least 1"
    if type(window) is not int or window < 1:
        return None, "window_seconds must be an integer of at least 1"
    if scope not in SCOPES:
        return None, f"scope must be one of: {', '.join(SCOPES)}"
    if token is not None and (not isinstance(token, str) or not token):
        return None, "token must be a non-empty string when given"
    if token is not None and scope != "token":
        return None, "token narrows a rule of scope token only"
    if route is not None and (not isinstance(route, str) or not route):
        return None, "route must be an operationId such as getExperiments when given"
    if route is not None and scope != "route":
        return None, "route narrows a rule of scope route only"
    rule: dict[str, Any] = {"limit": limit, "window_seconds": window, "scope": scope}
    for name, value in (("token", token), ("route", route)):
        if value is not None:
            rule[name] = value
    return rule, None


def add_rule(state: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    # After the highest id, not the count: an imported state may leave gaps.
    taken = [r["id"] for r in state["rate_limits"] if type(r.get("id")) is int]
    stored = dict(rule, id=max(taken, default=0) + 1)
    state["rate_limits"].append(stored)
    return stored


def clear(state: dict[str, Any]) -> None:
    state["rate_limits"].clear()
    state["rate_windows"].clear()


# -- counting -----------------------------------------------------------------------------------


def _key(scope: str, caller: Caller) -> str:
    return {"global": "account", "route": caller.route, "token": caller.token, "ip": caller.ip}[scope]


def _applies(rule: dict[str, Any], scope: str, caller: Caller) -> bool:
    if rule.get("scope", "token") != scope:
        return False
    return rule.get("token") in (None, caller.token) and rule.get("route") in (None, caller.route)


def _slot(counter: str, key: str) -> str:
    """A rule counts from when it was added (its own counter); the reported budgets count every request."""
    return f"{counter}|{key}"


def _window(state: dict[str, Any], counter: str, key: str, span_ms: int, now_ms: int) -> tuple[int, int]:
    """(requests counted, window end) for the window that holds ``now_ms``; a stale window counts 0."""
    start = now_ms - now_ms % span_ms
    found = state["rate_windows"].get(_slot(counter, key))
    used = found["count"] if found is not None and found["start"] == start else 0
    return used, start + span_ms


def budgets(state: dict[str, Any], caller: Caller, now_ms: int) -> dict[str, Budget]:
    """The budget that binds each scope: the tightest rule, else the reported default."""
    out: dict[str, Budget] = {}
    for scope in SCOPES:
        key = _key(scope, caller)
        candidates = []
        for rule in state["rate_limits"]:
            if _applies(rule, scope, caller):
                used, reset = _window(state, f"rule{rule['id']}", key, rule["window_seconds"] * 1000, now_ms)
                candidates.append(Budget(rule["limit"], used, reset, True))
        if not candidates and scope in REPORTED:
            used, reset = _window(state, scope, key, DEFAULT_WINDOW * 1000, now_ms)
            candidates.append(Budget(REPORTED[scope], used, reset, False))
        if candidates:
            out[scope] = min(candidates, key=lambda b: (b.remaining, -b.reset))
    return out


def headers(state: dict[str, Any], caller: Caller, now_ms: int) -> dict[str, str]:
    """Every header set LaunchDarkly documents, for this caller at this instant."""
    return _headers(budgets(state, caller, now_ms))


def _headers(found: dict[str, Budget]) -> dict[str, str]:
    out: dict[str, str] = {}
    shared = [found[s] for s in ("global", "route") if s in found]
    for scope, label in (("global", "Global"), ("route", "Route")):
        if scope in found:
            out[f"X-Ratelimit-{label}-Limit"] = str(found[scope].limit)
            out[f"X-Ratelimit-{label}-Remaining"] = str(found[scope].remaining)
    if shared:  # the global and route sets share one reset: the one of the budget nearer its end
        out["X-Ratelimit-Reset"] = str(min(shared, key=lambda b: (b.remaining, -b.reset)).reset)
    if "token" in found:
        token = found["token"]
        out["X-Ratelimit-Auth-Token-Limit"] = str(token.limit)
        out["X-Ratelimit-Auth-Token-Remaining"] = str(token.remaining)
        out["X-Ratelimit-Auth-Token-Reset"] = str(token.reset)
    return out


def charge(state: dict[str, Any], caller: Caller, now_ms: int) -> dict[str, str]:
    """Count one request in every window it belongs to, or answer 429 when an enforced budget is spent.

    Returns ``headers()`` as they read once the request is counted, without computing the
    budgets again: every window of every scope counted one more, so each scope's tightest
    budget is the same one, one request further on.
    """
    found = budgets(state, caller, now_ms)
    spent = [scope for scope, budget in found.items() if budget.enforced and budget.remaining == 0]
    if spent:
        extra = {}
        if "ip" in spent:
            wait_ms = found["ip"].reset - now_ms
            extra["Retry-After"] = str(max(1, math.ceil(wait_ms / 1000)))
        raise rate_limited({**headers(state, caller, now_ms), **extra})
    # Counting is bookkeeping, not a change a request makes: it is written past the undo log (a
    # failed request was still made), and the caller tells the store the windows moved, so a
    # reset still clears them (``Store.changed_outside``).
    windows = state["rate_windows"]
    counted: set[str] = set()
    repeated = False  # two rules sharing an id (an imported state) count into one window twice
    for scope in SCOPES:
        key = _key(scope, caller)
        counters = [
            (f"rule{r['id']}", r["window_seconds"] * 1000) for r in state["rate_limits"] if _applies(r, scope, caller)
        ]
        if scope in REPORTED:
            counters.append((scope, DEFAULT_WINDOW * 1000))
        for counter, span in counters:
            start = now_ms - now_ms % span
            slot = _slot(counter, key)
            window = dict.get(windows, slot)
            if window is None or window["start"] != start:
                window = {"start": start, "count": 0}
                dict.__setitem__(windows, slot, window)
            dict.__setitem__(window, "count", window["count"] + 1)
            repeated = repeated or slot in counted
            counted.add(slot)
    if repeated:  # the budgets moved by more than one: read them again
        return headers(state, caller, now_ms)
    return _headers({scope: budget._replace(used=budget.used + 1) for scope, budget in found.items()})
