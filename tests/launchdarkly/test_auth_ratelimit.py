"""Authorization, roles, LD-API-Version, the beta switch and on-demand rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mockserver.vendors.launchdarkly.errors import BETA_REQUIRED
from tests.launchdarkly.helpers import BASE, LD_KEY, SEMANTIC, create, patch, runtime_of
from tests.speccheck import FlaskClient

ADMIN = "/__admin/launchdarkly/rate-limit"


def test_missing_token_is_401(ld_api):
    response = ld_api.get(BASE, headers={"Authorization": ""})
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_bearer_prefix_is_401(ld_api):
    response = ld_api.get(BASE, headers={"Authorization": "Bearer api-test-token"})
    assert response.status_code == 401
    assert "without Bearer" in response.json()["message"]


def test_any_token_works_by_default_and_strict_auth_refuses_unknown(app, ld):
    assert ld.get(BASE, headers={"Authorization": "api-anything"}).status_code == 200
    from mockserver.app import create_app
    from tests.conftest import make_settings

    strict = FlaskClient(create_app(make_settings(strict_auth=True)), LD_KEY)
    assert strict.get(BASE).status_code == 401
    strict.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": "api-test-token", "role": "writer"})
    assert strict.get(BASE).status_code == 200


@pytest.mark.parametrize("role", ["reader", "writer", "admin"])
def test_roles(ld, role):
    key = f"api-{role}"
    response = ld.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": key, "role": role})
    assert response.status_code == 201
    headers = {"Authorization": key}
    assert ld.get(BASE, headers=headers).status_code == 200
    url = f"{BASE}/onboarding-flow-test"
    response = ld.patch(
        url, json_body={"instructions": [{"kind": "updateName", "value": "By " + role}]}, headers=headers
    )
    if role == "reader":
        assert response.status_code == 403 and response.json()["code"] == "forbidden"
        assert ld.get(url).json()["name"] != "By reader"
        assert (
            ld.put(
                "/api/v2/projects/default/experimentation-settings",
                headers=headers,
                json_body={"randomizationUnits": []},
            ).status_code
            == 403
        )
        assert (
            ld.delete(
                "/api/v2/flags/default/free-shipping-threshold/experiments/production/revenue-per-user/results",
                headers=headers,
            ).status_code
            == 403
        )
    else:
        assert response.status_code == 200 and response.json()["name"] == "By " + role


@pytest.mark.parametrize(
    ("version", "status"),
    [
        (None, 200),
        ("beta", 200),
        ("20240415", 200),
        ("20220603", 200),
        ("v2", 400),
        ("2024-04-15", 400),
        ("", 400),
    ],
)
def test_api_version_header(ld_api, version, status):
    headers = {} if version is None else {"LD-API-Version": version}
    response = ld_api.get(BASE, headers=headers)
    assert response.status_code == status
    if status == 400:
        assert "LD-API-Version" in response.json()["message"]


def test_beta_switch(beta_client):
    response = beta_client.get(BASE)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden" and response.json()["message"] == BETA_REQUIRED
    assert beta_client.get(BASE, headers={"LD-API-Version": "20240415"}).status_code == 403
    assert beta_client.get(BASE, headers={"LD-API-Version": "beta"}).status_code == 200
    response = beta_client.patch(
        f"{BASE}/onboarding-flow-test",
        headers={"LD-API-Version": "beta"},
        data='{"instructions":[{"kind":"updateName","value":"Beta era"}]}',
        content_type=SEMANTIC,
    )
    assert response.status_code == 200 and response.json()["name"] == "Beta era"
    legacy = "/api/v2/flags/default/pricing-page-layout/experiments/production/checkout-conversion"
    assert beta_client.get(legacy).status_code == 403  # legacy experiment results were beta too
    assert beta_client.get("/api/v2/flags/default/pricing-page-layout").status_code == 200  # flags never were


def test_the_beta_switch_leaves_every_flag_operation_alone(beta_client):
    from mockserver.core.contract import Contract
    from mockserver.vendors.launchdarkly.auth import FLAG_OPERATIONS

    tagged = {
        op for op, (_m, _p, spec, _i) in Contract("launchdarkly").raw_operations.items() if "flags" in spec["tags"]
    }
    assert tagged == FLAG_OPERATIONS  # every operation of the flag API, and only those
    flag = "/api/v2/flags/default/pricing-page-layout"
    answers = {
        "getFeatureFlags": beta_client.get("/api/v2/flags/default"),
        "postFeatureFlag": beta_client.post("/api/v2/flags/default", json_body={"key": "era", "name": "Era"}),
        "getFeatureFlag": beta_client.get(flag),
        "patchFeatureFlag": beta_client.patch(flag, json_body=[{"op": "replace", "path": "/name", "value": "N"}]),
        "getFeatureFlagStatusAcrossEnvironments": beta_client.get("/api/v2/flag-status/default/pricing-page-layout"),
        "getFeatureFlagStatuses": beta_client.get("/api/v2/flag-statuses/default/production"),
        "getFeatureFlagStatus": beta_client.get("/api/v2/flag-statuses/default/production/pricing-page-layout"),
        "deleteFeatureFlag": beta_client.delete("/api/v2/flags/default/era"),
    }
    assert set(answers) == FLAG_OPERATIONS
    expected = {"postFeatureFlag": 201, "deleteFeatureFlag": 204}
    for op_id, response in answers.items():
        assert response.status_code == expected.get(op_id, 200), (op_id, response.text)
    assert beta_client.get(BASE).status_code == 403  # the experiment operations still need beta


def test_beta_switch_from_environment():
    from mockserver.core.settings import build, env_overrides

    assert build(env_overrides({"MOCKSERVER_LAUNCHDARKLY_REQUIRE_BETA": "1"})).option("launchdarkly_require_beta")
    from mockserver.cli import _parser, settings_from

    args = _parser().parse_args(["serve", "--launchdarkly-require-beta"])
    assert settings_from(args, {}).option("launchdarkly_require_beta") is True
    assert settings_from(_parser().parse_args(["serve"]), {}).option("launchdarkly_require_beta") is False


# -- rate limits -------------------------------------------------------------------------------


def test_rate_limit_rules_admin(ld):
    response = ld.post(ADMIN, json_body={"limit": 2})
    assert response.status_code == 201
    assert response.json()["limit"] == 2 and response.json()["window_seconds"] == 10
    listed = ld.get(ADMIN)
    assert listed.status_code == 200 and len(listed.json()["rules"]) == 1
    assert ld.delete(ADMIN).status_code == 204
    assert ld.get(ADMIN).json() == {"rules": []}


@pytest.mark.parametrize(
    "body",
    [{}, {"limit": 0}, {"limit": "5"}, {"limit": 5, "window_seconds": 0}, {"limit": 5, "token": ""}, {"limit": True}],
)
def test_rate_limit_rule_validation(ld, body):
    assert ld.post(ADMIN, json_body=body).status_code == 400


def test_over_budget_is_429_with_headers(ld):
    runtime = runtime_of(ld)
    ld.post(ADMIN, json_body={"limit": 2, "window_seconds": 10})
    first = ld.get(BASE)
    assert first.status_code == 200 and first.headers["X-Ratelimit-Auth-Token-Remaining"] == "1"
    assert first.headers["X-Ratelimit-Auth-Token-Limit"] == "2"
    assert ld.get(BASE).headers["X-Ratelimit-Auth-Token-Remaining"] == "0"
    limited = ld.get(BASE)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    reset = int(limited.headers["X-Ratelimit-Auth-Token-Reset"])
    now_ms = int(runtime.clock.now().timestamp() * 1000)
    assert now_ms < reset <= now_ms + 10_000
    assert "Retry-After" not in limited.headers  # LaunchDarkly sends it for IP-based limits only
    assert limited.headers["X-Ratelimit-Auth-Token-Remaining"] == "0"
    # another token has its own budget
    assert ld.get(BASE, headers={"Authorization": "api-other"}).status_code == 200
    runtime.clock.advance(timedelta(seconds=10))
    assert ld.get(BASE).status_code == 200


def test_rate_limit_for_one_token_only(ld):
    ld.post(ADMIN, json_body={"limit": 1, "token": "api-noisy"})
    noisy = {"Authorization": "api-noisy"}
    assert ld.get(BASE, headers=noisy).status_code == 200
    assert ld.get(BASE, headers=noisy).status_code == 429
    calm = ld.get(BASE)
    assert calm.status_code == 200
    assert calm.headers["X-Ratelimit-Auth-Token-Limit"] != "1"  # the reported default, not the noisy token's rule


def test_rate_limited_write_changes_nothing(ld):
    create(ld, "limited")
    ld.post(ADMIN, json_body={"limit": 1})
    assert patch(ld, "limited", {"kind": "updateName", "value": "Changed"}).status_code == 200
    assert patch(ld, "limited", {"kind": "updateName", "value": "Twice"}).status_code == 429
    ld.delete(ADMIN)
    assert ld.get(f"{BASE}/limited").json()["name"] == "Changed"


def test_admin_reset_clears_rate_limits(ld):
    ld.post(ADMIN, json_body={"limit": 1})
    ld.get(BASE)
    assert ld.get(BASE).status_code == 429
    assert ld.post("/__admin/reset").status_code == 200
    assert ld.get(ADMIN).json() == {"rules": []}
    assert ld.get(BASE).status_code == 200


def test_rate_limit_over_real_http(ld_http):
    ld_http.post(ADMIN, json_body={"limit": 1, "window_seconds": 1, "scope": "ip"})
    assert ld_http.get(BASE).status_code == 200
    limited = ld_http.get(BASE)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["code"] == "rate_limited"
    ld_http.delete(ADMIN)
    assert ld_http.get(BASE).status_code == 200
