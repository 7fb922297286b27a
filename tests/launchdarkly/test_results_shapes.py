"""Results in the shape of the experiment's methodology, sliced by the iteration's attributes, with CUPED."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.launchdarkly.helpers import BASE, experiment_post, patch, runtime_of


def run(
    client, key: str, *, flag_key: str = "pricing-page-layout", days: int = 5, allocations=("50", "50"), **post_fields
) -> None:
    post = experiment_post(client, key, flag_key=flag_key, allocations=allocations)
    iteration_extra = post_fields.pop("iteration", {})
    post["iteration"].update(iteration_extra)
    post.update(post_fields)
    created = client.post(BASE, json_body=post)
    assert created.status_code == 201, created.text
    assert patch(client, key, {"kind": "startIteration"}).status_code == 200
    runtime_of(client).clock.advance(timedelta(days=days))


def results(client, key: str, metric: str = "checkout-completed", query: str = "") -> dict:
    response = client.get(f"{BASE}/{key}/metrics/{metric}/results{query}")
    assert response.status_code == 200, response.text
    return response.json()


def test_default_methodology_is_frequentist_and_bandits_are_bayesian(ld):
    assert ld.post(BASE, json_body=experiment_post(ld, "plain")).json()["methodology"] == "frequentist"
    bandit = {**experiment_post(ld, "bandit", flag_key="new-onboarding-flow"), "type": "mab"}
    assert ld.post(BASE, json_body=bandit).json()["methodology"] == "bayesian"


def test_frequentist_results(ld):
    run(ld, "freq")
    body = results(ld, "freq")
    rows = body["treatmentResults"]
    baseline, variant = rows
    for row in rows:
        assert {"pBest", "credibleInterval", "distribution", "model"}.isdisjoint(row)
        low, high = row["confidenceInterval"]["lower"], row["confidenceInterval"]["upper"]
        assert low <= row["mean"] <= high and row["units"] > 0
    assert "pValue" not in baseline and 0 <= variant["pValue"] <= 1
    difference = variant["relativeDifferences"][0]
    assert difference["fromTreatmentId"] == baseline["treatmentId"] and difference["lower"] <= difference["upper"]
    assert body["results"] == [{"treatmentResults": rows}]


def test_bayesian_results(ld):
    run(ld, "bayes", methodology="bayesian")
    rows = results(ld, "bayes")["treatmentResults"]
    assert sum(r["pBest"] for r in rows) == pytest.approx(1, abs=1e-6)
    assert all("credibleInterval" in r and "confidenceInterval" not in r and "pValue" not in r for r in rows)


def test_export_only_reports_what_was_seen(ld):
    run(ld, "export", methodology="export_only")
    rows = results(ld, "export")["treatmentResults"]
    assert all(r["units"] > 0 and "mean" not in r and "pBest" not in r and "confidenceInterval" not in r for r in rows)


def test_a_stricter_significance_widens_the_interval(ld):
    run(ld, "sig", analysisConfig={"significanceThreshold": "0.2"})
    loose = results(ld, "sig")["treatmentResults"][0]["confidenceInterval"]
    stored = runtime_of(ld).store.data["launchdarkly"]["experiments"]["default/production/sig"]
    stored["analysisConfig"]["significanceThreshold"] = "1"  # 1%, written as a percentage
    strict = results(ld, "sig")["treatmentResults"][0]["confidenceInterval"]
    ratio = (strict["upper"] - strict["lower"]) / (loose["upper"] - loose["lower"])
    assert ratio == pytest.approx(2.5758 / 1.2816, rel=1e-3)  # z at 99.5% over z at 90%


def test_bonferroni_multiplies_p_values(ld):
    config = {"multipleComparisonCorrectionMethod": "bonferroni"}
    run(ld, "three-way", flag_key="recommendations-widget", allocations=("34", "33", "33"), analysisConfig=config)
    corrected = [r["pValue"] for r in results(ld, "three-way")["treatmentResults"] if "pValue" in r]
    stored = runtime_of(ld).store.data["launchdarkly"]["experiments"]["default/production/three-way"]
    stored.pop("analysisConfig")  # the same data, read without the correction
    raw = [r["pValue"] for r in results(ld, "three-way")["treatmentResults"] if "pValue" in r]
    assert len(raw) == 2 and corrected == [min(1.0, 2 * p) for p in raw]


def test_results_are_sliced_by_the_iterations_attributes(ld):
    run(ld, "sliced", iteration={"attributes": ["country"]})
    body = results(ld, "sliced")
    assert "treatmentResults" in body  # one attribute: the deprecated field still holds all units
    slices = body["results"]
    assert "attribute" not in slices[0] and slices[0]["treatmentResults"] == body["treatmentResults"]
    countries = [s["attributeValue"] for s in slices[1:]]
    assert countries == ["US", "GB", "DE", "FR", "JP"] and {s["attribute"] for s in slices[1:]} == {"country"}
    total = sum(r["units"] for r in body["treatmentResults"])
    sliced = sum(r["units"] for s in slices[1:] for r in s["treatmentResults"])
    assert 0.9 * total <= sliced <= total


def test_several_attributes_drop_the_deprecated_field(ld):
    run(ld, "two-ways", iteration={"attributes": ["country", "device"]})
    body = results(ld, "two-ways")
    assert "treatmentResults" not in body
    assert {s.get("attribute") for s in body["results"]} == {None, "country", "device"}


def test_a_covariate_adds_cuped(ld):
    run(ld, "plain-var", methodology="bayesian")
    run(ld, "cuped", flag_key="new-onboarding-flow", methodology="bayesian", iteration={"covariateId": "cov-1"})
    plain = results(ld, "plain-var")["treatmentResults"]
    reduced = results(ld, "cuped")["treatmentResults"]
    assert all("varianceReduction" not in r for r in plain)
    for row in reduced:
        assert 0 < row["varianceReduction"] < 1 and -1 <= row["correlation"] <= 1
        assert {"standardDeviationRatio", "covariateImbalance"} <= set(row)
    assert "varianceReduction" in reduced[1]["relativeDifferences"][0]
    info = ld.get(f"{BASE}/cuped").json()["currentIteration"]["covariateInfo"]
    assert info["id"] == "cov-1" and info["fileName"] == "cov-1.csv"


def test_cuped_in_frequentist_results(ld):
    run(ld, "freq-cuped", iteration={"covariateId": "cov-2"})
    variant = results(ld, "freq-cuped")["treatmentResults"][1]
    assert "pValue" in variant and "varianceReduction" in variant
    assert "varianceReduction" in variant["relativeDifferences"][0]


def test_traffic_and_metric_group_results_follow_the_methodology(ld):
    run(
        ld, "group-freq", iteration={"metrics": [{"key": "checkout-completed"}, {"key": "engagement", "isGroup": True}]}
    )
    body = ld.get(f"{BASE}/group-freq/metric-groups/engagement/results").json()
    for item in body["metrics"]:
        assert all("confidenceInterval" in r for r in item["results"]["treatmentResults"])
    traffic = results(ld, "group-freq", "checkout-completed", "?expand=traffic")["treatmentResults"]
    assert all(r["traffic"] == r["units"] for r in traffic)
