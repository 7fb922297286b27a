"""POST /api/v2/flags/{projectKey} and DELETE /api/v2/flags/{projectKey}/{featureFlagKey}."""

from __future__ import annotations

import pytest

from tests.launchdarkly.helpers import ENV, FLAGS, applied, create_flag, flag_url, get_flag
from tests.launchdarkly.helpers import create as create_experiment
from tests.launchdarkly.helpers import patch as patch_experiment


def test_create_boolean_flag_with_defaults(ld_api):
    response = ld_api.post(FLAGS, json_body={"key": "flag-key-123abc", "name": "My Flag"})
    assert response.status_code == 201, response.text
    flag = response.json()
    assert flag["kind"] == "boolean" and [v["value"] for v in flag["variations"]] == [True, False]
    assert all(v["_id"] for v in flag["variations"])
    assert flag["defaults"] == {"onVariation": 0, "offVariation": 1}
    assert flag["temporary"] is True and flag["tags"] == [] and flag["description"] == ""
    assert flag["archived"] is False and flag["deprecated"] is False and flag["_version"] == 1
    assert flag["clientSideAvailability"] == {"usingEnvironmentId": False, "usingMobileKey": True}
    assert flag["experiments"] == {"baselineIdx": 0, "items": []} and flag["customProperties"] == {}
    assert flag["maintainerId"]
    assert set(flag["environments"]) == {"production", "test"}
    production = flag["environments"]["production"]
    assert production["on"] is False and production["version"] == 1
    assert production["fallthrough"] == {"variation": 0} and production["offVariation"] == 1
    assert production["rules"] == [] and production["targets"] == [] and production["prerequisites"] == []
    assert production["_environmentName"] == "Production"
    assert production["_site"]["href"] == "/default/production/features/flag-key-123abc"
    assert flag["_links"]["self"]["href"] == "/api/v2/flags/default/flag-key-123abc"
    assert get_flag(ld_api, "flag-key-123abc") == flag


def test_create_multivariate_flag_with_every_option(ld_api):
    dark = get_flag(ld_api, "dark-mode-default")
    members = {f["maintainerId"] for f in ld_api.get(f"{FLAGS}?limit=50").json()["items"]}
    flag = create_flag(
        ld_api,
        "button-size",
        name="Button size",
        description="How big the button is",
        variations=[{"value": "s", "name": "Small"}, {"value": "m", "description": "Medium"}, {"value": "l"}],
        defaults={"onVariation": 1, "offVariation": 0},
        temporary=False,
        tags=["ui", "ui", "checkout"],
        customProperties={"jira": {"name": "Jira issues", "value": ["IS-1"]}},
        clientSideAvailability={"usingEnvironmentId": True, "usingMobileKey": False},
        maintainerId=sorted(members)[0],
        initialPrerequisites=[{"key": "dark-mode-default", "variationId": dark["variations"][1]["_id"]}],
        isFlagOn=True,
    )
    assert flag["kind"] == "multivariate" and flag["variations"][0]["name"] == "Small"
    assert flag["variations"][1]["description"] == "Medium" and "name" not in flag["variations"][2]
    assert flag["defaults"] == {"onVariation": 1, "offVariation": 0} and flag["temporary"] is False
    assert flag["tags"] == ["ui", "checkout"] and flag["customProperties"]["jira"]["value"] == ["IS-1"]
    assert flag["includeInSnippet"] is True and flag["maintainerId"] == sorted(members)[0]
    for config in flag["environments"].values():
        assert config["on"] is True and config["fallthrough"] == {"variation": 1} and config["offVariation"] == 0
        assert config["prerequisites"] == [{"key": "dark-mode-default", "variation": 1}]


def test_create_with_team_and_migration_flags(ld_api):
    team = create_flag(ld_api, "team-owned", maintainerTeamKey="platform")
    assert team["maintainerTeamKey"] == "platform" and "maintainerId" not in team
    two = create_flag(ld_api, "db-move", purpose="migration", migrationSettings={"stageCount": 2})
    assert [v["value"] for v in two["variations"]] == ["off", "complete"] and two["_purpose"] == "migration"
    assert two["kind"] == "multivariate" and two["defaults"] == {"onVariation": 0, "offVariation": 0}
    six = create_flag(
        ld_api, "db-split", purpose="migration", migrationSettings={"stageCount": 6, "contextKind": "account"}
    )
    assert [v["value"] for v in six["variations"]] == ["off", "dualwrite", "shadow", "live", "rampdown", "complete"]
    assert "migrationSettings" not in six
    expanded = ld_api.get(flag_url("db-split") + "?expand=migrationSettings").json()
    assert expanded["migrationSettings"] == {"stageCount": 6, "contextKind": "account"}


def test_clone_copies_variations_and_targeting(ld_api):
    source = get_flag(ld_api, "dark-mode-default")
    response = ld_api.post(FLAGS + "?clone=dark-mode-default", json_body={"key": "dark-mode-copy", "name": "Copy"})
    assert response.status_code == 201, response.text
    copy = response.json()
    assert [v["value"] for v in copy["variations"]] == [v["value"] for v in source["variations"]]
    assert {v["_id"] for v in copy["variations"]}.isdisjoint(v["_id"] for v in source["variations"])
    for env_key, config in copy["environments"].items():
        theirs = source["environments"][env_key]
        assert config["on"] == theirs["on"] and config["targets"] == theirs["targets"]
        assert config["fallthrough"] == theirs["fallthrough"] and config["offVariation"] == theirs["offVariation"]
        assert [r["clauses"][0]["values"] for r in config["rules"]] == [
            r["clauses"][0]["values"] for r in theirs["rules"]
        ]
        assert [r["_id"] for r in config["rules"]] != [r["_id"] for r in theirs["rules"]]
    assert ld_api.post(FLAGS + "?clone=ghost", json_body={"key": "x", "name": "X"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"key": "checkout-button-color", "name": "Again"}, 409, "A feature with that key already exists"),
        ({"key": "bad key!", "name": "Bad"}, 400, "Invalid flag key"),
        ({"key": "ok", "name": " "}, 400, "name may not be empty"),
        ({"key": "ok", "name": "Ok", "variations": [{"value": "a"}, {"value": "a"}]}, 400, "unique"),
        ({"key": "ok", "name": "Ok", "variations": [{"value": "a"}, {"value": 1}]}, 400, "same type"),
        ({"key": "ok", "name": "Ok", "variations": [{"value": "a"}]}, 400, "at least two variations"),
        ({"key": "ok", "name": "Ok", "defaults": {"onVariation": 0, "offVariation": 5}}, 400, "defaults"),
        ({"key": "ok", "name": "Ok", "maintainerId": "nobody"}, 400, "not a member"),
        (
            {"key": "ok", "name": "Ok", "initialPrerequisites": [{"key": "ghost", "variationId": "x"}]},
            400,
            "unknown flag",
        ),
        (
            {"key": "ok", "name": "Ok", "initialPrerequisites": [{"key": "dark-mode-default", "variationId": "x"}]},
            400,
            "is not a variation",
        ),
        ({"key": "ok", "name": "Ok", "purpose": "migration"}, 400, "stageCount"),
        (
            {"key": "ok", "name": "Ok", "purpose": "migration", "migrationSettings": {"stageCount": 6}},
            400,
            "contextKind",
        ),
        ({"key": "ok", "name": "Ok", "migrationSettings": {"stageCount": 2}}, 400, "purpose"),
        ({"key": "ok", "name": "Ok", "tags": [""]}, 400, "tags"),
        ({"key": "ok"}, 400, "name"),
        ({"name": "Ok"}, 400, "key"),
    ],
)
def test_create_refusals(ld_api, body, status, fragment):
    before = ld_api.get(f"{FLAGS}?limit=50").json()["totalCount"]
    response = ld_api.post(FLAGS, json_body=body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["message"]
    assert response.json()["code"] == ("conflict" if status == 409 else "invalid_request")
    assert ld_api.get(f"{FLAGS}?limit=50").json()["totalCount"] == before
    assert ld_api.post("/api/v2/flags/nope", json_body={"key": "x", "name": "X"}).status_code == 404


def test_delete_flag(ld_api):
    create_flag(ld_api, "short-lived")
    response = ld_api.delete(flag_url("short-lived"))
    assert response.status_code == 204 and response.content == b""
    assert ld_api.get(flag_url("short-lived")).status_code == 404
    assert ld_api.delete(flag_url("short-lived")).status_code == 404
    assert "short-lived" not in [f["key"] for f in ld_api.get(f"{FLAGS}?limit=50").json()["items"]]
    recreated = create_flag(ld_api, "short-lived")
    assert recreated["_version"] == 1


def test_delete_refusals_change_nothing(ld_api):
    before = get_flag(ld_api, "dark-mode-default")
    prerequisite = ld_api.delete(flag_url("dark-mode-default"))
    assert prerequisite.status_code == 409 and prerequisite.json()["code"] == "conflict"
    assert "prerequisite of flag 'new-onboarding-flow' in 'test'" in prerequisite.json()["message"]
    assert get_flag(ld_api, "dark-mode-default") == before
    running = ld_api.delete(flag_url("search-ranking-v2"))
    assert running.status_code == 409
    assert "running experiment 'search-ranking-test'" in running.json()["message"]
    applied(ld_api, "new-onboarding-flow", {"kind": "removePrerequisite", "key": "dark-mode-default"}, env="test")
    assert ld_api.delete(flag_url("dark-mode-default")).status_code == 204


def test_deleted_flag_cannot_start_an_experiment(ld_api):
    create_flag(ld_api, "doomed", variations=[{"value": "a"}, {"value": "b"}])
    applied(ld_api, "doomed", {"kind": "turnFlagOn"})
    create_experiment(ld_api, "doomed-test", flag_key="doomed")
    assert ld_api.delete(flag_url("doomed")).status_code == 204, "a draft does not hold the flag"
    response = patch_experiment(ld_api, "doomed-test", {"kind": "startIteration"})
    assert response.status_code == 400 and "no longer exists" in response.json()["message"]
    experiment = ld_api.get(f"/api/v2/projects/default/environments/{ENV}/experiments/doomed-test")
    assert experiment.status_code == 200, "an experiment on a deleted flag still reads"
