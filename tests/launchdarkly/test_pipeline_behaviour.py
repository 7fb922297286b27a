"""What the core pipeline does for LaunchDarkly requests: 405 with Allow, X-HTTP-Method-Override, and
refusals of a bad override, all in LaunchDarkly's error envelope."""

from __future__ import annotations

import json

import pytest

from tests.launchdarkly.helpers import BASE, FLAGS, SEMANTIC, create_flag, flag_url, get, get_flag, refused

OVERRIDE = "X-HTTP-Method-Override"


def _journaled(client, path: str) -> list[str | None]:
    """Operation ids the journal recorded for requests to ``path`` (FlaskClient only)."""
    entries = client.get("/__admin/requests").json()["requests"]
    return [e["operation_id"] for e in entries if e["path"] == path]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"{BASE}/onboarding-flow-test", "GET, HEAD, PATCH"),
        ("PUT", flag_url("pricing-page-layout"), "DELETE, GET, HEAD, PATCH"),
        ("PATCH", FLAGS, "GET, HEAD, POST"),
        ("DELETE", "/api/v2/flag-statuses/default/production", "GET, HEAD"),
    ],
)
def test_a_405_names_the_methods_the_path_serves(ld_api, method, path, allowed):
    response = ld_api.request(method, path, json_body={}, check_spec=False)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    body = response.json()
    assert set(body) == {"code", "message", "id"} and body["code"] == "method_not_allowed", body
    assert method in body["message"]


def test_an_override_to_patch_reaches_patch_experiment(ld_api):
    body = json.dumps({"instructions": [{"kind": "updateName", "value": "Overridden"}]})
    response = ld_api.request(
        "POST",
        f"{BASE}/onboarding-flow-test",
        data=body,
        content_type=SEMANTIC,
        headers={OVERRIDE: "PATCH"},
        check_spec=False,  # the contract documents PATCH here, not POST
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Overridden"
    assert get(ld_api, "onboarding-flow-test")["name"] == "Overridden"


def test_an_override_to_patch_reaches_patch_feature_flag(ld_api):
    change = [{"op": "replace", "path": "/description", "value": "Changed through an override"}]
    response = ld_api.request(
        "POST", flag_url("pricing-page-layout"), json_body=change, headers={OVERRIDE: "patch"}, check_spec=False
    )
    assert response.status_code == 200, response.text
    assert get_flag(ld_api, "pricing-page-layout")["description"] == "Changed through an override"


def test_an_override_is_journaled_as_the_operation_it_reaches(ld):
    semantic = json.dumps({"environmentKey": "production", "instructions": [{"kind": "addTags", "values": ["o"]}]})
    path = flag_url("pricing-page-layout")
    answered = ld.request(
        "POST", path, data=semantic, content_type=SEMANTIC, headers={OVERRIDE: "PATCH"}, check_spec=False
    )
    assert answered.status_code == 200, answered.text
    create_flag(ld, "short-lived")
    gone = ld.request("POST", flag_url("short-lived"), headers={OVERRIDE: "DELETE"}, check_spec=False)
    assert gone.status_code == 204
    assert _journaled(ld, path) == ["patchFeatureFlag"]
    assert _journaled(ld, flag_url("short-lived")) == ["deleteFeatureFlag"]
    assert refused(ld.get(flag_url("short-lived")), 404)


@pytest.mark.parametrize("value", ["TRACE", "GET", "post", "PATCH PATCH"])
def test_an_invalid_override_is_400_in_launchdarklys_envelope(ld_api, value):
    before = get_flag(ld_api, "pricing-page-layout")
    response = ld_api.request(
        "POST",
        flag_url("pricing-page-layout"),
        json_body=[{"op": "replace", "path": "/description", "value": "never"}],
        headers={OVERRIDE: value},
        check_spec=False,
    )
    message = refused(response, 400)
    assert OVERRIDE in message and "DELETE, PATCH, PUT" in message
    assert get_flag(ld_api, "pricing-page-layout") == before
