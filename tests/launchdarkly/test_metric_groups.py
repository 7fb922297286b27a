"""Metric groups (beta): standard groups and funnels, with LaunchDarkly's rules for each."""

from __future__ import annotations

import pytest

from tests.launchdarkly.helpers import BETA, PROJECT, create, member_id, patch, refused

G = f"/api/v2/projects/{PROJECT}/metric-groups"


def group(client, **changes) -> dict:
    body = {
        "key": "signup-funnel",
        "name": "Signup funnel",
        "kind": "funnel",
        "maintainerId": member_id(client),
        "tags": ["growth"],
        "description": "From pricing to sign-up",
        "metrics": [
            {"key": "pricing-page-viewed", "nameInGroup": "Saw pricing"},
            {"key": "signup-clicked", "nameInGroup": "Clicked sign-up"},
            {"key": "checkout-completed", "nameInGroup": "Paid"},
        ],
    }
    body.update(changes)
    return body


def test_beta_header_is_required(ld_api):
    for response in (ld_api.get(G), ld_api.get(f"{G}/engagement"), ld_api.post(G, json_body=group(ld_api))):
        assert "LD-API-Version: beta" in refused(response, 403)
    assert ld_api.get(G, headers=BETA).status_code == 200


def test_create_a_funnel_and_read_it(ld_api):
    created = ld_api.post(G, json_body=group(ld_api), headers=BETA)
    assert created.status_code == 201, created.text
    body = created.json()
    assert [m["nameInGroup"] for m in body["metrics"]] == ["Saw pricing", "Clicked sign-up", "Paid"]
    assert body["maintainer"]["kind"] == "member" and body["maintainer"]["_member"]["role"] == "owner"
    assert body["_version"] == 1 and body["tags"] == ["growth"]
    assert ld_api.get(f"{G}/signup-funnel", headers=BETA).json() == body
    listed = ld_api.get(f"{G}?filter=kind equals funnel", headers=BETA).json()
    assert {g["key"] for g in listed["items"]} == {"checkout-funnel", "signup-funnel"}


def test_key_defaults_from_the_name(ld):
    body = group(ld, kind="standard")
    body.pop("key")
    assert ld.post(G, json_body=body, headers=BETA).json()["key"] == "signup-funnel"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"metrics": [{"key": "signup-clicked", "nameInGroup": "Only"}]}, "two or more"),
        (
            {"metrics": [{"key": "page-load-ms", "nameInGroup": "a"}, {"key": "signup-clicked", "nameInGroup": "b"}]},
            "numeric",
        ),
        (
            {"metrics": [{"key": "nope", "nameInGroup": "a"}, {"key": "signup-clicked", "nameInGroup": "b"}]},
            "unknown metric",
        ),
        (
            {"metrics": [{"key": "signup-clicked", "nameInGroup": "a"}, {"key": "signup-clicked", "nameInGroup": "b"}]},
            "twice",
        ),
        (
            {
                "metrics": [
                    {"key": "signup-clicked", "nameInGroup": ""},
                    {"key": "pricing-page-viewed", "nameInGroup": "b"},
                ]
            },
            "nameInGroup",
        ),
        ({"maintainerId": "nobody"}, "maintainerId"),
        ({"name": " "}, "name"),
        ({"key": "checkout-funnel"}, "already exists"),
    ],
)
def test_create_refusals(ld, changes, fragment):
    before = ld.get(G, headers=BETA).json()["totalCount"]
    assert fragment in refused(ld.post(G, json_body=group(ld, **changes), headers=BETA), 400)
    assert ld.get(G, headers=BETA).json()["totalCount"] == before


def test_a_standard_group_may_hold_numeric_metrics(ld):
    body = group(
        ld,
        kind="standard",
        metrics=[{"key": "page-load-ms", "nameInGroup": "a"}, {"key": "revenue-per-user", "nameInGroup": "b"}],
    )
    assert ld.post(G, json_body=body, headers=BETA).status_code == 201


def test_listing_filters_and_sorts(ld_api):
    running = ld_api.get(f"{G}?filter=experimentStatus equals running", headers=BETA).json()["items"]
    assert [g["key"] for g in running] == ["engagement"]  # search-ranking-test measures it
    names = [g["name"] for g in ld_api.get(f"{G}?sort=-name", headers=BETA).json()["items"]]
    assert names == sorted(names, reverse=True)
    assert "sort" in refused(ld_api.get(f"{G}?sort=size", headers=BETA), 400)
    assert refused(ld_api.get(f"{G}?filter=colour equals blue", headers=BETA), 400).startswith("Unsupported")


def test_expand_shows_the_experiments(ld):
    body = ld.get(f"{G}/engagement?expand=experiments,experimentCount", headers=BETA).json()
    assert [e["key"] for e in body["experiments"]] == ["search-ranking-test"]
    assert body["experimentCount"] == 1 and body["activeExperimentCount"] == 1
    refused(ld.get(f"{G}/engagement?expand=everything", headers=BETA), 400)


def test_patch(ld_api):
    ld_api.post(G, json_body=group(ld_api, kind="standard"), headers=BETA)
    ops = [{"op": "replace", "path": "/name", "value": "Renamed"}, {"op": "remove", "path": "/metrics/2"}]
    after = ld_api.patch(f"{G}/signup-funnel", json_body=ops, headers=BETA)
    assert after.status_code == 200, after.text
    assert after.json()["name"] == "Renamed" and len(after.json()["metrics"]) == 2
    assert after.json()["_version"] == 2
    too_few = [{"op": "remove", "path": "/metrics/1"}]
    assert "two or more" in refused(ld_api.patch(f"{G}/signup-funnel", json_body=too_few, headers=BETA), 400)
    kind = [{"op": "replace", "path": "/kind", "value": "funnel"}]
    assert "cannot be changed" in refused(ld_api.patch(f"{G}/signup-funnel", json_body=kind, headers=BETA), 400)
    stale = [{"op": "test", "path": "/_version", "value": 1}]
    refused(ld_api.patch(f"{G}/signup-funnel", json_body=stale, headers=BETA), 400)  # no 409 documented here
    assert ld_api.get(f"{G}/signup-funnel", headers=BETA).json() == after.json()


def test_metrics_of_a_group_in_a_running_experiment_stay(ld):
    ops = [{"op": "remove", "path": "/metrics/0"}]
    assert "running" in refused(ld.patch(f"{G}/engagement", json_body=ops, headers=BETA), 400)
    rename = [{"op": "replace", "path": "/name", "value": "Still fine"}]
    assert ld.patch(f"{G}/engagement", json_body=rename, headers=BETA).status_code == 200


def test_delete(ld):
    assert "running" in refused(ld.delete(f"{G}/engagement", headers=BETA), 400)
    ld.post(G, json_body=group(ld), headers=BETA)
    assert ld.delete(f"{G}/signup-funnel", headers=BETA).status_code == 204
    refused(ld.get(f"{G}/signup-funnel", headers=BETA), 404)
    refused(ld.delete(f"{G}/signup-funnel", headers=BETA), 404)


def test_a_deleted_group_stays_in_the_experiments_that_used_it(ld):
    ld.post(G, json_body=group(ld), headers=BETA)
    exp = create(ld, "funnel-exp", metrics=("checkout-completed",))
    measured = ld.post(
        f"/api/v2/projects/{PROJECT}/environments/production/experiments/funnel-exp/iterations",
        json_body={
            **_iteration_of(exp),
            "metrics": [{"key": "signup-funnel", "isGroup": True}],
            "primaryFunnelKey": "signup-funnel",
        },
    )
    assert measured.status_code == 200, measured.text
    assert ld.delete(f"{G}/signup-funnel", headers=BETA).status_code == 204
    draft = ld.get(f"/api/v2/projects/{PROJECT}/environments/production/experiments/funnel-exp?expand=draftIteration")
    assert draft.json()["draftIteration"]["primaryFunnel"]["key"] == "signup-funnel"
    assert patch(ld, "funnel-exp", {"kind": "updateName", "value": "ok"}).status_code == 200


def _iteration_of(exp: dict) -> dict:
    it = exp["currentIteration"]
    flag_key = next(iter(it["flags"]))
    return {
        "hypothesis": "Funnel",
        "treatments": [
            {
                "name": t["name"],
                "baseline": t["baseline"],
                "allocationPercent": t["allocationPercent"],
                "parameters": t["parameters"],
            }
            for t in it["treatments"]
        ],
        "flags": {flag_key: {"ruleId": "fallthrough", "flagConfigVersion": it["flags"][flag_key]["flagConfigVersion"]}},
        "randomizationUnit": "user",
    }
