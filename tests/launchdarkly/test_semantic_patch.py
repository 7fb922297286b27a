"""PATCH …/experiments/{key}: semantic-patch instructions, their rules, and atomicity."""

from __future__ import annotations

import json

import pytest

from tests.launchdarkly.helpers import (
    BASE,
    SEMANTIC,
    create,
    create_flag,
    get,
    get_flag,
    iteration_input,
    patch,
    turn_on,
)


def error(response, status: int, code: str = "invalid_request") -> str:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    return response.json()["message"]


def treatments(client, key: str) -> list[dict]:
    return get(client, key, "treatments")["currentIteration"]["treatments"]


def test_full_lifecycle(ld_api):
    create(ld_api, "life")
    started = patch(ld_api, "life", {"kind": "startIteration"}, content_type=SEMANTIC)
    assert started.status_code == 200, started.text
    current = started.json()["currentIteration"]
    assert current["status"] == "running" and isinstance(current["startedAt"], int)
    winner = treatments(ld_api, "life")[1]["_id"]
    stopped = patch(
        ld_api, "life", {"kind": "stopIteration", "winningTreatmentId": winner, "winningReason": "Clear win"}
    )
    assert stopped.status_code == 200, stopped.text
    current = stopped.json()["currentIteration"]
    assert current["status"] == "stopped" and current["winningTreatmentId"] == winner
    assert current["winningReason"] == "Clear win" and current["endedAt"] >= current["startedAt"]
    archived = patch(ld_api, "life", {"kind": "archiveExperiment"})
    assert isinstance(archived.json()["archivedDate"], int)
    assert "life" not in [i["key"] for i in ld_api.get(BASE).json()["items"]]
    restored = patch(ld_api, "life", {"kind": "restoreExperiment"})
    assert "archivedDate" not in restored.json()


def test_stop_ships_the_winner_on_the_flag(ld):
    create(ld, "ship")
    patch(ld, "ship", {"kind": "startIteration"})
    before = get_flag(ld, "pricing-page-layout")
    winner = treatments(ld, "ship")[1]
    patch(ld, "ship", {"kind": "stopIteration", "winningTreatmentId": winner["_id"]})
    after = get_flag(ld, "pricing-page-layout")
    assert after["environments"]["production"]["fallthrough"] == {"variation": 1}
    assert after["environments"]["production"]["version"] == before["environments"]["production"]["version"] + 1
    assert after["_version"] == before["_version"] + 1


def test_update_name_and_description(ld):
    response = patch(
        ld,
        "onboarding-flow-test",
        {"kind": "updateName", "value": "Renamed"},
        {"kind": "updateDescription", "value": "New words"},
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed" and response.json()["description"] == "New words"
    assert get(ld, "onboarding-flow-test")["name"] == "Renamed"


def test_update_experiment_fields(ld):
    response = patch(
        ld,
        "onboarding-flow-test",
        {
            "kind": "updateExperimentFields",
            "value": {
                "name": {"operation": "update", "value": "Fields"},
                "tags": {"operation": "add", "value": ["a", "b"]},
                "hypothesis": {"operation": "update", "value": "New hypothesis"},
                "randomizationUnit": {"operation": "update", "value": "device"},
                "description": {"operation": "remove"},
            },
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Fields" and body["tags"] == ["seeded", "a", "b"]
    assert "description" not in body
    assert body["currentIteration"]["hypothesis"] == "New hypothesis"
    assert body["currentIteration"]["randomizationUnit"] == "device"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"randomizationUnit": {"operation": "update", "value": "device"}}, "cannot be changed while"),
        ({"name": {"operation": "remove"}}, "does not support 'remove'"),
        ({"name": {"operation": "update"}}, "needs a value"),
        ({"name": {"operation": "rename", "value": "x"}}, "operation"),
        ({"tags": {"operation": "add", "value": "solo"}}, "list of strings"),
        ({}, "updateExperimentFields needs value"),
    ],
)
def test_update_experiment_fields_rules(ld, value, fragment):
    message = error(patch(ld, "search-ranking-test", {"kind": "updateExperimentFields", "value": value}), 400)
    assert fragment in message


@pytest.mark.parametrize(
    ("instruction", "fragment"),
    [
        ({"kind": "updateName"}, "non-empty string"),
        ({"kind": "updateName", "value": ""}, "non-empty string"),
        ({"kind": "updateDescription", "value": 3}, "updateDescription"),
        ({"kind": "fooBar"}, "unknown kind 'fooBar'"),
        ({"kind": "deleteExperiment"}, "supported: updateName"),
    ],
)
def test_bad_instructions(ld, instruction, fragment):
    assert fragment in error(patch(ld, "onboarding-flow-test", instruction), 400)


def test_request_shape_errors(ld_api):
    url = f"{BASE}/onboarding-flow-test"
    message = error(ld_api.patch(url, json_body=[{"op": "replace", "path": "/name", "value": "x"}]), 400)
    assert "semantic patch" in message
    message = error(
        ld_api.patch(url, data=json.dumps([{"op": "replace", "path": "/name", "value": "x"}]), content_type=SEMANTIC),
        400,
    )
    assert "JSON Patch" in message
    assert "instructions" in error(ld_api.patch(url, json_body={"comment": "no instructions"}), 400)
    assert "may not be empty" in error(ld_api.patch(url, json_body={"instructions": []}), 400)
    error(ld_api.patch(url, json_body={"instructions": [{"value": "no kind"}]}), 400)
    error(ld_api.patch(url, json_body={"instructions": ["startIteration"]}), 400)
    error(ld_api.patch(url, data="{broken", content_type="application/json"), 400)
    assert ld_api.patch(url, data="x", content_type="text/plain").status_code == 400


def test_instructions_apply_all_or_nothing(ld):
    before = get(ld, "onboarding-flow-test", "treatments")
    response = patch(
        ld,
        "onboarding-flow-test",
        {"kind": "updateName", "value": "Should not stick"},
        {"kind": "startIteration"},
        {"kind": "fooBar"},
    )
    error(response, 400)
    assert get(ld, "onboarding-flow-test", "treatments") == before


def test_failed_stop_leaves_flag_and_experiment_alone(ld):
    before_flag = get_flag(ld, "search-ranking-v2")
    winner = treatments(ld, "search-ranking-test")[1]["_id"]
    response = patch(
        ld,
        "search-ranking-test",
        {"kind": "stopIteration", "winningTreatmentId": winner},
        {"kind": "updateName", "value": ""},
    )
    error(response, 400)
    assert get(ld, "search-ranking-test")["currentIteration"]["status"] == "running"
    assert get_flag(ld, "search-ranking-v2") == before_flag


# -- startIteration preconditions ------------------------------------------------------------


def test_start_needs_the_flag_on(ld):
    create(ld, "dark", flag_key="dark-mode-default")
    assert "is off in 'production'" in error(patch(ld, "dark", {"kind": "startIteration"}), 400)
    turn_on(ld, "dark-mode-default")
    assert patch(ld, "dark", {"kind": "startIteration"}).status_code == 200


def test_start_needs_the_flag_not_archived(ld):
    create_flag(ld, "banner-flag")  # a flag nothing else depends on (no prerequisite of another flag)
    create(ld, "banner", flag_key="banner-flag")
    turn_on(ld, "banner-flag")
    archived = ld.patch(
        "/api/v2/flags/default/banner-flag", json_body=[{"op": "replace", "path": "/archived", "value": True}]
    )
    assert archived.status_code == 200
    assert "archived" in error(patch(ld, "banner", {"kind": "startIteration"}), 400)


def test_start_needs_a_randomization_unit(ld):
    create(ld, "no-unit", unit="")
    assert "randomizationUnit" in error(patch(ld, "no-unit", {"kind": "startIteration"}), 400)
    fixed = patch(
        ld,
        "no-unit",
        {"kind": "updateExperimentFields", "value": {"randomizationUnit": {"operation": "update", "value": "user"}}},
        {"kind": "startIteration"},
    )
    assert fixed.status_code == 200
    assert fixed.json()["currentIteration"]["status"] == "running"


def test_start_needs_some_allocation(ld):
    create(ld, "no-traffic", allocations=("0", "0"))
    assert "allocationPercent" in error(patch(ld, "no-traffic", {"kind": "startIteration"}), 400)


def test_archived_experiment_cannot_start(ld):
    create(ld, "shelved")
    patch(ld, "shelved", {"kind": "archiveExperiment"})
    assert "restore" in error(patch(ld, "shelved", {"kind": "startIteration"}), 400)
    ok = patch(ld, "shelved", {"kind": "restoreExperiment"}, {"kind": "startIteration"})
    assert ok.status_code == 200 and ok.json()["currentIteration"]["status"] == "running"


def test_running_experiment_cannot_be_archived(ld):
    assert "Stop the running iteration" in error(patch(ld, "search-ranking-test", {"kind": "archiveExperiment"}), 400)


def test_start_without_a_draft(ld):
    assert "no draft iteration" in error(patch(ld, "search-ranking-test", {"kind": "startIteration"}), 400)


def test_flag_rule_in_another_running_experiment_is_409(ld):
    create(ld, "rival", flag_key="search-ranking-v2")
    message = error(patch(ld, "rival", {"kind": "startIteration"}), 409, "optimistic_locking_error")
    assert "search-ranking-test" in message
    # another rule of the same flag is free
    rule_id = get_flag(ld, "search-ranking-v2")["environments"]["production"]["rules"][0]["_id"]
    create(ld, "rival-rule", flag_key="search-ranking-v2", rule=rule_id)
    assert patch(ld, "rival-rule", {"kind": "startIteration"}).status_code == 200


def test_change_justification_needed_while_running(ld):
    url = f"{BASE}/search-ranking-test/iterations"
    body = iteration_input(ld, "search-ranking-v2", metrics=("search-result-clicked",))
    assert ld.post(url, json_body=body).status_code == 200
    assert "changeJustification" in error(patch(ld, "search-ranking-test", {"kind": "startIteration"}), 400)
    old = get(ld, "search-ranking-test")["currentIteration"]
    response = patch(ld, "search-ranking-test", {"kind": "startIteration", "changeJustification": "New metric"})
    assert response.status_code == 200, response.text
    full = get(ld, "search-ranking-test", "previousIterations,draftIteration")
    assert full["currentIteration"]["status"] == "running" and full["currentIteration"]["_id"] != old["_id"]
    previous = full["previousIterations"][0]
    assert previous["_id"] == old["_id"] and previous["status"] == "stopped" and isinstance(previous["endedAt"], int)
    assert "draftIteration" not in full


# -- stopIteration ---------------------------------------------------------------------------


def test_stop_rules(ld):
    assert "winningTreatmentId" in error(patch(ld, "search-ranking-test", {"kind": "stopIteration"}), 400)
    message = error(patch(ld, "search-ranking-test", {"kind": "stopIteration", "winningTreatmentId": "nope"}), 400)
    assert "not one of this iteration's treatments" in message
    assert "no running iteration" in error(
        patch(ld, "onboarding-flow-test", {"kind": "stopIteration", "winningTreatmentId": "x"}), 400
    )
    assert "no running iteration" in error(
        patch(ld, "pricing-layout-test", {"kind": "stopIteration", "winningTreatmentId": "x"}), 400
    )


def test_save_and_start_new_iteration(ld):
    old = get(ld, "search-ranking-test")["currentIteration"]
    response = patch(
        ld,
        "search-ranking-test",
        {
            "kind": "saveAndStartNewIteration",
            "changeJustification": "Tweak",
            "value": {"hypothesis": {"operation": "update", "value": "Sharper hypothesis"}},
        },
    )
    assert response.status_code == 200, response.text
    current = response.json()["currentIteration"]
    assert current["status"] == "running" and current["hypothesis"] == "Sharper hypothesis"
    assert current["_id"] != old["_id"] and current["version"] == old["version"] + 1
    previous = get(ld, "search-ranking-test", "previousIterations")["previousIterations"]
    assert previous[0]["_id"] == old["_id"] and previous[0]["status"] == "stopped"
    assert "needs a running iteration" in error(
        patch(ld, "onboarding-flow-test", {"kind": "saveAndStartNewIteration"}), 400
    )


def test_unknown_experiment_is_404(ld):
    error(patch(ld, "ghost", {"kind": "startIteration"}), 404, "not_found")
