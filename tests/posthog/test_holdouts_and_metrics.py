"""Holdouts and shared metrics: CRUD, their rules, and how experiments follow them."""

from __future__ import annotations

from tests.posthog.helpers import HOLDOUT_FILTERS as FILTERS
from tests.posthog.helpers import P, assert_error, create, mean, posthog_state

QUERY = mean("signed_up")


def test_holdout_crud_and_flag_propagation(api):
    created = api.post(f"{P}/experiment_holdouts/", json_body={"name": "New holdout", "filters": FILTERS})
    assert created.status_code == 201
    holdout = created.json()
    assert holdout["filters"][0]["variant"] == f"holdout-{holdout['id']}"
    exp = create(api, holdout_id=holdout["id"])
    assert exp["holdout"]["id"] == holdout["id"]
    assert exp["feature_flag"]["filters"]["holdout"] == {"id": holdout["id"], "exclusion_percentage": 10}
    patched = api.patch(
        f"{P}/experiment_holdouts/{holdout['id']}/",
        json_body={"filters": [{"properties": [], "rollout_percentage": 20}]},
    )
    assert patched.status_code == 200 and patched.json()["filters"][0]["variant"] == f"holdout-{holdout['id']}"
    flag = api.get(f"{P}/experiments/{exp['id']}/").json()["feature_flag"]
    assert flag["filters"]["holdout"]["exclusion_percentage"] == 20
    put = api.put(f"{P}/experiment_holdouts/{holdout['id']}/", json_body={"name": "Renamed", "filters": FILTERS})
    assert put.status_code == 200 and put.json()["name"] == "Renamed"
    listed = api.get(f"{P}/experiment_holdouts/").json()
    assert listed["results"][0]["id"] == holdout["id"]  # newest first
    assert api.delete(f"{P}/experiment_holdouts/{holdout['id']}/").status_code == 204
    assert_error(api.get(f"{P}/experiment_holdouts/{holdout['id']}/"), 404, "Not found.")
    after = api.get(f"{P}/experiments/{exp['id']}/").json()
    assert after["holdout"] is None and after["feature_flag"]["filters"]["holdout"] is None


def test_holdout_rules(api):
    count = api.get(f"{P}/experiment_holdouts/").json()["count"]
    assert_error(
        api.post(f"{P}/experiment_holdouts/", json_body={"name": "h"}),
        400,
        "Filters are required to create an holdout group",
    )
    assert_error(
        api.post(f"{P}/experiment_holdouts/", json_body={"name": "h", "filters": []}),
        400,
        "Filters are required to create an holdout group",
        attr=None,
    )
    assert_error(
        api.post(f"{P}/experiment_holdouts/", json_body={"name": "h", "filters": [{"properties": []}]}),
        400,
        "Rollout percentage must be present.",
        attr="filters",
    )
    assert_error(
        api.post(f"{P}/experiment_holdouts/", json_body={"name": "h", "filters": [{"rollout_percentage": 120}]}),
        400,
        "Rollout percentage must be between 0 and 100.",
    )
    for odd in ({"a": 1}, "50", [50]):  # a TypeError in PostHog (a 500); a 400 here, never a 500
        body = {"name": "h", "filters": [{"rollout_percentage": odd}]}
        assert api.post(f"{P}/experiment_holdouts/", json_body=body).status_code == 400
        assert api.patch(f"{P}/experiment_holdouts/1/", json_body={"filters": body["filters"]}).status_code == 400
    assert_error(
        api.post(f"{P}/experiment_holdouts/", json_body={"filters": [{"rollout_percentage": 120}]}),
        400,
        "This field is required.",
        attr="name",  # name is read before filters
    )
    assert api.get(f"{P}/experiment_holdouts/").json()["count"] == count
    holdout = api.post(f"{P}/experiment_holdouts/", json_body={"name": "h", "filters": FILTERS}).json()
    emptied = api.patch(f"{P}/experiment_holdouts/{holdout['id']}/", json_body={"filters": []})
    assert emptied.status_code == 200 and emptied.json()["filters"] == []  # an update may empty them


def test_saved_metric_crud_and_uuid(api):
    created = api.post(
        f"{P}/experiment_saved_metrics/", json_body={"name": "Signups", "query": dict(QUERY, uuid="mine")}
    )
    assert created.status_code == 201
    metric = created.json()
    assert metric["query"]["uuid"] != "mine" and len(metric["query"]["uuid"]) == 36
    same_name = api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "SIGNUPS", "query": QUERY})
    assert same_name.status_code == 400  # unique per project, ignoring case (PostHog's validate_name)
    before = posthog_state(api)
    assert_error(
        api.post(
            f"{P}/experiment_saved_metrics/",
            json_body={"name": "n", "query": {"kind": "TrendsQuery", "metric_type": "mean"}},
        ),
        400,
        "Invalid metric: metric kind must be 'ExperimentMetric'",
        attr=None,
    )
    assert posthog_state(api) == before
    names = [m["name"].lower() for m in api.get(f"{P}/experiment_saved_metrics/").json()["results"]]
    assert names == sorted(names)
    patched = api.patch(f"{P}/experiment_saved_metrics/{metric['id']}/", json_body={"description": "d", "query": QUERY})
    assert patched.status_code == 200 and patched.json()["query"]["uuid"] == metric["query"]["uuid"]
    assert_error(
        api.patch(f"{P}/experiment_saved_metrics/{metric['id']}/", json_body={"query": dict(QUERY, uuid="x")}),
        400,
        "Saved metric UUID cannot be changed",
    )
    put = api.put(f"{P}/experiment_saved_metrics/{metric['id']}/", json_body={"name": "Signups v2", "query": QUERY})
    assert put.status_code == 200 and put.json()["name"] == "Signups v2"
    exp = create(api, saved_metrics_ids=[{"id": metric["id"], "metadata": {"type": "secondary"}}])
    assert exp["saved_metrics"][0]["saved_metric"] == metric["id"]
    assert exp["secondary_metrics_ordered_uuids"] == [metric["query"]["uuid"]]
    assert api.delete(f"{P}/experiment_saved_metrics/{metric['id']}/").status_code == 204
    after = api.get(f"{P}/experiments/{exp['id']}/").json()
    # the link goes; the order keeps the uuid, as PostHog's cascade does not touch the experiment
    assert after["saved_metrics"] == [] and after["secondary_metrics_ordered_uuids"] == [metric["query"]["uuid"]]


def test_seeded_library_is_linked(api):
    holdouts = api.get(f"{P}/experiment_holdouts/").json()
    metrics = api.get(f"{P}/experiment_saved_metrics/").json()
    assert holdouts["count"] >= 2 and metrics["count"] >= 3
    experiments = api.get(f"{P}/experiments/?limit=100").json()["results"]
    assert any(e["holdout"] for e in experiments)
    linked = set()
    for exp in experiments:
        detail = api.get(f"{P}/experiments/{exp['id']}/").json()
        linked |= {link["saved_metric"] for link in detail["saved_metrics"]}
    assert len(linked) >= 3
