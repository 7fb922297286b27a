"""Listing, creating and reading experiments."""

from __future__ import annotations

import pytest

from tests.launchdarkly.helpers import BASE, PROJECT, create, experiment_post, get, iteration_input, patch


def keys(body) -> list[str]:
    return [item["key"] for item in body["items"]]


def test_list_defaults_to_active_experiments_of_the_environment(ld_api):
    response = ld_api.get(BASE)
    assert response.status_code == 200
    body = response.json()
    assert set(keys(body)) == {
        "checkout-button-test",
        "onboarding-flow-test",
        "pricing-layout-test",
        "search-ranking-test",
    }
    assert body["total_count"] == 4
    assert body["_links"]["self"]["href"].startswith(BASE)
    assert "next" not in body["_links"]
    for item in body["items"]:
        assert item["environmentKey"] == "production"
        assert "treatments" not in item["currentIteration"]
        assert "previousIterations" not in item and "draftIteration" not in item


def test_lifecycle_state_archived_and_both(ld):
    archived = ld.get(BASE, params={"lifecycleState": "archived"}).json()
    assert keys(archived) == ["recommendations-test"]
    assert isinstance(archived["items"][0]["archivedDate"], int)
    both = ld.get(BASE, params={"lifecycleState": "active,archived"}).json()
    assert both["total_count"] == 5


def test_any_environment_list_spans_environments(ld):
    body = ld.get(f"/api/v2/projects/{PROJECT}/experiments").json()
    assert {i["environmentKey"] for i in body["items"]} == {"production", "test"}
    assert "recommendations-test-env" in keys(body)
    other = ld.get("/api/v2/projects/mobile-app/experiments").json()
    assert keys(other) == ["push-primer-test"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("status:running", {"checkout-button-test", "search-ranking-test"}),
        ("status:not_started", {"onboarding-flow-test"}),
        ("status:stopped", {"pricing-layout-test"}),
        ("flagKey:search-ranking-v2", {"search-ranking-test"}),
        ("metricKey:revenue-per-user", {"checkout-button-test"}),
        ("metricKey:checkout-funnel", {"pricing-layout-test"}),
        ("flagKey:checkout-button-color,status:running,metricKey:checkout-completed", {"checkout-button-test"}),
        ("flagKey:checkout-button-color,status:stopped", set()),
    ],
)
def test_filters_are_anded_against_the_current_iteration(ld, flt, expected):
    body = ld.get(BASE, params={"filter": flt}).json()
    assert set(keys(body)) == expected
    assert body["total_count"] == len(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "owner:me"},
        {"filter": "status:paused"},
        {"filter": "status"},
        {"filter": "status:"},
        {"expand": "everything"},
        {"expand": "mutableFieldsByStatus"},
        {"lifecycleState": "deleted"},
        {"limit": "0"},
        {"limit": "abc"},
        {"offset": "-1"},
    ],
)
def test_bad_list_parameters_are_400(ld, params):
    response = ld.get(BASE, params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert response.json()["message"]


def test_pagination_links(ld_api):
    first = ld_api.get(BASE, params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["total_count"] == 4
    links = first["_links"]
    assert set(links) == {"self", "first", "last", "next"}
    assert "offset=3" in links["next"]["href"] and "limit=3" in links["next"]["href"]
    assert "offset=3" in links["last"]["href"]
    second = ld_api.get(BASE, params={"limit": 3, "offset": 3}).json()
    assert len(second["items"]) == 1
    assert set(second["_links"]) == {"self", "first", "last", "prev"}
    assert "offset=0" in second["_links"]["prev"]["href"]
    assert not set(keys(first)) & set(keys(second))


def test_pagination_keeps_other_query_arguments(ld):
    body = ld.get(BASE, params={"limit": 1, "filter": "status:running"}).json()
    assert body["total_count"] == 2
    assert "filter=status%3Arunning" in body["_links"]["next"]["href"]


def test_unknown_project_or_environment_is_404(ld_api):
    for url in (
        "/api/v2/projects/nope/environments/production/experiments",
        "/api/v2/projects/default/environments/staging/experiments",
        "/api/v2/projects/nope/experiments",
        f"{BASE}/no-such-experiment",
    ):
        response = ld_api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"


def test_create_answers_201_with_a_not_started_iteration(ld_api):
    body = create(ld_api, "button-copy")
    assert body["key"] == "button-copy"
    assert body["environmentKey"] == "production"
    assert isinstance(body["_creationDate"], int) and body["_maintainerId"]
    assert body["_links"]["self"]["href"] == f"{BASE}/button-copy"
    current = body["currentIteration"]
    assert current["status"] == "not_started"
    assert isinstance(current["createdAt"], int)
    assert "startedAt" not in current and "endedAt" not in current
    assert all(isinstance(t["allocationPercent"], str) for t in current["treatments"])
    assert current["flags"]["pricing-page-layout"]["targetingRule"] == "fallthrough"
    assert current["primarySingleMetric"]["key"] == "checkout-completed"
    assert body["draftIteration"]["_id"] == current["_id"]
    listed = ld_api.get(BASE, params={"filter": "status:not_started"}).json()
    assert "button-copy" in keys(listed)


def test_get_with_each_expand(ld):
    plain = get(ld, "checkout-button-test")
    assert "previousIterations" not in plain and "treatments" not in plain["currentIteration"]
    assert "secondaryMetrics" not in plain["currentIteration"]
    full = get(
        ld,
        "checkout-button-test",
        "previousIterations,draftIteration,secondaryMetrics,treatments,analysisConfig,mutableFieldsByStatus",
    )
    assert [i["status"] for i in full["previousIterations"]] == ["stopped"]
    assert full["previousIterations"][0]["winningTreatmentId"]
    assert "draftIteration" not in full  # nothing drafted: empty expansions stay absent
    assert "analysisConfig" not in full
    assert [m["key"] for m in full["currentIteration"]["secondaryMetrics"]] == ["revenue-per-user"]
    assert len(full["currentIteration"]["treatments"]) == 3
    assert full["mutableFieldsByStatus"]["running"]["name"] == ["update"]


def test_analysis_config_is_shown_when_expanded(ld):
    post = experiment_post(ld, "with-config")
    post["analysisConfig"] = {"bayesianThreshold": "95", "multipleComparisonCorrectionMethod": "bonferroni"}
    post["methodology"] = "frequentist"
    assert ld.post(BASE, json_body=post).status_code == 201
    body = get(ld, "with-config", "analysisConfig")
    assert body["analysisConfig"]["bayesianThreshold"] == "95"
    assert body["methodology"] == "frequentist"


def test_metric_group_primary_is_reported_as_funnel(ld):
    body = get(ld, "pricing-layout-test", "secondaryMetrics")
    current = body["currentIteration"]
    assert current["primaryMetric"]["isGroup"] is True
    assert current["primaryFunnel"]["kind"] == "funnel"
    assert [m["key"] for m in current["primaryFunnel"]["metrics"]] == ["pricing-page-viewed", "checkout-completed"]
    assert current["flags"]["pricing-page-layout"]["targetingRuleDescription"] == "Beta testers"


def _post(ld, mutate, key="bad-exp"):
    post = experiment_post(ld, key)
    mutate(post)
    return ld.post(BASE, json_body=post)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda p: p.update(key="has space"), "key"),
        (lambda p: p.update(name="  "), "name"),
        (lambda p: p["iteration"].update(metrics=[]), "at least one metric"),
        (lambda p: p["iteration"].update(metrics=[{"key": "nope"}]), "Unknown metric"),
        (lambda p: p["iteration"].update(metrics=[{"key": "nope", "isGroup": True}]), "Unknown metric group"),
        (lambda p: p["iteration"].update(primarySingleMetricKey="page-load-ms"), "must also be listed"),
        (lambda p: p["iteration"].update(flags={}), "iteration.flags"),
        (
            lambda p: p["iteration"].update(flags={"ghost": {"ruleId": "fallthrough", "flagConfigVersion": 1}}),
            "Unknown flag",
        ),
        (lambda p: p["iteration"]["flags"]["pricing-page-layout"].update(ruleId="rule-x"), "no targeting rule"),
        (lambda p: p["iteration"]["treatments"][0].update(allocationPercent="fifty"), "allocationPercent"),
        (lambda p: p["iteration"]["treatments"][0].update(allocationPercent="150"), "between 0 and 100"),
        (lambda p: p["iteration"]["treatments"][0].update(allocationPercent="60"), "may not exceed 100"),
        (lambda p: p["iteration"]["treatments"][1].update(baseline=True), "Exactly one treatment"),
        (lambda p: p["iteration"]["treatments"].pop(), "at least two treatments"),
        (lambda p: p["iteration"]["treatments"][1]["parameters"][0].update(variationId="v-x"), "not a variation"),
        (
            lambda p: p["iteration"]["treatments"][1]["parameters"][0].update(flagKey="search-ranking-v2"),
            "not in iteration.flags",
        ),
        (lambda p: p["iteration"].update(randomizationUnit="planet"), "randomizationUnit"),
        (lambda p: p.update(type="mab", methodology="frequentist"), "bayesian"),
    ],
)
def test_create_rules_answer_400_with_a_message(ld, mutate, fragment):
    response = _post(ld, mutate)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"
    assert fragment in response.json()["message"]
    assert ld.get(f"{BASE}/bad-exp").status_code == 404


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda p: p.pop("iteration"), "iteration"),
        (lambda p: p.update(name=5), "name"),
        (lambda p: p["iteration"]["treatments"][0].update(allocationPercent=50), "allocationPercent"),
        (lambda p: p["iteration"]["flags"]["pricing-page-layout"].update(flagConfigVersion="1"), "flagConfigVersion"),
        (lambda p: p.update(methodology="magic"), "methodology"),
        (lambda p: p.update(dataSource="databricks"), "dataSource"),
    ],
)
def test_wrong_types_are_400(ld, mutate, fragment):
    response = _post(ld, mutate)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert fragment in response.json()["message"]


def test_duplicate_key_is_400(ld):
    create(ld, "twice")
    response = ld.post(BASE, json_body=experiment_post(ld, "twice"))
    assert response.status_code == 400
    assert "already exists" in response.json()["message"]


def test_malformed_json_and_wrong_media_type(ld_api):
    response = ld_api.post(BASE, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    response = ld_api.post(BASE, data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400  # LaunchDarkly documents no 415: a body it cannot read is invalid_request
    assert response.json()["code"] == "invalid_request" and "application/json" in response.json()["message"]
    response = ld_api.post(BASE, data="", content_type="application/json")
    assert response.status_code == 400


def test_same_key_in_another_environment_is_a_different_experiment(ld):
    create(ld, "shared-key")
    other = create(ld, "shared-key", env="test")
    assert other["environmentKey"] == "test"
    assert get(ld, "shared-key", env="test")["_id"] != get(ld, "shared-key")["_id"]


def test_iteration_input_defaults_unit_from_settings(ld):
    body = iteration_input(ld, unit=None)
    response = ld.post(BASE, json_body={"name": "Defaults", "key": "defaults", "iteration": body})
    assert response.status_code == 201
    assert response.json()["currentIteration"]["randomizationUnit"] == "user"
    assert response.json()["currentIteration"]["canReshuffleTraffic"] is True


def test_unmatched_route_and_method_use_the_envelope(ld):
    response = ld.get("/api/v2/projects/default/nothing-here", check_spec=False)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = ld.delete(f"{BASE}/checkout-button-test", check_spec=False)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_filters_and_together_even_when_repeated(ld):
    running = ld.get(f"{BASE}?filter=status:running").json()["items"]
    assert running
    assert ld.get(f"{BASE}?filter=status:running,status:stopped").json()["items"] == []
    flag_key = next(iter(running[0]["currentIteration"]["flags"]))
    both = ld.get(f"{BASE}?filter=status:running&filter=flagKey:{flag_key}").json()["items"]
    assert both and all(flag_key in e["currentIteration"]["flags"] for e in both)
    assert ld.get(f"{BASE}?filter=status:running&filter=flagKey:zzz").json()["items"] == []
    assert ld.get(f"{BASE}?filter=status: running").json()["items"] == running


def test_a_remembered_list_page_follows_every_write_and_each_expand(ld):
    """Pages render once until the next write; an expand or another page is another page."""
    first = ld.get(BASE, params={"limit": 2}).json()
    assert ld.get(BASE, params={"limit": 2}).json() == first
    key = first["items"][0]["key"]
    assert patch(ld, key, {"kind": "updateName", "value": "Renamed for the page"}).status_code == 200
    again = ld.get(BASE, params={"limit": 2}).json()
    assert again["items"][0]["name"] == "Renamed for the page"
    expanded = ld.get(BASE, params={"limit": 2, "expand": "draftIteration"}).json()
    assert keys(expanded) == keys(again)
    assert ld.get(BASE, params={"limit": 2, "offset": 2}).json()["items"] != again["items"]
