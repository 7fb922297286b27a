"""PATCH a flag with JSON Patch and JSON merge patch: what they may touch, versions, dry runs."""

from __future__ import annotations

import pytest

from tests.launchdarkly.helpers import ENV, create_flag, flag_url, get_flag

URL = flag_url("dark-mode-default")


def test_json_patch_changes_variations_targeting_and_settings(ld_api):
    before = get_flag(ld_api, "pricing-page-layout")
    response = ld_api.patch(
        flag_url("pricing-page-layout"),
        json_body={
            "comment": "several at once",
            "patch": [
                {"op": "add", "path": "/variations/-", "value": {"value": "wide", "name": "Wide"}},
                {"op": "add", "path": "/environments/test/targets/-", "value": {"variation": 2, "values": ["u1"]}},
                {"op": "replace", "path": "/environments/test/fallthrough", "value": {"variation": 1}},
                {"op": "add", "path": "/tags/-", "value": "layout"},
                {"op": "replace", "path": "/clientSideAvailability/usingMobileKey", "value": True},
                {"op": "test", "path": "/_version", "value": before["_version"]},
            ],
        },
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["variations"][2]["value"] == "wide" and after["variations"][2]["_id"]
    assert after["environments"]["test"]["targets"] == [{"variation": 2, "values": ["u1"]}]
    assert after["environments"]["test"]["fallthrough"] == {"variation": 1}
    assert after["tags"][-1] == "layout" and after["clientSideAvailability"]["usingMobileKey"] is True
    assert after["_version"] == before["_version"] + 1
    assert after["environments"]["test"]["version"] == before["environments"]["test"]["version"] + 1
    assert after["environments"][ENV]["version"] == before["environments"][ENV]["version"]
    assert get_flag(ld_api, "pricing-page-layout") == after


def test_json_patch_adds_rules_with_ids(ld_api):
    rule = {"variation": 1, "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}]}
    response = ld_api.patch(URL, json_body=[{"op": "add", "path": "/environments/production/rules/0", "value": rule}])
    assert response.status_code == 200, response.text
    added = response.json()["environments"]["production"]["rules"][0]
    assert added["_id"] and added["trackEvents"] is False
    assert added["clauses"][0]["_id"] and added["clauses"][0]["negate"] is False


@pytest.mark.parametrize(
    ("ops", "fragment"),
    [
        ([{"op": "replace", "path": "/kind", "value": "multivariate"}], "cannot be changed"),
        ([{"op": "replace", "path": "/environments/production/version", "value": 99}], "cannot be changed"),
        ([{"op": "replace", "path": "/environments/production/_site", "value": {}}], "cannot be changed"),
        ([{"op": "add", "path": "/variations/-", "value": {"value": "maybe"}}], "true and false"),
        ([{"op": "replace", "path": "/environments/test/fallthrough", "value": {"variation": 5}}], "below 2"),
        ([{"op": "replace", "path": "/environments/test/fallthrough", "value": {}}], "either a variation or a rollout"),
        (
            [{"op": "replace", "path": "/environments/test/rules/0/clauses/0/op", "value": "like"}],
            "op must be one of",
        ),
        (
            [{"op": "add", "path": "/environments/test/targets/-", "value": {"variation": 0, "values": ["qa-user-1"]}}],
            "more than one",
        ),
        (
            [
                {
                    "op": "add",
                    "path": "/environments/test/targets/-",
                    "value": {"variation": 0, "values": ["x"], "contextKind": "org"},
                }
            ],
            "contextTargets",
        ),
        (
            [
                {
                    "op": "add",
                    "path": "/environments/test/prerequisites/-",
                    "value": {"key": "new-onboarding-flow", "variation": 1},
                }
            ],
            "cycle",
        ),
        (
            [{"op": "add", "path": "/environments/test/prerequisites/-", "value": {"key": "ghost", "variation": 1}}],
            "unknown flag",
        ),
        ([{"op": "replace", "path": "/defaults", "value": {"onVariation": 3, "offVariation": 0}}], "defaults"),
        ([{"op": "replace", "path": "/maintainerId", "value": "nobody"}], "not a member"),
        (
            [
                {
                    "op": "replace",
                    "path": "/environments/test/fallthrough",
                    "value": {"rollout": {"variations": [{"variation": 0, "weight": 10}]}},
                }
            ],
            "add up to 100000",
        ),
    ],
)
def test_json_patch_refusals_change_nothing(ld_api, ops, fragment):
    before = get_flag(ld_api, "dark-mode-default")
    response = ld_api.patch(URL, json_body=ops)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["message"]
    assert get_flag(ld_api, "dark-mode-default") == before


def test_merge_patch(ld_api):
    before = get_flag(ld_api, "dark-mode-default")
    response = ld_api.patch(
        URL,
        json_body={
            "comment": "merge",
            "merge": {
                "description": "Merged description",
                "maintainerId": None,
                "customProperties": {"jira": {"name": "Jira", "value": ["IS-7"]}},
                "environments": {"production": {"on": True}},
            },
        },
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["description"] == "Merged description" and "maintainerId" not in after
    assert after["customProperties"] == {"jira": {"name": "Jira", "value": ["IS-7"]}}
    assert after["environments"]["production"]["on"] is True
    assert after["environments"]["production"]["rules"] == before["environments"]["production"]["rules"]
    assert after["_version"] == before["_version"] + 1
    for merge, fragment in (
        ({"key": "renamed"}, "field 'key' cannot be changed"),
        ({"environments": {"production": {"salt": "x"}}}, "environments.production.salt cannot be changed"),
        ({"environments": {"staging": {"on": True}}}, "environments cannot be added"),
        ({"tags": "ui"}, "tags"),
    ):
        refused = ld_api.patch(URL, json_body={"merge": merge})
        assert refused.status_code == 400, refused.text
        assert fragment in refused.json()["message"]
    assert get_flag(ld_api, "dark-mode-default") == after


def test_dry_run_for_json_and_merge_patches(ld_api):
    before = get_flag(ld_api, "dark-mode-default")
    json_dry = ld_api.patch(URL + "?dryRun=true", json_body=[{"op": "replace", "path": "/name", "value": "Preview"}])
    assert json_dry.status_code == 200 and json_dry.json()["name"] == "Preview"
    assert json_dry.json()["_version"] == before["_version"] + 1
    merge_dry = ld_api.patch(URL + "?dryRun=1", json_body={"merge": {"temporary": False}})
    assert merge_dry.status_code == 200 and merge_dry.json()["temporary"] is False
    assert get_flag(ld_api, "dark-mode-default") == before
    assert ld_api.patch(URL + "?dryRun=maybe", json_body={"merge": {}}).status_code == 400


def test_body_forms_that_are_not_patches(ld_api):
    both = ld_api.patch(URL, json_body={"patch": [], "merge": {}})
    assert both.status_code == 400
    neither = ld_api.patch(URL, json_body={"comment": "nothing"})
    assert neither.status_code == 400
    text = ld_api.patch(URL, data="name=x", content_type="text/plain")
    assert text.status_code == 400  # LaunchDarkly documents no 415: an unreadable body is a 400


def test_archived_flag_takes_only_a_restore(ld_api):
    url = flag_url("holiday-banner")
    before = get_flag(ld_api, "holiday-banner")
    assert before["archivedDate"] and all(c["archived"] for c in before["environments"].values())
    response = ld_api.patch(url, json_body={"merge": {"description": "x"}})
    assert response.status_code == 400 and "archived; restore it first" in response.json()["message"]
    restored = ld_api.patch(url, json_body={"merge": {"archived": False, "description": "back"}})
    assert restored.status_code == 200, restored.text
    assert restored.json()["description"] == "back" and "archivedDate" not in restored.json()
    assert not any(c["archived"] for c in restored.json()["environments"].values())


def test_created_flag_takes_all_three_forms(ld_api):
    create_flag(ld_api, "three-forms")
    url = flag_url("three-forms")
    assert ld_api.patch(url, json_body=[{"op": "replace", "path": "/name", "value": "One"}]).json()["_version"] == 2
    assert ld_api.patch(url, json_body={"merge": {"name": "Two"}}).json()["_version"] == 3
    import json

    body = json.dumps({"instructions": [{"kind": "updateName", "value": "Three"}]})
    semantic = ld_api.patch(url, data=body, content_type="application/json; domain-model=launchdarkly.semanticpatch")
    assert semantic.json()["name"] == "Three" and semantic.json()["_version"] == 4
