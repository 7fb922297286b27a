"""Credentials the REST API refuses, built-in roles, and custom roles named by LaunchDarkly's actions."""

from __future__ import annotations

import json

import pytest

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.launchdarkly.helpers import (
    BASE,
    ENV,
    FLAGS,
    LD_KEY,
    PROJECT,
    SEMANTIC,
    create,
    experiment_post,
    flag_url,
    get_flag,
    patch,
    refused,
)
from tests.speccheck import FlaskClient

FORBIDDEN = "Forbidden. Access to the requested resource was denied."
FLAG = f"/api/v2/flags/{PROJECT}/pricing-page-layout"


def register(client, key: str, **fields) -> dict[str, str]:
    response = client.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": key, **fields})
    assert response.status_code == 201, response.text
    return {"Authorization": key}


@pytest.mark.parametrize("strict", [False, True])
def test_sdk_and_mobile_keys_are_refused_in_every_mode(strict):
    client = FlaskClient(create_app(make_settings(strict_auth=strict)), LD_KEY)
    env = client.get(f"/api/v2/projects/{PROJECT}/environments/{ENV}", headers={"Authorization": "api-any"})
    if strict:
        register(client, "api-any")
        env = client.get(f"/api/v2/projects/{PROJECT}/environments/{ENV}", headers={"Authorization": "api-any"})
    keys = env.json()
    for token, what in (("sdk-", "an SDK key"), ("mob-", "a mobile key")):  # registering one is refused
        refused_key = client.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": f"{token}x"})
        assert refused_key.status_code == 400 and refused_key.json()["field"] == "key"
        assert refused_key.json()["detail"].startswith(f"{what} ({token}...) never opens LaunchDarkly's REST API")
    for token, what in (
        (keys["apiKey"], "SDK key"),
        (keys["mobileKey"], "mobile key"),
        (keys["_id"], "client-side ID"),
    ):
        if what == "client-side ID":
            register(client, token)  # even a registered one
        message = refused(client.get(BASE, headers={"Authorization": token}), 401)
        assert message.startswith("Invalid access token") and what in message
    assert "SDK key" in refused(client.get(BASE, headers={"Authorization": "sdk-made-up"}), 401)
    assert "mobile key" in refused(client.get(BASE, headers={"Authorization": "mob-made-up"}), 401)


def test_refused_credentials_over_http(ld_http):
    for token in ("sdk-0000", "mob-0000"):
        response = ld_http.get(BASE, headers={"Authorization": token})
        assert response.status_code == 401 and "X-Ratelimit-Global-Limit" not in response.headers


def test_writers_write_readers_read(ld_api):
    reader = register(ld_api, "api-role-reader", role="reader")
    writer = register(ld_api, "api-role-writer", role="writer")
    metric = {"key": "role-metric", "kind": "custom", "eventKey": "e", "isNumeric": False}
    assert refused(ld_api.post(f"/api/v2/metrics/{PROJECT}", json_body=metric, headers=reader), 403).startswith(
        FORBIDDEN
    )
    assert ld_api.get(f"/api/v2/metrics/{PROJECT}/role-metric").status_code == 404
    assert ld_api.post(f"/api/v2/metrics/{PROJECT}", json_body=metric, headers=writer).status_code == 201
    assert ld_api.get(f"/api/v2/metrics/{PROJECT}", headers=reader).status_code == 200


EXPERIMENTS_ONLY = [
    {
        "effect": "allow",
        "actions": ["createExperiment", "updateExperiment"],
        "resources": ["proj/*:env/production:experiment/*"],
    },
]


def test_custom_role_allows_only_its_actions(ld_api):
    token = register(ld_api, "api-exp-role", policy=EXPERIMENTS_ONLY)
    assert ld_api.post(BASE, json_body=experiment_post(ld_api, "by-role"), headers=token).status_code == 201
    started = patch_as(ld_api, token, "by-role", {"kind": "updateName", "value": "Renamed by role"})
    assert started.status_code == 200
    archive = patch_as(ld_api, token, "by-role", {"kind": "archiveExperiment"})
    message = refused(archive, 403)
    assert message.startswith(FORBIDDEN) and "updateExperimentArchived" in message
    assert "archivedDate" not in ld_api.get(f"{BASE}/by-role").json()
    other_env = f"/api/v2/projects/{PROJECT}/environments/test/experiments"
    elsewhere = ld_api.post(other_env, json_body=experiment_post(ld_api, "by-role", env="test"), headers=token)
    assert "createExperiment on proj/default:env/test:experiment/by-role" in refused(elsewhere, 403)
    flag_change = ld_api.patch(
        FLAG, json_body=[{"op": "replace", "path": f"/environments/{ENV}/on", "value": False}], headers=token
    )
    assert "updateOn on proj/default:env/production:flag/pricing-page-layout" in refused(flag_change, 403)
    metric = {"key": "m-role", "kind": "custom", "eventKey": "e", "isNumeric": False}
    assert "createMetric" in refused(ld_api.post(f"/api/v2/metrics/{PROJECT}", json_body=metric, headers=token), 403)
    assert ld_api.get(BASE, headers=token).status_code == 200  # reading needs no action


def patch_as(client, token, key, *instructions):
    return client.patch(f"{BASE}/{key}", json_body={"instructions": list(instructions)}, headers=token)


def test_flag_actions_and_deny_statements(ld):
    policy = [
        {"effect": "allow", "actions": ["update*"], "resources": ["proj/default:env/*:flag/*"]},
        {"effect": "deny", "actions": ["updateOn"], "resources": ["proj/*:env/production:flag/*"]},
    ]
    token = register(ld, "api-flag-role", policy=policy)
    fallthrough = [{"op": "replace", "path": f"/environments/{ENV}/fallthrough/variation", "value": 1}]
    assert ld.patch(FLAG, json_body=fallthrough, headers=token).status_code == 200
    turn_off = [{"op": "replace", "path": f"/environments/{ENV}/on", "value": False}]
    assert "updateOn" in refused(ld.patch(FLAG, json_body=turn_off, headers=token), 403)
    in_test = [{"op": "replace", "path": "/environments/test/on", "value": False}]
    assert ld.patch(FLAG, json_body=in_test, headers=token).status_code == 200
    rename = [{"op": "replace", "path": "/name", "value": "Renamed"}]
    assert ld.patch(FLAG, json_body=rename, headers=token).status_code == 200  # proj/default:env/*:flag/x


def test_flag_api_actions(ld):
    """Every flag write names LaunchDarkly's action: creating, deleting, and each semantic instruction."""
    policy = [
        {"effect": "allow", "actions": ["createFlag", "updateTargets"], "resources": ["proj/default:env/*:flag/*"]},
        {"effect": "allow", "actions": ["updateFlagVariations"], "resources": ["proj/default:env/*:flag/role-*"]},
    ]
    token = register(ld, "api-flag-api-role", policy=policy)
    assert ld.post(FLAGS, json_body={"key": "role-flag", "name": "Role flag"}, headers=token).status_code == 201
    assert "createFlag" in refused(
        ld.post("/api/v2/flags/mobile-app", json_body={"key": "elsewhere", "name": "E"}, headers=token), 403
    )

    def semantic_as(key: str, *instructions: dict, env: str | None = ENV):
        body: dict = {"instructions": list(instructions)}
        if env is not None:
            body["environmentKey"] = env
        return ld.patch(flag_url(key), data=json.dumps(body), content_type=SEMANTIC, headers=token)

    targets = {
        "kind": "addUserTargets",
        "values": ["u-1"],
        "variationId": get_flag(ld, "role-flag")["variations"][0]["_id"],
    }
    assert semantic_as("role-flag", targets).status_code == 200
    allowed = semantic_as("role-flag", {"kind": "addVariation", "value": "maybe"}, env=None)  # the role allows it…
    assert "boolean" in refused(allowed, 400)  # …and the flag's own rule refuses it
    flag_wide = semantic_as(
        "dark-mode-default", {"kind": "addCustomProperties", "key": "k", "name": "K", "values": ["v"]}, env=None
    )
    assert "updateFlagCustomProperties on proj/default:env/*:flag/dark-mode-default" in refused(flag_wide, 403)
    assert "updateFlagVariations" in refused(
        semantic_as("dark-mode-default", {"kind": "addVariation", "value": 3}, env=None), 403
    )
    assert "updatePrerequisites" in refused(
        semantic_as("role-flag", {"kind": "updatePrerequisite", "key": "dark-mode-default", "variationId": "x"}), 403
    )
    assert "deleteFlag" in refused(ld.delete(flag_url("role-flag"), headers=token), 403)
    assert "deleteFlag" in refused(semantic_as("role-flag", {"kind": "deleteFlag"}, env=None), 403)
    assert get_flag(ld, "role-flag")["environments"][ENV]["targets"]


def test_not_actions_and_not_resources(ld):
    policy = [
        {
            "effect": "allow",
            "notActions": ["updateExperimentArchived"],
            "notResources": ["proj/mobile-app:env/*:experiment/*"],
        }
    ]
    token = register(ld, "api-not-role", policy=policy)
    create(ld, "n1")
    assert patch_as(ld, token, "n1", {"kind": "updateName", "value": "ok"}).status_code == 200
    assert "updateExperimentArchived" in refused(patch_as(ld, token, "n1", {"kind": "archiveExperiment"}), 403)
    mobile = "/api/v2/projects/mobile-app/environments/production/experiments/push-primer-test"
    assert refused(
        ld.patch(mobile, json_body={"instructions": [{"kind": "updateName", "value": "x"}]}, headers=token), 403
    )


def test_holdout_and_layer_actions(ld):
    token = register(
        ld,
        "api-holdout-role",
        policy=[{"effect": "allow", "actions": ["createHoldout", "createLayer"], "resources": ["proj/*"]}],
    )
    holdout = {"key": "hr", "name": "H", "holdoutamount": "5", "metrics": [{"key": "checkout-completed"}]}
    hurl = f"/api/v2/projects/{PROJECT}/environments/{ENV}/holdouts"
    assert "createHoldout on proj/default:env/production:holdout/hr" in refused(
        ld.post(hurl, json_body=holdout, headers=token), 403
    )
    token = register(
        ld,
        "api-holdout-role",
        policy=[
            {
                "effect": "allow",
                "actions": ["createHoldout", "createLayer"],
                "resources": ["proj/*:env/*:holdout/*", "proj/*:layer/*"],
            }
        ],
    )
    assert ld.post(hurl, json_body=holdout, headers=token).status_code == 201
    end = {"instructions": [{"kind": "endHoldout"}]}
    assert "updateHoldoutStatus" in refused(ld.patch(f"{hurl}/hr", json_body=end, headers=token), 403)
    layers = f"/api/v2/projects/{PROJECT}/layers"
    assert ld.post(layers, json_body={"key": "lr", "name": "L", "description": ""}, headers=token).status_code == 201
    reserve = {
        "environmentKey": ENV,
        "instructions": [
            {"kind": "updateExperimentReservation", "experimentKey": "recommendations-test", "reservationPercent": 5}
        ],
    }
    assert "updateLayerConfiguration" in refused(ld.patch(f"{layers}/lr", json_body=reserve, headers=token), 403)


def test_policy_registration_is_checked(ld):
    for policy, fragment in (
        ([], "non-empty"),
        ([{"effect": "maybe", "actions": ["*"], "resources": ["*"]}], "allow"),
        ([{"effect": "allow", "actions": ["*"]}], "resources"),
        ([{"effect": "allow", "actions": ["*"], "notActions": ["x"], "resources": ["*"]}], "exactly one"),
        ([{"effect": "allow", "actions": [], "resources": ["*"]}], "non-empty list"),
    ):
        response = ld.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": "api-p", "policy": policy})
        assert response.status_code == 400, response.text
        assert fragment in response.json()["detail"] or "policy" in (response.json()["field"] or ""), response.text
    posthog = ld.post(
        "/__admin/api-keys",
        json_body={
            "vendor": "posthog",
            "key": "phx",
            "policy": [{"effect": "allow", "actions": ["*"], "resources": ["*"]}],
        },
    )
    # Each vendor takes only its own grant fields: a LaunchDarkly policy on a PostHog key is refused
    # (ignored, it left the key its default of every scope).
    assert posthog.status_code == 400 and posthog.json()["field"] == "policy", posthog.text
    listed = ld.get("/__admin/api-keys").json()["keys"]
    assert not any(k["key"] == "api-p" for k in listed)
    register(ld, "api-listed", policy=EXPERIMENTS_ONLY, service_token=True)
    stored = next(k for k in ld.get("/__admin/api-keys").json()["keys"] if k["key"] == "api-listed")
    assert stored["policy"] == EXPERIMENTS_ONLY and stored["service_token"] is True


def test_a_refused_write_changes_nothing(ld):
    token = register(ld, "api-nothing", policy=[{"effect": "deny", "actions": ["*"], "resources": ["*"]}])
    before = ld.get(f"{BASE}/onboarding-flow-test").json()
    refused(patch_as(ld, token, "onboarding-flow-test", {"kind": "startIteration"}), 403)
    assert ld.get(f"{BASE}/onboarding-flow-test").json() == before
    assert patch(ld, "onboarding-flow-test", {"kind": "startIteration"}).status_code == 200
