"""createIteration, metric and metric-group results, and experimentation settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.launchdarkly.helpers import BASE, PROJECT, create, get, iteration_input, patch, runtime_of

SETTINGS = f"/api/v2/projects/{PROJECT}/experimentation-settings"


# -- createIteration ---------------------------------------------------------------------------


def test_create_iteration_answers_200_with_a_draft(ld_api):
    body = iteration_input(ld_api, "checkout-button-color", allocations=("34", "33", "33"))
    response = ld_api.post(f"{BASE}/checkout-button-test/iterations", json_body=body)
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["status"] == "not_started" and isinstance(draft["createdAt"], int)
    assert [t["allocationPercent"] for t in draft["treatments"]] == ["34", "33", "33"]
    full = get(ld_api, "checkout-button-test", "draftIteration")
    assert full["draftIteration"]["_id"] == draft["_id"]
    assert full["currentIteration"]["status"] == "running"


def test_new_draft_replaces_an_unstarted_one(ld):
    first = get(ld, "onboarding-flow-test")["currentIteration"]["_id"]
    body = iteration_input(ld, "new-onboarding-flow", metrics=("signup-clicked",))
    second = ld.post(f"{BASE}/onboarding-flow-test/iterations", json_body=body).json()
    full = get(ld, "onboarding-flow-test", "draftIteration,previousIterations")
    assert full["currentIteration"]["_id"] == second["_id"] != first
    assert full["draftIteration"]["_id"] == second["_id"]
    assert "previousIterations" not in full


def test_create_iteration_rules(ld_api):
    bad = iteration_input(ld_api, "checkout-button-color")
    bad["treatments"][0]["allocationPercent"] = "abc"
    response = ld_api.post(f"{BASE}/checkout-button-test/iterations", json_body=bad)
    assert response.status_code == 400 and "allocationPercent" in response.json()["message"]
    response = ld_api.post(f"{BASE}/checkout-button-test/iterations", json_body={"hypothesis": "x"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"
    response = ld_api.post(f"{BASE}/ghost/iterations", json_body=iteration_input(ld_api))
    assert response.status_code == 404
    response = ld_api.post(
        f"{BASE}/recommendations-test/iterations", json_body=iteration_input(ld_api, "recommendations-widget")
    )
    assert response.status_code == 400 and "Archived" in response.json()["message"]


# -- results -----------------------------------------------------------------------------------


def results_url(key: str, metric: str) -> str:
    return f"{BASE}/{key}/metrics/{metric}/results"


def check_coherent(body, treatment_ids):
    rows = body["treatmentResults"]
    assert [r["treatmentId"] for r in rows] == treatment_ids
    assert sum(r["pBest"] for r in rows) == pytest.approx(1, abs=1e-6)
    for row in rows:
        interval = row["credibleInterval"]
        assert interval["lower"] <= row["mean"] <= interval["upper"]
        assert isinstance(row["units"], int) and row["units"] >= 0
    return rows


def test_results_are_coherent_and_deterministic(ld_api):
    ids = [t["_id"] for t in get(ld_api, "checkout-button-test", "treatments")["currentIteration"]["treatments"]]
    first = ld_api.get(results_url("checkout-button-test", "checkout-completed"), params={"expand": "traffic"})
    assert first.status_code == 200, first.text
    rows = check_coherent(first.json(), ids)
    assert all(r["units"] > 0 and r["traffic"] == r["units"] for r in rows)
    baseline = ids[0]
    assert "relativeDifferences" not in rows[0]
    for row in rows[1:]:
        diff = row["relativeDifferences"][0]
        assert diff["fromTreatmentId"] == baseline
        assert diff["lower"] <= row["mean"] / rows[0]["mean"] - 1 <= diff["upper"]
    assert first.json()["metricSeen"]["ever"] is True
    best_mean = max(rows, key=lambda r: r["mean"])
    assert best_mean["pBest"] == max(r["pBest"] for r in rows)
    again = ld_api.get(results_url("checkout-button-test", "checkout-completed"), params={"expand": "traffic"})
    assert again.json() == first.json()


def test_numeric_metric_uses_a_normal_model(ld):
    body = ld.get(results_url("checkout-button-test", "revenue-per-user")).json()
    rows = check_coherent(body, [r["treatmentId"] for r in body["treatmentResults"]])
    assert {r["model"] for r in rows} == {"bayesianNormal"}
    assert all("traffic" not in r for r in rows)


def test_units_grow_with_time(ld):
    url = results_url("search-ranking-test", "search-result-clicked")
    before = [r["units"] for r in ld.get(url).json()["treatmentResults"]]
    runtime_of(ld).clock.advance(timedelta(days=2))
    after = [r["units"] for r in ld.get(url).json()["treatmentResults"]]
    assert all(a > b for a, b in zip(after, before, strict=True))


def test_stopped_iteration_results_stop_growing(ld):
    url = results_url("pricing-layout-test", "page-load-ms")
    before = ld.get(url).json()
    runtime_of(ld).clock.advance(timedelta(days=5))
    assert ld.get(url).json()["treatmentResults"] == before["treatmentResults"]


def test_not_started_iteration_has_zero_data(ld):
    body = ld.get(results_url("onboarding-flow-test", "signup-clicked"), params={"expand": "traffic"}).json()
    rows = check_coherent(body, [r["treatmentId"] for r in body["treatmentResults"]])
    assert all(r["units"] == 0 and r["traffic"] == 0 and r["mean"] == 0 for r in rows)
    assert body["metricSeen"] == {"ever": False}


def test_results_for_a_previous_iteration(ld):
    previous = get(ld, "checkout-button-test", "previousIterations")["previousIterations"][0]
    url = results_url("checkout-button-test", "checkout-completed")
    body = ld.get(url, params={"iterationId": previous["_id"]}).json()
    assert body["treatmentResults"] != ld.get(url).json()["treatmentResults"]
    assert ld.get(url, params={"iterationId": "nope"}).status_code == 404


def test_results_errors(ld_api):
    assert ld_api.get(results_url("checkout-button-test", "page-load-ms")).status_code == 404
    assert ld_api.get(results_url("checkout-button-test", "no-metric")).status_code == 404
    assert ld_api.get(results_url("ghost", "checkout-completed")).status_code == 404
    response = ld_api.get(results_url("checkout-button-test", "checkout-completed"), params={"expand": "all"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"


def test_metric_group_results(ld_api):
    url = f"{BASE}/search-ranking-test/metric-groups/engagement/results"
    response = ld_api.get(url, params={"expand": "traffic"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["metric"]["key"] for m in body["metrics"]] == ["search-result-clicked", "signup-clicked"]
    for item in body["metrics"]:
        check_coherent(item["results"], [r["treatmentId"] for r in item["results"]["treatmentResults"]])
    assert ld_api.get(f"{BASE}/search-ranking-test/metric-groups/checkout-funnel/results").status_code == 404
    assert ld_api.get(f"{BASE}/search-ranking-test/metric-groups/nope/results").status_code == 404


# -- experimentation settings ----------------------------------------------------------------


def test_settings_get_and_put(ld_api):
    body = ld_api.get(SETTINGS).json()
    assert body["_projectKey"] == PROJECT
    assert [u["randomizationUnit"] for u in body["randomizationUnits"]] == ["user", "organization", "device"]
    assert [u["default"] for u in body["randomizationUnits"]] == [True, False, False]
    put = ld_api.put(
        SETTINGS,
        json_body={
            "randomizationUnits": [{"randomizationUnit": "account", "default": True}, {"randomizationUnit": "user"}]
        },
    )
    assert put.status_code == 200, put.text
    assert [u["randomizationUnit"] for u in put.json()["randomizationUnits"]] == ["account", "user"]
    assert ld_api.get(SETTINGS).json()["randomizationUnits"] == put.json()["randomizationUnits"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"randomizationUnits": [{"randomizationUnit": "planet"}]}, 400),
        (
            {
                "randomizationUnits": [
                    {"randomizationUnit": "user", "default": True},
                    {"randomizationUnit": "device", "default": True},
                ]
            },
            400,
        ),
        ({"randomizationUnits": [{"randomizationUnit": "user"}, {"randomizationUnit": "user"}]}, 400),
        ({"randomizationUnits": [{"default": True}]}, 400),
        ({"randomizationUnits": "user"}, 400),
        ({}, 400),
    ],
)
def test_settings_rules(ld, body, status):
    response = ld.put(SETTINGS, json_body=body)
    assert response.status_code == status
    assert response.json()["code"] == "invalid_request"


def test_settings_unknown_project(ld):
    assert ld.get("/api/v2/projects/nope/experimentation-settings").status_code == 404


def test_units_from_settings_drive_iteration_validation(ld):
    ld.put(SETTINGS, json_body={"randomizationUnits": [{"randomizationUnit": "account"}]})
    response = ld.post(BASE, json_body={"name": "Acc", "key": "acc", "iteration": iteration_input(ld, unit=None)})
    assert response.status_code == 201
    assert "randomizationUnit" not in response.json()["currentIteration"]
    assert patch(ld, "acc", {"kind": "startIteration"}).status_code == 400
    create(ld, "acc2", unit="account")
    assert patch(ld, "acc2", {"kind": "startIteration"}).status_code == 200
