"""Holdouts: creation, lookups, semantic patch, and what they do to the experiments that join them."""

from __future__ import annotations

import pytest

from tests.launchdarkly.helpers import BASE, ENV, PROJECT, experiment_post, iteration_input, patch, refused

H = f"/api/v2/projects/{PROJECT}/environments/{ENV}/holdouts"
HOLDOUT = {
    "key": "h1",
    "name": "Holdout one",
    "description": "Keeps a tenth of users out",
    "holdoutamount": "10",
    "randomizationunit": "user",
    "attributes": ["country"],
    "metrics": [{"key": "checkout-completed"}, {"key": "engagement", "isGroup": True}],
    "primarymetrickey": "checkout-completed",
}


def make(client, **changes) -> dict:
    response = client.post(H, json_body={**HOLDOUT, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def join(client, key: str, holdout_id: str, **kwargs) -> dict:
    post = {**experiment_post(client, key, **kwargs), "holdoutId": holdout_id}
    response = client.post(BASE, json_body=post)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_and_read_in_every_shape(ld_api):
    created = make(ld_api)
    assert created["status"] == "created" and created["holdoutAmount"] == "10" and created["experiments"] == []
    base = created["baseExperiment"]
    assert base["type"] == "holdout" and base["key"] == "h1"
    assert base["currentIteration"]["randomizationUnit"] == "user"
    assert [t["allocationPercent"] for t in base["currentIteration"]["treatments"]] == ["10", "90"]
    assert ld_api.get(f"{H}/id/{created['_id']}").json() == created
    detail = ld_api.get(f"{H}/h1").json()
    assert detail["isDirty"] is False and "relatedExperiments" not in detail
    listed = ld_api.get(H).json()
    assert [h["key"] for h in listed["items"]] == ["h1", "q4-holdout"] and listed["total_count"] == 2
    page = ld_api.get(f"{H}?limit=1&offset=1").json()
    assert [h["key"] for h in page["items"]] == ["q4-holdout"] and "prev" in page["_links"]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"key": None}, "key"),
        ({"name": ""}, "name"),
        ({"holdoutamount": None}, "holdoutamount"),
        ({"holdoutamount": "0"}, "more than 0"),
        ({"holdoutamount": "ten"}, "percentage"),
        ({"metrics": []}, "metrics"),
        ({"metrics": [{"key": "nope"}]}, "Unknown metric"),
        ({"primarymetrickey": "revenue-per-user"}, "primarymetrickey"),
        ({"randomizationunit": "galaxy"}, "context kind"),
        ({"prerequisiteflagkey": "nope"}, "unknown flag"),
        ({"prerequisiteflagkey": "holiday-banner"}, "archived"),
        ({"maintainerId": "nobody"}, "maintainerId"),
        ({"key": "q4-holdout"}, "already exists"),
    ],
)
def test_create_refusals(ld, changes, fragment):
    body = {k: v for k, v in {**HOLDOUT, **changes}.items() if v is not None}
    assert fragment in refused(ld.post(H, json_body=body), 400)
    assert ld.get(H).json()["total_count"] == 1


def test_unknown_holdouts_are_404(ld):
    refused(ld.get(f"{H}/nope"), 404)
    refused(ld.get(f"{H}/id/nope"), 404)
    refused(ld.patch(f"{H}/nope", json_body={"instructions": [{"kind": "endHoldout"}]}), 404)
    refused(ld.get(f"/api/v2/projects/{PROJECT}/environments/staging/holdouts"), 404)


def test_an_experiment_joins_and_starting_it_runs_the_holdout(ld_api):
    holdout = make(ld_api)
    exp = join(ld_api, "in-holdout", holdout["_id"])
    assert exp["holdoutId"] == holdout["_id"]
    joined = ld_api.get(f"{H}/id/{holdout['_id']}").json()
    assert joined["status"] == "enabled" and joined["experiments"] == [
        {"key": "in-holdout", "name": "In Holdout", "environment": ENV}
    ]
    assert patch(ld_api, "in-holdout", {"kind": "startIteration"}).status_code == 200
    detail = ld_api.get(f"{H}/h1?expand=rel-treatments,treatments").json()
    assert detail["status"] == "running" and detail["isDirty"] is True
    assert detail["baseExperiment"]["currentIteration"]["status"] == "running"
    assert detail["relatedExperiments"][0]["currentIteration"]["treatments"]


def test_joining_is_checked(ld):
    holdout = make(ld)
    bad = {**experiment_post(ld, "wrong-unit", unit="organization"), "holdoutId": holdout["_id"]}
    assert "randomizes by 'user'" in refused(ld.post(BASE, json_body=bad), 400)
    unknown = {**experiment_post(ld, "ghost"), "holdoutId": "000000000000000000000000"}
    assert "not a holdout" in refused(ld.post(BASE, json_body=unknown), 400)
    ld.patch(f"{H}/h1", json_body={"instructions": [{"kind": "endHoldout"}]})
    late = {**experiment_post(ld, "late"), "holdoutId": holdout["_id"]}
    assert "has ended" in refused(ld.post(BASE, json_body=late), 400)
    assert ld.get(f"{BASE}/wrong-unit").status_code == 404 and ld.get(f"{BASE}/late").status_code == 404
    assert ld.get(f"{H}/id/{holdout['_id']}").json()["experiments"] == []


def test_a_holdout_of_another_environment_is_unknown(ld):
    other = ld.post(
        f"/api/v2/projects/{PROJECT}/environments/test/holdouts", json_body={**HOLDOUT, "key": "elsewhere"}
    ).json()
    post = {**experiment_post(ld, "cross"), "holdoutId": other["_id"]}
    assert "not a holdout" in refused(ld.post(BASE, json_body=post), 400)


def test_new_iterations_keep_the_holdout_unit(ld):
    holdout = make(ld)
    join(ld, "steady", holdout["_id"])
    url = f"{BASE}/steady/iterations"
    assert "randomizes by 'user'" in refused(ld.post(url, json_body=iteration_input(ld, unit="organization")), 400)
    assert ld.post(url, json_body=iteration_input(ld)).status_code == 200


def test_semantic_patch_all_or_nothing(ld_api):
    holdout = make(ld_api)
    join(ld_api, "leaver", holdout["_id"])
    renamed = ld_api.patch(
        f"{H}/h1",
        json_body={
            "instructions": [
                {"kind": "updateName", "value": "Renamed"},
                {"kind": "updateDescription", "value": "New words"},
                {"kind": "removeExperiment", "value": "leaver"},
            ]
        },
    )
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert body["baseExperiment"]["name"] == "Renamed" and body["description"] == "New words"
    assert body["experiments"] == [] and body["status"] == "created"
    assert "holdoutId" not in ld_api.get(f"{BASE}/leaver").json()
    failing = {"instructions": [{"kind": "updateName", "value": "Not kept"}, {"kind": "fly"}]}
    assert "unknown kind" in refused(ld_api.patch(f"{H}/h1", json_body=failing), 400)
    assert ld_api.get(f"{H}/h1").json()["baseExperiment"]["name"] == "Renamed"
    refused(ld_api.patch(f"{H}/h1", json_body={"instructions": []}), 400)
    refused(ld_api.patch(f"{H}/h1", json_body=[{"op": "replace", "path": "/name", "value": "x"}]), 400)


def test_a_running_experiment_cannot_leave_and_the_holdout_ends_once(ld):
    assert "is running" in refused(
        ld.patch(
            f"{H}/q4-holdout",
            json_body={"instructions": [{"kind": "removeExperiment", "value": "search-ranking-test"}]},
        ),
        400,
    )
    assert "removeExperiment needs value" in refused(
        ld.patch(f"{H}/q4-holdout", json_body={"instructions": [{"kind": "removeExperiment", "value": "nope"}]}), 400
    )
    ended = ld.patch(f"{H}/q4-holdout", json_body={"instructions": [{"kind": "endHoldout"}]})
    assert ended.json()["status"] == "ended"
    assert ended.json()["baseExperiment"]["currentIteration"]["status"] == "stopped"
    assert "already ended" in refused(
        ld.patch(f"{H}/q4-holdout", json_body={"instructions": [{"kind": "endHoldout"}]}), 400
    )


def test_a_holdout_takes_its_share_of_the_experiments_traffic(ld):
    from datetime import timedelta

    from tests.launchdarkly.helpers import runtime_of

    plain = ld.post(BASE, json_body=experiment_post(ld, "plain", flag_key="new-onboarding-flow"))
    assert plain.status_code == 201
    held = make(ld, holdoutamount="90")
    join(ld, "held", held["_id"], flag_key="recommendations-widget", allocations=("50", "50"))
    for key in ("plain", "held"):
        assert patch(ld, key, {"kind": "startIteration"}).status_code == 200
    runtime_of(ld).clock.advance(timedelta(days=3))
    units = {}
    for key in ("plain", "held"):
        rows = ld.get(f"{BASE}/{key}/metrics/checkout-completed/results").json()["treatmentResults"]
        units[key] = sum(r["units"] for r in rows)
    assert 0 < units["held"] < units["plain"]
