"""Flags, JSON Patch on legacy experiments, and the legacy results endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.launchdarkly.helpers import PROJECT, get_flag, runtime_of

FLAG = "free-shipping-threshold"
FLAG_URL = f"/api/v2/flags/{PROJECT}/{FLAG}"
LEGACY = f"/api/v2/flags/{PROJECT}/{FLAG}/experiments/production"


def test_get_flag(ld_api):
    body = get_flag(ld_api, FLAG)
    assert body["kind"] == "multivariate" and len(body["variations"]) == 3
    assert set(body["environments"]) == {"production", "test"}
    items = body["experiments"]["items"]
    assert [i["metricKey"] for i in items] == ["revenue-per-user", "checkout-completed"]
    assert items[0]["_metric"]["key"] == "revenue-per-user"
    assert body["environments"]["production"]["rules"][0]["_id"]
    only = ld_api.get(FLAG_URL, params={"env": "test"}).json()
    assert set(only["environments"]) == {"test"}
    assert ld_api.get(f"/api/v2/flags/{PROJECT}/nope").status_code == 404
    assert ld_api.get("/api/v2/flags/nope/x").status_code == 404


def test_seed_003_patches(ld_api):
    add = ld_api.patch(
        FLAG_URL,
        json_body=[
            {"op": "add", "path": "/experiments/items/0", "value": {"metricKey": "page-load-ms", "environments": []}}
        ],
    )
    assert add.status_code == 200, add.text
    assert add.json()["experiments"]["items"][0]["metricKey"] == "page-load-ms"
    start = ld_api.patch(
        FLAG_URL, json_body=[{"op": "add", "path": "/experiments/items/0/environments/0", "value": "production"}]
    )
    assert start.json()["experiments"]["items"][0]["environments"] == ["production"]
    settings = start.json()["experiments"]["items"][0]["_environmentSettings"]["production"]
    assert isinstance(settings["startDate"], int)
    stop = ld_api.patch(FLAG_URL, json_body=[{"op": "remove", "path": "/experiments/items/0/environments/0"}])
    item = stop.json()["experiments"]["items"][0]
    assert item["environments"] == [] and isinstance(item["_environmentSettings"]["production"]["stopDate"], int)
    baseline = ld_api.patch(
        FLAG_URL,
        json_body={
            "comment": "new baseline",
            "patch": [{"op": "replace", "path": "/experiments/baselineIdx", "value": 1}],
        },
    )
    assert baseline.json()["experiments"]["baselineIdx"] == 1
    remove = ld_api.patch(FLAG_URL, json_body=[{"op": "remove", "path": "/experiments/items/0"}])
    assert [i["metricKey"] for i in remove.json()["experiments"]["items"]] == ["revenue-per-user", "checkout-completed"]
    assert remove.json()["_version"] == get_flag(ld_api, FLAG)["_version"]


def test_patch_bumps_versions(ld):
    before = get_flag(ld, "dark-mode-default")
    after = ld.patch(
        f"/api/v2/flags/{PROJECT}/dark-mode-default",
        json_body=[{"op": "replace", "path": "/environments/production/on", "value": True}],
    ).json()
    assert after["environments"]["production"]["on"] is True
    assert after["_version"] == before["_version"] + 1
    assert after["environments"]["production"]["version"] == before["environments"]["production"]["version"] + 1
    assert after["environments"]["test"]["version"] == before["environments"]["test"]["version"]


@pytest.mark.parametrize(
    ("ops", "fragment"),
    [
        ([], "empty"),
        ([{"op": "jump", "path": "/name"}], "unknown op"),
        ([{"op": "add", "path": "/experiments/items/0"}], "needs a value"),
        ([{"op": "move", "path": "/experiments/items/0"}], "needs from"),
        ([{"op": "replace", "path": "/key", "value": "x"}], "cannot be changed"),
        ([{"op": "replace", "path": "/experiments/baselineIdx", "value": 7}], "baselineIdx"),
        ([{"op": "replace", "path": "/experiments/baselineIdx", "value": "1"}], "baselineIdx"),
        ([{"op": "add", "path": "/experiments/items/0", "value": {"metricKey": "ghost"}}], "unknown metric"),
        ([{"op": "add", "path": "/experiments/items/0", "value": {"metricKey": "revenue-per-user"}}], "already has"),
        ([{"op": "add", "path": "/experiments/items/0/environments/0", "value": "staging"}], "unknown environment"),
        ([{"op": "add", "path": "/experiments/items/0/environments/0", "value": "production"}], "twice"),
        ([{"op": "replace", "path": "/name", "value": ""}], "name"),
        ([{"op": "replace", "path": "/environments/production/on", "value": "yes"}], "on must be"),
    ],
)
def test_invalid_patches_are_400(ld, ops, fragment):
    before = get_flag(ld, FLAG)
    response = ld.patch(FLAG_URL, json_body=ops)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"
    assert fragment in response.json()["message"]
    assert get_flag(ld, FLAG) == before


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/experiments/items/9"}],
        [{"op": "add", "path": "/experiments/items/9/environments/0", "value": "production"}],
        [{"op": "test", "path": "/experiments/baselineIdx", "value": 2}],
        [{"op": "replace", "path": "/experiments/missing/x", "value": 1}],
    ],
)
def test_unappliable_patches_are_422(ld_api, ops):
    before = get_flag(ld_api, FLAG)
    response = ld_api.patch(FLAG_URL, json_body=ops)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "patch_failed"
    assert get_flag(ld_api, FLAG) == before


@pytest.mark.parametrize(
    ("ops", "said"),
    [
        (
            [{"op": "replace", "path": "/environments/nope/on", "value": True}],
            "patch[0] (replace /environments/nope/on): /environments/nope/on does not exist",
        ),
        (
            [{"op": "replace", "path": "/name", "value": "x"}, {"op": "test", "path": "/name", "value": "nope"}],
            "patch[1] (test /name): the value at /name is not the tested value",
        ),
        (
            [{"op": "move", "from": "/tags/7", "path": "/tags/0"}],
            "patch[0] (move /tags/0): /tags/7 does not exist",
        ),
        (
            [{"op": "test", "path": "", "value": {}}],
            "patch[0] (test the document root): the value at the document root is not the tested value",
        ),
    ],
)
def test_a_failed_patch_names_the_operation_not_the_flag_it_ran_on(ld_api, ops, said):
    """The 422 names the failing operation; it never echoes the stored flag (jsonpointer's message
    did, as a Python repr with the store's own bookkeeping)."""
    before = get_flag(ld_api, FLAG)
    response = ld_api.patch(FLAG_URL, json_body=ops)
    assert response.status_code == 422, response.text
    assert response.json()["message"] == f"Unprocessable entity. Could not apply patch: {said}"
    assert "{" not in response.json()["message"] and "<class" not in response.json()["message"]
    assert get_flag(ld_api, FLAG) == before


def test_patch_body_shape_errors(ld):
    assert ld.patch(FLAG_URL, json_body={"op": "add"}).status_code == 400
    assert ld.patch(FLAG_URL, json_body=[{"path": "/name"}]).status_code == 400
    assert ld.patch(FLAG_URL, data="[{", content_type="application/json").status_code == 400


def test_archived_flag_must_be_restored_first(ld):
    url = f"/api/v2/flags/{PROJECT}/holiday-banner"
    response = ld.patch(url, json_body=[{"op": "replace", "path": "/name", "value": "x"}])
    assert response.status_code == 400 and "archived" in response.json()["message"]
    restored = ld.patch(url, json_body=[{"op": "replace", "path": "/archived", "value": False}])
    assert restored.status_code == 200 and restored.json()["archived"] is False


def test_legacy_results(ld_api):
    response = ld_api.get(f"{LEGACY}/revenue-per-user")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["totals"]) == 3 and len(body["metadata"]) == 3
    assert body["metricSeen"]["ever"] is True
    assert len(body["series"]) >= 30
    assert body["series"][0]["Time"] < body["series"][-1]["Time"]
    last = body["series"][-1]["VariationData"]
    for total, cumulative in zip(body["totals"], last, strict=True):
        assert total["cumulativeCount"] == cumulative["cumulativeCount"]
        interval = total["cumulativeConfidenceInterval"]
        assert interval["lower"] <= total["cumulativeConversionRate"] <= interval["upper"]
    assert body["totals"][0]["improvement"] == 0
    assert 0 <= body["stats"]["winningVariationIdx"] < 3
    assert ld_api.get(f"{LEGACY}/revenue-per-user").json() == body


def test_legacy_results_window(ld):
    full = ld.get(f"{LEGACY}/revenue-per-user").json()
    start = full["series"][5]["Time"]
    end = full["series"][10]["Time"]
    window = ld.get(f"{LEGACY}/revenue-per-user", params={"from": start, "to": end}).json()
    assert [s["Time"] for s in window["series"]] == [s["Time"] for s in full["series"][5:10]]
    assert ld.get(f"{LEGACY}/revenue-per-user", params={"from": end, "to": start}).status_code == 400
    assert ld.get(f"{LEGACY}/revenue-per-user", params={"from": "yesterday"}).status_code == 400


def test_stopped_legacy_experiment_stops_growing(ld):
    before = ld.get(f"{LEGACY}/checkout-completed").json()
    runtime_of(ld).clock.advance(timedelta(days=3))
    assert ld.get(f"{LEGACY}/checkout-completed").json()["totals"] == before["totals"]


def test_legacy_results_errors(ld_api):
    assert ld_api.get(f"{LEGACY}/page-load-ms").status_code == 404  # metric without a legacy experiment
    assert ld_api.get(f"{LEGACY}/ghost").status_code == 404
    assert ld_api.get(f"/api/v2/flags/{PROJECT}/{FLAG}/experiments/staging/revenue-per-user").status_code == 404
    assert ld_api.get(f"/api/v2/flags/{PROJECT}/nope/experiments/production/revenue-per-user").status_code == 404


def test_reset_deletes_collected_results(ld_api):
    before = ld_api.get(f"{LEGACY}/revenue-per-user").json()
    response = ld_api.delete(f"{LEGACY}/revenue-per-user/results")
    assert response.status_code == 204 and response.content == b""
    after = ld_api.get(f"{LEGACY}/revenue-per-user").json()
    assert after["series"] == [] and after["metricSeen"]["ever"] is False
    assert sum(t["cumulativeImpressionCount"] for t in after["totals"]) == 0
    assert before["metricSeen"]["ever"] is True
    assert ld_api.delete(f"{LEGACY}/ghost/results").status_code == 404


def test_reset_then_time_passes_collects_again(ld):
    ld.delete(f"{LEGACY}/revenue-per-user/results")
    runtime_of(ld).clock.advance(timedelta(days=2))
    body = ld.get(f"{LEGACY}/revenue-per-user").json()
    assert 2 <= len(body["series"]) <= 3
    assert body["metricSeen"]["ever"] is True


def test_patches_that_would_break_the_flag_are_refused_and_change_nothing(ld):
    path = "/api/v2/flags/default/checkout-button-color"
    before = ld.get(path).json()
    for ops in (
        [{"op": "replace", "path": "/customProperties", "value": "q"}],
        [{"op": "replace", "path": "/environments/production/targets", "value": "q"}],
        [{"op": "replace", "path": "/environments/production/offVariation", "value": "q"}],
        [{"op": "replace", "path": "/environments/production/rules", "value": [{"variation": "zzz"}]}],
    ):
        response = ld.patch(path, json_body=ops)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_request"
    assert ld.get(path).json() == before
