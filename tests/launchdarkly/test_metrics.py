"""Metrics: the vendor's kinds and the fields each needs, listing, JSON Patch, and deletion rules."""

from __future__ import annotations

import pytest

from tests.launchdarkly.helpers import BASE, PROJECT, create, patch, runtime_of

M = f"/api/v2/metrics/{PROJECT}"
CUSTOM = {"key": "orders", "kind": "custom", "eventKey": "order-placed", "isNumeric": False}


def error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == {400: "invalid_request", 404: "not_found", 409: "optimistic_locking_error"}.get(
        status, body["code"]
    )
    return body["message"]


def test_create_each_kind_and_read_it_back(ld_api):
    kinds = [
        CUSTOM,
        {**CUSTOM, "key": "basket", "isNumeric": True, "successCriteria": "HigherThanBaseline", "unit": "EUR"},
        {"key": "landing", "kind": "pageview", "urls": [{"kind": "exact", "url": "https://example.com/"}]},
        {"key": "buy", "kind": "click", "selector": ".buy", "urls": [{"kind": "regex", "pattern": "^/shop/.*"}]},
        {
            "key": "latency",
            "kind": "trace",
            "isNumeric": True,
            "traceQuery": "service = api",
            "traceValueLocation": "duration",
            "successCriteria": "LowerThanBaseline",
        },
    ]
    for body in kinds:
        created = ld_api.post(M, json_body=body)
        assert created.status_code == 201, created.text
        metric = created.json()
        assert metric["key"] == body["key"] and metric["kind"] == body["kind"]
        assert metric["_version"] == 1 and metric["_links"]["self"]["href"] == f"{M}/{body['key']}"
        assert metric["analysisUnits"] == ["user"] and metric["dataSource"]["key"] == "launchdarkly"
        assert ld_api.get(f"{M}/{body['key']}").json() == metric
    numeric = ld_api.get(f"{M}/basket").json()
    assert numeric["isNumeric"] and numeric["unitAggregationType"] == "average" and numeric["analysisType"] == "mean"
    assert "eventKey" not in ld_api.get(f"{M}/landing").json()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"key": "a", "kind": "custom", "isNumeric": False}, "eventKey"),
        ({"key": "a", "kind": "custom", "eventKey": "e"}, "isNumeric"),
        ({"key": "a", "kind": "custom", "eventKey": "e", "isNumeric": True}, "successCriteria"),
        ({"key": "a", "kind": "pageview"}, "urls"),
        ({"key": "a", "kind": "click", "urls": [{"kind": "exact", "url": "u"}]}, "selector"),
        ({"key": "a", "kind": "pageview", "urls": [{"kind": "exact", "url": "u"}], "isNumeric": True}, "conversions"),
        ({"key": "a", "kind": "pageview", "urls": [{"kind": "regex", "pattern": "("}]}, "regular expression"),
        ({"key": "a", "kind": "pageview", "urls": [{"kind": "regex", "pattern": "a{4294967296}"}]}, "regular expr"),
        ({"key": "a", "kind": "pageview", "urls": [{"kind": "regex", "pattern": "(" * 1000 + ")" * 1000}]}, "regular"),
        ({"key": "a", "kind": "pageview", "urls": [{"kind": "substring"}]}, "substring"),
        ({"key": "a", "kind": "trace", "isNumeric": False}, "traceQuery"),
        ({**CUSTOM, "key": "a", "unitAggregationType": "count_distinct"}, "unitAggregationField"),
        ({**CUSTOM, "key": "a", "analysisType": "percentile"}, "percentileValue"),
        ({**CUSTOM, "key": "a", "analysisType": "median"}, "analysisType"),
        ({**CUSTOM, "key": "a", "analysisUnits": ["galaxy"]}, "galaxy"),
        ({**CUSTOM, "key": "a", "maintainerId": "nobody"}, "maintainerId"),
        ({**CUSTOM, "key": "a", "eventDefault": {"disabled": False, "value": 3}}, "eventDefault"),
        ({**CUSTOM, "key": "a", "winsorLowerPercentile": 10, "winsorUpperPercentile": 5}, "winsorUpper"),
        ({**CUSTOM, "key": "bad key"}, "Invalid metric key"),
    ],
)
def test_create_refusals_name_the_rule_and_store_nothing(ld, body, fragment):
    before = ld.get(f"{M}?limit=50").json()["totalCount"]
    assert fragment in error(ld.post(M, json_body=body), 400)
    assert ld.get(f"{M}?limit=50").json()["totalCount"] == before


def test_a_taken_metric_key_is_a_409_conflict_as_for_flags(ld):
    """postMetric lists 409 as LaunchDarkly's answer to a conflicting create; its code is the one a
    taken flag key gets (``conflict``, which LaunchDarkly's own CLI tests for)."""
    before = ld.get(f"{M}?limit=50").json()
    response = ld.post(M, json_body={**CUSTOM, "key": "checkout-completed"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    assert response.json()["message"] == "A metric with key 'checkout-completed' already exists in project 'default'"
    assert ld.get(f"{M}?limit=50").json() == before


def test_unknown_project_is_404(ld):
    error(ld.post("/api/v2/metrics/nope", json_body=CUSTOM), 404)
    error(ld.get("/api/v2/metrics/nope"), 404)
    error(ld.get(f"{M}/nope"), 404)


def test_listing_pages_filters_and_sorts(ld_api):
    page = ld_api.get(f"{M}?limit=2").json()
    assert len(page["items"]) == 2 and page["totalCount"] == 6
    assert {"self", "first", "last", "next"} <= set(page["_links"])
    assert ld_api.get(f"{M}?limit=2&offset=4").json()["_links"].get("next") is None
    custom = ld_api.get(f"{M}?filter=eventKind equals custom").json()["items"]
    assert {m["key"] for m in custom} == {"checkout-completed", "page-load-ms", "revenue-per-user"}
    numeric = ld_api.get(f"{M}?filter=isNumeric equals true and eventKind equals custom").json()["items"]
    assert {m["key"] for m in numeric} == {"page-load-ms", "revenue-per-user"}
    assert [m["key"] for m in ld_api.get(f"{M}?filter=query equals 'revenue'").json()["items"]] == ["revenue-per-user"]
    used = {m["key"] for m in ld_api.get(f"{M}?filter=metricUsedIn equals none").json()["items"]}
    assert used == {"pricing-page-viewed"}  # only in a group, measured by no experiment directly
    names = [m["name"] for m in ld_api.get(f"{M}?sort=name").json()["items"]]
    assert names == sorted(names, key=str.lower)
    counted = ld_api.get(f"{M}?expand=experimentCount").json()["items"]
    assert all("experimentCount" in m for m in counted)
    assert error(ld_api.get(f"{M}?filter=colour equals blue"), 400).startswith("Unsupported filter field")
    assert "sort" in error(ld_api.get(f"{M}?sort=size"), 400)
    error(ld_api.get(f"{M}?limit=51"), 400)


def test_expand_shows_who_uses_a_metric(ld):
    metric = ld.get(f"{M}/checkout-completed?expand=experiments,experimentCount,metricGroups,lastUsedInExperiment")
    body = metric.json()
    keys = {e["key"] for e in body["experiments"]}
    assert {"checkout-button-test", "recommendations-test-env"} <= keys
    assert body["experimentCount"] == len(body["experiments"]) and body["activeExperimentCount"] >= 1
    assert [g["key"] for g in body["metricGroups"]] == ["checkout-funnel"]
    assert body["lastUsedInExperiment"]["key"] in keys
    assert "experiments" not in ld.get(f"{M}/checkout-completed").json()
    assert ld.get(f"{M}/checkout-completed?expand=whatever").status_code == 200  # getMetric documents no 400


def test_version_id_reads_the_current_version_and_the_ones_patches_replaced(ld):
    url = f"{M}/page-load-ms"
    first = ld.get(url).json()
    assert ld.get(f"{url}?versionId={first['_versionId']}").json() == first
    assert "no version" in error(ld.get(f"{url}?versionId=old"), 404)
    renamed = ld.patch(url, json_body=[{"op": "replace", "path": "/name", "value": "Load time"}]).json()
    tagged = ld.patch(url, json_body=[{"op": "add", "path": "/tags/-", "value": "perf"}]).json()
    assert [first["_version"], renamed["_version"], tagged["_version"]] == [1, 2, 3]
    old = ld.get(f"{url}?versionId={first['_versionId']}").json()
    assert old["_version"] == 1 and old["_versionId"] == first["_versionId"] and old["name"] == first["name"]
    assert (
        old["tags"] == first["tags"] and old["key"] == first["key"] and old["_creationDate"] == first["_creationDate"]
    )
    middle = ld.get(f"{url}?versionId={renamed['_versionId']}").json()
    assert middle["name"] == "Load time" and middle["tags"] == first["tags"] and middle["_version"] == 2
    assert ld.get(url).json() == ld.get(f"{url}?versionId={tagged['_versionId']}").json() == tagged
    failed = ld.patch(url, json_body=[{"op": "replace", "path": "/kind", "value": "click"}])
    assert failed.status_code == 400 and ld.get(url).json() == tagged  # a refused patch makes no version


def test_json_patch_makes_a_new_version(ld_api):
    before = ld_api.get(f"{M}/page-load-ms").json()
    ops = [
        {"op": "test", "path": "/_version", "value": 1},
        {"op": "replace", "path": "/name", "value": "Load time"},
        {"op": "add", "path": "/tags/-", "value": "perf"},
    ]
    after = ld_api.patch(f"{M}/page-load-ms", json_body=ops)
    assert after.status_code == 200, after.text
    body = after.json()
    assert body["name"] == "Load time" and body["tags"] == ["perf"]
    assert body["_version"] == 2 and body["_versionId"] != before["_versionId"]
    assert ld_api.get(f"{M}/page-load-ms").json() == body


def test_patch_refusals(ld):
    url = f"{M}/page-load-ms"
    before = ld.get(url).json()
    assert "cannot be changed" in error(
        ld.patch(url, json_body=[{"op": "replace", "path": "/kind", "value": "click"}]), 400
    )
    assert "cannot be changed" in error(ld.patch(url, json_body=[{"op": "replace", "path": "/key", "value": "x"}]), 400)
    stale = [{"op": "test", "path": "/_version", "value": 7}, {"op": "replace", "path": "/name", "value": "x"}]
    assert "test" in error(ld.patch(url, json_body=stale), 409)
    removed = [{"op": "remove", "path": "/successCriteria"}]
    assert "successCriteria" in error(ld.patch(url, json_body=removed), 400)
    error(ld.patch(url, json_body=[]), 400)
    error(ld.patch(url, json_body=[{"op": "jump", "path": "/name"}]), 400)
    assert ld.get(url).json() == before


def test_a_metric_a_running_experiment_measures_cannot_be_deleted(ld_api):
    message = error(ld_api.delete(f"{M}/revenue-per-user"), 400)
    assert "running experiment" in message and "checkout-button-test" in message
    assert ld_api.get(f"{M}/revenue-per-user").status_code == 200
    both = error(ld_api.delete(f"{M}/checkout-completed"), 400)
    assert both == (
        "Metric 'checkout-completed' cannot be deleted while running experiment(s) checkout-button-test, "
        "recommendations-test-env (stop them with stopIteration) and running holdout(s) q4-holdout "
        "(end them with endHoldout) measure it"
    )


def test_a_metric_a_group_holds_cannot_be_deleted(ld):
    assert "metric group" in error(ld.delete(f"{M}/pricing-page-viewed"), 400)


def test_deleting_a_metric_only_stopped_experiments_used_keeps_their_history(ld):
    ld.post(M, json_body=CUSTOM)
    create(ld, "uses-orders", metrics=("orders",))
    assert ld.delete(f"{M}/orders").status_code == 204
    error(ld.get(f"{M}/orders"), 404)
    assert "orders" not in {m["key"] for m in ld.get(f"{M}?limit=50").json()["items"]}
    exp = ld.get(f"{BASE}/uses-orders").json()
    assert exp["currentIteration"]["primarySingleMetric"]["key"] == "orders"  # the experiment still shows it
    assert "Unknown metric" in error(ld.post(BASE, json_body=_post_with(ld, "orders")), 400)
    assert ld.post(M, json_body=CUSTOM).status_code == 201  # the key is free again


def _post_with(ld, metric: str) -> dict:
    from tests.launchdarkly.helpers import experiment_post

    return experiment_post(ld, "again", metrics=(metric,))


def test_a_metric_of_a_deleted_group_that_experiments_measured_keeps_their_reads_working(ld):
    """Deleting the group keeps it for the experiments that measured it; deleting one of its metrics
    afterwards must keep that metric for them too (it made every experiment read a 500)."""
    from tests.launchdarkly.helpers import BETA

    groups = f"/api/v2/projects/{PROJECT}/metric-groups"
    assert ld.delete(f"{groups}/checkout-funnel", headers=BETA).status_code == 204
    assert ld.delete(f"{M}/pricing-page-viewed").status_code == 204
    error(ld.get(f"{M}/pricing-page-viewed"), 404)
    assert ld.get(f"/api/v2/projects/{PROJECT}/environments/production/experiments").status_code == 200
    assert ld.get(f"/api/v2/projects/{PROJECT}/experiments").status_code == 200


def test_deleting_an_unused_metric_removes_it(ld):
    ld.post(M, json_body=CUSTOM)
    runtime = runtime_of(ld)
    assert ld.delete(f"{M}/orders").status_code == 204
    assert f"{PROJECT}/orders" not in runtime.store.data["launchdarkly"]["metrics"]
    error(ld.delete(f"{M}/orders"), 404)


def test_a_stopped_experiment_frees_the_metric(ld):
    ld.post(M, json_body=CUSTOM)
    exp = create(ld, "short", metrics=("orders",))
    assert patch(ld, "short", {"kind": "startIteration"}).status_code == 200
    assert "running" in error(ld.delete(f"{M}/orders"), 400)
    winner = exp["currentIteration"]["treatments"][0]["_id"]
    assert patch(ld, "short", {"kind": "stopIteration", "winningTreatmentId": winner}).status_code == 200
    assert ld.delete(f"{M}/orders").status_code == 204
    assert ld.get(f"{BASE}/short").json()["currentIteration"]["status"] == "stopped"


def test_what_the_representation_cannot_hold_is_refused(ld):
    odd_filter = {**CUSTOM, "filters": {"type": "astrology", "op": "in", "values": ["x"], "negate": False}}
    assert "not a valid metric" in error(ld.post(M, json_body=odd_filter), 400)
    assert ld.get(f"{M}/orders").status_code == 404
    ld.post(M, json_body=CUSTOM)
    odd_description = [{"op": "replace", "path": "/description", "value": 5}]
    assert "not a valid metric" in error(ld.patch(f"{M}/orders", json_body=odd_description), 400)
    assert ld.get(f"{M}/orders").json()["_version"] == 1


def test_the_uses_index_answers_what_each_scan_answers(ld):
    """State verification renders every metric and group from one index; a scan per metric must agree."""
    from mockserver.vendors.launchdarkly import metric_groups, metrics

    create(ld, "index-exp")  # one more experiment measuring a metric
    state = runtime_of(ld).store.snapshot()["launchdarkly"]
    index = metrics.uses_index(state, PROJECT)
    assert index, "the seeded world has experiments measuring metrics"
    for table, is_group in (("metrics", False), ("metric_groups", True)):
        for key, row in state[table].items():
            if not key.startswith(f"{PROJECT}/"):
                continue
            scanned = list(metrics.uses(state, PROJECT, row["key"], is_group))
            assert list(metrics.uses(state, PROJECT, row["key"], is_group, index)) == scanned
    for key, row in state["metrics"].items():
        if key.startswith(f"{PROJECT}/") and not row.get("_deleted"):
            expand = list(metrics.ONE_EXPANDS)
            assert metrics.rep(state, PROJECT, row, expand, index) == metrics.rep(state, PROJECT, row, expand)
    for key, row in state["metric_groups"].items():
        if key.startswith(f"{PROJECT}/") and not row.get("_deleted"):
            expand = list(metric_groups.EXPANDS)
            assert metric_groups.rep(state, PROJECT, row, expand, index) == metric_groups.rep(
                state, PROJECT, row, expand
            )
