"""The project and its environments, members, the caller's identity, and the checks on creating experiments
and iterations that depend on them (maintainer, flag version, archived flags)."""

from __future__ import annotations

from tests.launchdarkly.helpers import BASE, ENV, PROJECT, experiment_post, get_flag, iteration_input, refused

P = f"/api/v2/projects/{PROJECT}"
E = f"{P}/environments/{ENV}"


def register(client, key: str, **fields) -> dict[str, str]:
    response = client.post("/__admin/api-keys", json_body={"vendor": "launchdarkly", "key": key, **fields})
    assert response.status_code == 201, response.text
    return {"Authorization": key}


def test_project_and_environments(ld_api):
    project = ld_api.get(P).json()
    assert project["key"] == PROJECT and "environments" not in project
    expanded = ld_api.get(f"{P}?expand=environments").json()["environments"]
    assert expanded["totalCount"] == 2 and {e["key"] for e in expanded["items"]} == {"production", "test"}
    env = ld_api.get(E).json()
    assert env["apiKey"].startswith("sdk-") and env["mobileKey"].startswith("mob-") and env["critical"] is True
    assert env == next(e for e in expanded["items"] if e["key"] == ENV)
    assert "expand" in refused(ld_api.get(f"{P}?expand=flags"), 400)
    refused(ld_api.get("/api/v2/projects/nope"), 404)
    refused(ld_api.get(f"{P}/environments/staging"), 404)


def test_patch_an_environment(ld_api):
    ops = [
        {"op": "test", "path": "/name", "value": "Production"},
        {"op": "replace", "path": "/color", "value": "00aa00"},
        {"op": "add", "path": "/tags/-", "value": "live"},
        {"op": "replace", "path": "/defaultTtl", "value": 5},
    ]
    patched = ld_api.patch(E, json_body=ops)
    assert patched.status_code == 200, patched.text
    assert (
        patched.json()["color"] == "00aa00" and patched.json()["tags"] == ["live"] and patched.json()["defaultTtl"] == 5
    )
    assert ld_api.get(E).json() == patched.json()


def test_environment_patch_refusals(ld):
    before = ld.get(E).json()
    stale = [
        {"op": "test", "path": "/name", "value": "Staging"},
        {"op": "replace", "path": "/color", "value": "000000"},
    ]
    assert "test" in refused(ld.patch(E, json_body=stale), 409)
    assert "color" in refused(ld.patch(E, json_body=[{"op": "replace", "path": "/color", "value": "green"}]), 400)
    assert "cannot be changed" in refused(
        ld.patch(E, json_body=[{"op": "replace", "path": "/apiKey", "value": "x"}]), 400
    )
    approvals = [{"op": "replace", "path": "/approvalSettings/required", "value": True}]
    assert "Approvals" in refused(ld.patch(E, json_body=approvals), 400)
    writer = register(ld, "api-env-writer", role="writer")
    message = refused(ld.patch(E, json_body=[{"op": "replace", "path": "/name", "value": "x"}], headers=writer), 403)
    assert message.startswith("Forbidden. Access to the requested resource was denied.")
    assert ld.get(E).json() == before


def test_caller_identity_says_which_token_and_role(ld_api):
    anyone = ld_api.get("/api/v2/caller-identity").json()
    assert anyone["role"] == "admin" and anyone["tokenKind"] == "personal" and anyone["serviceToken"] is False
    assert anyone["memberId"] == ld_api.get("/api/v2/members/me").json()["_id"]
    reader = register(ld_api, "api-reader-id", role="reader")
    seen = ld_api.get("/api/v2/caller-identity", headers=reader).json()
    assert seen["role"] == "reader" and seen["scopes"] == ["reader"] and seen["tokenName"] == "Registered access token"
    assert seen["tokenId"] != anyone["tokenId"] and seen["accountId"] == anyone["accountId"]
    service = register(ld_api, "api-service", role="writer", service_token=True)
    robot = ld_api.get("/api/v2/caller-identity", headers=service).json()
    assert robot["serviceToken"] is True and robot["tokenKind"] == "service" and "memberId" not in robot
    custom = register(
        ld_api,
        "api-custom-id",
        policy=[{"effect": "allow", "actions": ["*"], "resources": ["proj/*:env/*:experiment/*"]}],
    )
    assert ld_api.get("/api/v2/caller-identity", headers=custom).json()["role"] == "custom"


def test_members(ld_api):
    me = ld_api.get("/api/v2/members/me").json()
    assert me["role"] == "owner" and me["_verified"] is True and "@" in me["email"]
    assert ld_api.get(f"/api/v2/members/{me['_id']}").json() == me
    assert ld_api.get("/api/v2/members/me?expand=roleAttributes").json()["roleAttributes"] == {}
    refused(ld_api.get("/api/v2/members/nobody"), 404)
    service = register(ld_api, "api-service-me", service_token=True)
    assert "service token" in refused(ld_api.get("/api/v2/members/me", headers=service), 404)


def test_experiment_maintainer_is_checked(ld_api):
    exp = ld_api.post(BASE, json_body=experiment_post(ld_api, "mine")).json()
    assert exp["_maintainerId"] == ld_api.get("/api/v2/members/me").json()["_id"]
    stranger = {**experiment_post(ld_api, "stranger"), "maintainerId": "5f1a2b3c4d5e6f7a8b9c0d1e"}
    assert "not a member" in refused(ld_api.post(BASE, json_body=stranger), 400)
    service = register(ld_api, "api-service-exp", service_token=True)
    assert "maintainerId is required" in refused(
        ld_api.post(BASE, json_body=experiment_post(ld_api, "robot"), headers=service), 400
    )
    member = ld_api.get("/api/v2/members/me").json()["_id"]
    named = {**experiment_post(ld_api, "robot"), "maintainerId": member}
    assert ld_api.post(BASE, json_body=named, headers=service).status_code == 201


def test_flag_config_version_must_be_current(ld_api):
    post = experiment_post(ld_api, "stale")
    version = get_flag(ld_api, "pricing-page-layout")["environments"][ENV]["version"]
    post["iteration"]["flags"]["pricing-page-layout"]["flagConfigVersion"] = version - 1
    message = refused(ld_api.post(BASE, json_body=post), 400)
    assert f"is not its current version {version}" in message
    assert ld_api.get(f"{BASE}/stale").status_code == 404
    ld_api.post(BASE, json_body=experiment_post(ld_api, "fresh"))
    ld_api.patch(
        f"/api/v2/flags/{PROJECT}/pricing-page-layout",
        json_body=[{"op": "replace", "path": f"/environments/{ENV}/offVariation", "value": 0}],
    )
    old = iteration_input(ld_api)
    old["flags"]["pricing-page-layout"]["flagConfigVersion"] = version
    assert "current version" in refused(ld_api.post(f"{BASE}/fresh/iterations", json_body=old), 400)
    assert ld_api.post(f"{BASE}/fresh/iterations", json_body=iteration_input(ld_api)).status_code == 200


def test_archived_flags_are_refused_when_the_iteration_is_made(ld):
    post = experiment_post(ld, "banner", flag_key="holiday-banner")
    assert "archived" in refused(ld.post(BASE, json_body=post), 400)
    ld.post(BASE, json_body=experiment_post(ld, "ok"))
    later = iteration_input(ld, flag_key="holiday-banner")
    assert "archived" in refused(ld.post(f"{BASE}/ok/iterations", json_body=later), 400)
