"""Context kinds, and the randomization units that must name one (settings, iterations, holdouts)."""

from __future__ import annotations

from tests.launchdarkly.helpers import BASE, PROJECT, experiment_post, iteration_input, refused

K = f"/api/v2/projects/{PROJECT}/context-kinds"
SETTINGS = f"/api/v2/projects/{PROJECT}/experimentation-settings"


def test_list_and_upsert(ld_api):
    kinds = ld_api.get(K).json()
    assert {k["key"] for k in kinds["items"]} == {"user", "organization", "device", "account", "request"}
    assert kinds["_links"]["self"]["href"] == K
    user = next(k for k in kinds["items"] if k["key"] == "user")
    assert user["createdFrom"] == "default" and user["version"] == 1 and user["archived"] is False
    created = ld_api.put(f"{K}/team", json_body={"name": "Team", "description": "Squads"})
    assert created.status_code == 200 and created.json()["status"] == "created"
    assert created.json()["_links"]["self"]["href"] == f"{K}/team"
    updated = ld_api.put(f"{K}/team", json_body={"name": "Teams"})
    assert updated.json()["status"] == "updated"
    team = next(k for k in ld_api.get(K).json()["items"] if k["key"] == "team")
    assert team["name"] == "Teams" and team["description"] == "Squads" and team["version"] == 2
    assert ld_api.put(f"{K}/team", json_body={"name": "Teams", "version": 9}).status_code == 200
    assert next(k for k in ld_api.get(K).json()["items"] if k["key"] == "team")["version"] == 9


def test_upsert_refusals(ld):
    assert "kind or multi" in refused(ld.put(f"{K}/multi", json_body={"name": "x"}), 400)
    assert "kind or multi" in refused(ld.put(f"{K}/a b", json_body={"name": "x"}), 400)
    assert "name" in refused(ld.put(f"{K}/team", json_body={"name": " "}), 400)
    assert "alias" in refused(
        ld.put(f"{K}/team", json_body={"name": "x", "archived": True, "hideInTargeting": False}), 400
    )
    ld.put(f"{K}/team", json_body={"name": "Team", "version": 3})
    assert "greater than" in refused(ld.put(f"{K}/team", json_body={"name": "Team", "version": 3}), 400)
    refused(ld.put("/api/v2/projects/nope/context-kinds/team", json_body={"name": "x"}), 404)
    refused(ld.get("/api/v2/projects/nope/context-kinds"), 404)


def test_settings_and_iterations_need_a_live_context_kind(ld):
    assert "not a context kind" in refused(
        ld.put(SETTINGS, json_body={"randomizationUnits": [{"randomizationUnit": "team"}]}), 400
    )
    ld.put(f"{K}/team", json_body={"name": "Team"})
    units = [{"randomizationUnit": "user", "default": True}, {"randomizationUnit": "team"}]
    saved = ld.put(SETTINGS, json_body={"randomizationUnits": units})
    assert saved.status_code == 200, saved.text
    assert {u["randomizationUnit"]: u["_displayName"] for u in saved.json()["randomizationUnits"]}["team"] == "Team"
    post = experiment_post(ld, "by-team", unit="team")
    assert ld.post(BASE, json_body=post).status_code == 201
    # archiving a kind the settings use is refused; once out of the settings it may be archived
    assert "randomization unit" in refused(ld.put(f"{K}/team", json_body={"name": "Team", "archived": True}), 400)
    ld.put(SETTINGS, json_body={"randomizationUnits": units[:1]})
    assert ld.put(f"{K}/team", json_body={"name": "Team", "archived": True}).status_code == 200
    assert "not a context kind" in refused(
        ld.put(SETTINGS, json_body={"randomizationUnits": [{"randomizationUnit": "team"}]}), 400
    )
    again = ld.post(f"{BASE}/by-team/iterations", json_body=iteration_input(ld, unit="team"))
    assert "randomization units" in refused(again, 400)


def test_an_archived_kind_cannot_randomize_a_new_iteration(ld):
    ld.put(f"{K}/request", json_body={"name": "Request", "archived": True})
    ld.put(SETTINGS, json_body={"randomizationUnits": [{"randomizationUnit": "user", "default": True}]})
    assert "randomization units" in refused(ld.post(BASE, json_body=experiment_post(ld, "r", unit="request")), 400)
