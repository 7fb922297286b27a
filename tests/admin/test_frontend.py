"""Local frontend development: CORS before auth, --latency, --no-auth."""

from __future__ import annotations

import time

import pytest

from mockserver.core.settings import Settings, parse_latency

ORIGIN = "http://localhost:5173"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, content-type, ld-api-version",
}


def test_preflight_is_answered_before_auth_and_validation(make_client):
    client = make_client(headers={})
    response = client.request("OPTIONS", "/api/projects/1/experiments/4/", headers=PREFLIGHT, check_spec=False)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "ld-api-version"} <= {h.strip() for h in allowed.split(",")}
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    ld = client.request(
        "OPTIONS",
        "/api/v2/projects/default/environments/production/experiments",
        headers={**PREFLIGHT, "Access-Control-Request-Method": "POST"},
        check_spec=False,
    )
    assert ld.status_code == 200 and ld.headers["Access-Control-Allow-Origin"] == ORIGIN
    journal = client.get("/__admin/requests").json()["requests"]  # journaled as preflights, nothing refused
    assert [(e["method"], e["preflight"], e["status"], e["validation_errors"]) for e in journal] == [
        ("OPTIONS", True, 200, []),
        ("OPTIONS", True, 200, []),
    ]


def test_actual_responses_carry_cors_and_expose_rate_limit_headers(make_client):
    client = make_client()
    response = client.get("/api/projects/1/experiments/4/", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Ratelimit-Auth-Token-Remaining", "X-Ratelimit-Auth-Token-Reset", "Retry-After"} <= exposed
    unauthenticated = client.get("/api/projects/1/experiments/4/", headers={"Origin": ORIGIN, "Authorization": ""})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["Access-Control-Allow-Origin"] == ORIGIN  # so the browser can read the error


def test_origins_and_credentials_are_configurable(make_client):
    client = make_client(
        cors_origins="http://app.test, http://admin.test", cors_credentials=True, cors_headers="X-Trace-Id"
    )
    allowed = client.request(
        "OPTIONS",
        "/api/projects/1/experiments/",
        headers={**PREFLIGHT, "Origin": "http://admin.test", "Access-Control-Request-Headers": "x-trace-id"},
        check_spec=False,
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://admin.test"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "x-trace-id" in allowed.headers["Access-Control-Allow-Headers"].lower()
    other = client.get("/api/projects/1/experiments/", headers={"Origin": "http://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_can_be_switched_off(make_client):
    client = make_client(cors_origins="off")
    response = client.get("/api/projects/1/experiments/", headers={"Origin": ORIGIN})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers


def test_latency_delays_vendor_responses_only(make_client):
    client = make_client(latency=(1000, 1000))  # long enough that no hiccup passes for it
    started = time.perf_counter()
    assert client.get("/api/projects/1/experiments/4/").status_code == 200
    assert 1.0 <= time.perf_counter() - started < 5
    started = time.perf_counter()
    client.get("/__admin/health")
    assert time.perf_counter() - started < 0.8


def test_no_auth_lets_credential_less_requests_through_as_full_access(make_client):
    strict = make_client(headers={})
    assert strict.get("/api/projects/1/experiments/").status_code == 401
    open_client = make_client(headers={}, no_auth=True)
    assert open_client.get("/api/projects/1/experiments/").status_code == 200
    created = open_client.post("/api/projects/1/experiments/", json_body={"name": "No key", "feature_flag_key": "nk"})
    assert created.status_code == 201
    ld = open_client.get("/api/v2/projects/default/environments/production/experiments")
    assert ld.status_code == 200
    # a key that is sent is still checked as usual
    open_client.post(
        "/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_ro", "scopes": ["experiment:read"]}
    )
    denied = open_client.post(
        "/api/projects/1/experiments/",
        headers={"Authorization": "Bearer phx_ro"},
        json_body={"name": "Denied", "feature_flag_key": "denied"},
    )
    assert denied.status_code == 403


def test_settings_parse_latency_and_refuse_contradictions():
    assert parse_latency("50-200") == (50, 200)
    assert parse_latency("100") == (100, 100)
    assert parse_latency("0") is None
    assert Settings(latency="5-10").latency == (5, 10)
    for bad in ("200-50", "fast", "-5"):
        with pytest.raises(ValueError):
            parse_latency(bad)
    with pytest.raises(ValueError, match="contradict"):
        Settings(no_auth=True, strict_auth=True)
