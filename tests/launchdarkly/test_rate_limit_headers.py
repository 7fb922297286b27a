"""The vendor's rate-limit header family on every authenticated answer, and global, route and IP limits."""

from __future__ import annotations

from datetime import timedelta

from mockserver.vendors.launchdarkly import ratelimit
from tests.launchdarkly.helpers import BASE, ENV, PROJECT, refused, runtime_of

ADMIN = "/__admin/launchdarkly/rate-limit"
FAMILY = (
    "X-Ratelimit-Global-Limit",
    "X-Ratelimit-Global-Remaining",
    "X-Ratelimit-Route-Limit",
    "X-Ratelimit-Route-Remaining",
    "X-Ratelimit-Reset",
    "X-Ratelimit-Auth-Token-Limit",
    "X-Ratelimit-Auth-Token-Remaining",
    "X-Ratelimit-Auth-Token-Reset",
)


def test_every_authenticated_answer_carries_the_family(ld_api):
    answers = [
        ld_api.get(BASE),
        ld_api.get(f"{BASE}/nope"),
        ld_api.post(BASE, json_body={"name": "x"}),
        ld_api.get("/api/v2/caller-identity"),
        ld_api.get(f"/api/v2/projects/{PROJECT}/metric-groups"),  # 403: beta
    ]
    for response in answers:
        for header in FAMILY:
            assert header in response.headers, (response.status_code, header)
        assert "Retry-After" not in response.headers
    first, second = (
        int(answers[0].headers["X-Ratelimit-Global-Remaining"]),
        int(answers[1].headers["X-Ratelimit-Global-Remaining"]),
    )
    assert second == first - 1  # the account's budget is shared by every route
    assert answers[1].headers["X-Ratelimit-Route-Remaining"] == answers[0].headers["X-Ratelimit-Route-Remaining"]
    assert "X-Ratelimit-Global-Limit" not in ld_api.get(BASE, headers={"Authorization": ""}).headers  # 401


def test_refusals_after_auth_carry_the_family_over_http(ld_http):
    """The headers travel on the pipeline's response headers, so every answer after auth has them."""
    ld_http.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": "api-reader", "role": "reader"})
    reader = {"Authorization": "api-reader"}
    flag = "/api/v2/flags/default/checkout-button-color"
    answers = {
        "role refused": ld_http.patch(
            flag, json_body=[{"op": "replace", "path": "/name", "value": "x"}], headers=reader
        ),
        "beta refused": ld_http.get(f"/api/v2/projects/{PROJECT}/metric-groups"),
        "rule refused": ld_http.delete(flag),  # 409: a running experiment uses the flag
        "unknown": ld_http.get("/api/v2/flags/default/nope"),
        "invalid body": ld_http.post("/api/v2/flags/default", json_body={"name": "no key"}),
        "patch failed": ld_http.patch(flag, json_body=[{"op": "test", "path": "/name", "value": "not it"}]),
        "created": ld_http.post("/api/v2/flags/default", json_body={"key": "headers-flag", "name": "H"}),
        "no body": ld_http.delete("/api/v2/flags/default/headers-flag"),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {
        "role refused": 403,
        "beta refused": 403,
        "rule refused": 409,
        "unknown": 404,
        "invalid body": 400,
        "patch failed": 422,
        "created": 201,
        "no body": 204,
    }
    for name, response in answers.items():
        for header in FAMILY:
            assert header in response.headers, (name, header)
    remaining = [
        int(r.headers["X-Ratelimit-Auth-Token-Remaining"]) for r in answers.values() if r is not answers["role refused"]
    ]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == len(remaining)  # each one counted
    ld_http.post(ADMIN, json_body={"limit": 1, "scope": "token", "token": "api-reader"})
    ld_http.get(BASE, headers=reader)
    limited = ld_http.get(BASE, headers=reader)
    assert limited.status_code == 429 and all(header in limited.headers for header in FAMILY)
    assert limited.headers["X-Ratelimit-Auth-Token-Remaining"] == "0"
    ld_http.delete(ADMIN)


def test_the_reported_budgets_never_refuse(ld):
    runtime = runtime_of(ld)
    state = runtime.store.data["launchdarkly"]
    now = int(runtime.clock.now().timestamp() * 1000)
    who = ratelimit.Caller("api-test-token", "getExperiments", "127.0.0.1")
    for _ in range(ratelimit.REPORTED["route"] + 5):
        ratelimit.charge(state, who, now)
    response = ld.get(BASE)
    assert response.status_code == 200 and response.headers["X-Ratelimit-Route-Remaining"] == "0"


def test_headers_are_a_pure_function_of_state_caller_and_time(ld):
    runtime = runtime_of(ld)
    state = runtime.store.data["launchdarkly"]
    now = int(runtime.clock.now().timestamp() * 1000)
    who = ratelimit.Caller("api-pure", "getExperiments", "10.0.0.1")
    before = dict(state["rate_windows"])
    first = ratelimit.headers(state, who, now)
    assert ratelimit.headers(state, who, now) == first and state["rate_windows"] == before
    assert first["X-Ratelimit-Global-Limit"] == str(ratelimit.REPORTED["global"])
    assert int(first["X-Ratelimit-Reset"]) == now - now % 10_000 + 10_000
    later = ratelimit.headers(state, who, now + 10_000)
    assert later["X-Ratelimit-Auth-Token-Remaining"] == str(ratelimit.REPORTED["token"])  # a fresh window


def test_a_global_limit_is_shared_by_every_token(ld):
    runtime = runtime_of(ld)
    ld.post(ADMIN, json_body={"limit": 2, "scope": "global"})
    assert ld.get(BASE).headers["X-Ratelimit-Global-Remaining"] == "1"
    assert ld.get(BASE, headers={"Authorization": "api-someone-else"}).headers["X-Ratelimit-Global-Remaining"] == "0"
    limited = ld.get(f"/api/v2/projects/{PROJECT}", headers={"Authorization": "api-third"})
    assert refused(limited, 429) == "You've exceeded the API rate limit. Try again later."
    assert limited.headers["X-Ratelimit-Global-Limit"] == "2" and "Retry-After" not in limited.headers
    now = int(runtime.clock.now().timestamp() * 1000)
    assert now < int(limited.headers["X-Ratelimit-Reset"]) <= now + 10_000
    runtime.clock.advance(timedelta(seconds=10))
    assert ld.get(BASE).status_code == 200


def test_a_route_limit_counts_one_operation(ld):
    ld.post(ADMIN, json_body={"limit": 1, "scope": "route", "route": "getProject"})
    assert ld.get(f"/api/v2/projects/{PROJECT}").headers["X-Ratelimit-Route-Limit"] == "1"
    refused(ld.get(f"/api/v2/projects/{PROJECT}", headers={"Authorization": "api-other"}), 429)
    other_route = ld.get(f"/api/v2/projects/{PROJECT}/environments/{ENV}")
    assert other_route.status_code == 200 and other_route.headers["X-Ratelimit-Route-Limit"] != "1"


def test_an_ip_limit_answers_retry_after(ld_http):
    ld_http.post(ADMIN, json_body={"limit": 1, "window_seconds": 30, "scope": "ip"})
    assert ld_http.get(BASE).status_code == 200
    limited = ld_http.get(BASE, headers={"Authorization": "api-any-token"})
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 30
    for header in FAMILY:
        assert header in limited.headers
    ld_http.delete(ADMIN)


def test_rule_validation(ld):
    for body in (
        {"limit": 1, "scope": "planet"},
        {"limit": 1, "scope": "global", "token": "api-x"},
        {"limit": 1, "scope": "token", "route": "getProject"},
        {"limit": 1, "scope": "route", "route": "noSuchOperation"},
    ):
        assert ld.post(ADMIN, json_body=body).status_code == 400, body
    stored = ld.post(ADMIN, json_body={"limit": 3, "scope": "route", "route": "getExperiments"}).json()
    assert stored == {"id": 1, "limit": 3, "window_seconds": 10, "scope": "route", "route": "getExperiments"}


def test_what_charge_reports_is_what_headers_reads_after_it():
    """charge() derives the headers from the budgets it read; they match a fresh reading, rules or not."""
    import random

    for seed in (1, 7, random.randrange(2**32)):
        rng = random.Random(seed)
        state: dict = {"rate_limits": [], "rate_windows": {}}
        for _ in range(rng.randrange(5)):
            scope = rng.choice(ratelimit.SCOPES)
            rule = {"limit": rng.randrange(2, 40), "window_seconds": rng.choice((1, 10, 60)), "scope": scope}
            if scope == "route" and rng.random() < 0.5:
                rule["route"] = rng.choice(("getExperiments", "getExperiment"))
            if scope == "token" and rng.random() < 0.5:
                rule["token"] = rng.choice(("api-a", "api-b"))
            ratelimit.add_rule(state, rule)
        if len(state["rate_limits"]) > 1 and rng.random() < 0.5:
            state["rate_limits"][-1]["id"] = state["rate_limits"][0]["id"]  # an imported state may repeat ids
        now = 1_700_000_000_000
        for _ in range(60):
            now += rng.choice((0, 1, 400, 5_000))
            route = rng.choice(("getExperiments", "getExperiment"))
            who = ratelimit.Caller(rng.choice(("api-a", "api-b")), route, "ip")
            try:
                reported = ratelimit.charge(state, who, now)
            except Exception:
                continue  # a 429: its headers are read afresh by the caller
            assert reported == ratelimit.headers(state, who, now), (seed, state["rate_limits"])


def test_two_rules_sharing_an_id_are_reported_as_counted():
    """An imported state may repeat a rule id: both rules then count into one window, twice a request."""
    rules = [{"id": 2, "limit": 50, "scope": "token", "window_seconds": 10}]
    rules.append({"id": 2, "limit": 40, "scope": "token", "window_seconds": 10})
    rules.append({"id": 3, "limit": 90, "scope": "ip", "window_seconds": 10})  # counted after the shared window
    state: dict = {"rate_limits": rules, "rate_windows": {}}
    who = ratelimit.Caller("api-a", "getExperiments", "ip")
    for _ in range(3):
        reported = ratelimit.charge(state, who, 1_700_000_000_000)
        assert reported == ratelimit.headers(state, who, 1_700_000_000_000)
    assert reported["X-Ratelimit-Auth-Token-Remaining"] == "34"  # 40 - 2 per request
    assert state["rate_windows"]["rule3|ip"]["count"] == 3  # every window still counted each request
