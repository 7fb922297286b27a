"""timeseries_results and recalculate_timeseries, before and after results exist."""

from __future__ import annotations

from tests.posthog.helpers import P, assert_error, clock_moved, create, find_seeded, mean

DAYS = ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]


def _launched(api):
    exp = create(api, metrics=[mean()], start_date="2026-11-15T08:00:00Z")
    return exp, exp["metrics"][0]


def _series(api, exp, metric, fingerprint=None):
    query = f"metric_uuid={metric['uuid']}&fingerprint={fingerprint or metric['fingerprint']}"
    response = api.get(f"{P}/experiments/{exp['id']}/timeseries_results/?{query}")
    assert response.status_code == 200, response.text
    return response.json()


def _recalculate(api, exp, metric, status=201):
    response = api.post(
        f"{P}/experiments/{exp['id']}/recalculate_timeseries/",
        json_body={"metric": metric, "fingerprint": metric["fingerprint"]},
    )
    assert response.status_code == status, response.text
    return response.json()


def test_before_any_calculation_every_day_is_pending(api):
    exp, metric = _launched(api)
    body = _series(api, exp, metric)
    assert body == {
        "experiment_id": exp["id"],
        "metric_uuid": metric["uuid"],
        "status": "pending",
        "timeseries": dict.fromkeys(DAYS),
        "errors": None,
        "computed_at": None,
        "created_at": "2026-11-20T12:00:00+00:00",
        "updated_at": "2026-11-20T12:00:00+00:00",
        "recalculation_status": None,
        "recalculation_created_at": None,
        "formatted_results": "No completed timeseries data (status: pending).",
    }


def test_a_recalculation_is_pending_then_its_results_exist(api):
    exp, metric = _launched(api)
    request = _recalculate(api, exp, metric)
    assert request == {
        "id": request["id"],
        "experiment_id": exp["id"],
        "metric_uuid": metric["uuid"],
        "fingerprint": metric["fingerprint"],
        "status": "pending",
        "created_at": "2026-11-20T12:00:00+00:00",
    }
    assert _recalculate(api, exp, metric, status=200) == request  # one open request per fingerprint
    waiting = _series(api, exp, metric)
    assert waiting["status"] == "pending" and waiting["recalculation_status"] == "pending"
    assert waiting["recalculation_created_at"] == "2026-11-20T12:00:00+00:00"
    with clock_moved(api, 10):
        done = _series(api, exp, metric)
        assert done["status"] == "completed" and done["recalculation_status"] is None
        assert list(done["timeseries"]) == DAYS and all(done["timeseries"].values())
        day = done["timeseries"]["2026-11-20"]
        assert day["baseline"]["key"] == "control" and day["variant_results"][0]["key"] == "test"
        assert day["variant_results"][0]["method"] == "bayesian" and "chance_to_win" in day["variant_results"][0]
        assert done["computed_at"] == done["created_at"] == "2026-11-20T12:00:05+00:00"
        table = done["formatted_results"].splitlines()
        assert table[:4] == [
            "Method: bayesian",
            "Variants: control (baseline), test",
            "Status: completed",
            "Date|control n|control mean|test n|test mean|test interval|test chance_to_win|test significant",
        ]
        assert len(table) == 4 + len(DAYS) and table[4].startswith("2026-11-15|")
        assert _series(api, exp, metric, fingerprint="other")["status"] == "pending"  # results are per fingerprint
        again = _recalculate(api, exp, metric)
        assert again["id"] != request["id"]
        assert _series(api, exp, metric)["status"] == "pending"  # a new calculation clears the stored results


def test_days_after_the_calculation_are_missing(api):
    exp, metric = _launched(api)
    _recalculate(api, exp, metric)
    with clock_moved(api, 2 * 86400):
        later = _series(api, exp, metric)
        assert later["status"] == "partial" and len(later["timeseries"]) == len(DAYS) + 2
        assert later["timeseries"]["2026-11-22"] is None and later["timeseries"]["2026-11-20"] is not None
        assert "2026-11-22|—" in later["formatted_results"]


def test_seeded_launched_experiments_have_results(api):
    exp = api.get(f"{P}/experiments/{find_seeded(api, 'stopped')['id']}/").json()
    body = _series(api, exp, exp["metrics"][0])
    assert body["status"] == "completed" and body["computed_at"]


def test_the_views_own_checks(api):
    exp, _metric = _launched(api)
    base = f"{P}/experiments/{exp['id']}"
    assert_error(api.get(f"{base}/timeseries_results/"), 400, "metric_uuid query parameter is required", attr=None)
    assert_error(
        api.get(f"{base}/timeseries_results/?metric_uuid=u&fingerprint="),
        400,
        "fingerprint query parameter is required",
    )
    assert_error(api.get(f"{P}/experiments/99999/timeseries_results/"), 404, "Not found.")
    assert_error(api.post(f"{base}/recalculate_timeseries/", json_body={"fingerprint": "f"}), 400, "metric is required")
    assert_error(
        api.post(f"{base}/recalculate_timeseries/", json_body={"metric": {"uuid": "u"}}), 400, "fingerprint is required"
    )
    draft = create(api, feature_flag_key="draft-flag", metrics=[mean()])
    assert_error(
        api.get(f"{P}/experiments/{draft['id']}/timeseries_results/?metric_uuid=u&fingerprint=f"),
        400,
        "Experiment has not been started yet",
    )
    assert_error(
        api.post(
            f"{P}/experiments/{draft['id']}/recalculate_timeseries/", json_body={"metric": {"a": 1}, "fingerprint": "f"}
        ),
        400,
        "Cannot recalculate timeseries for experiment that hasn't started",
    )


def test_an_experiment_ending_on_the_last_day_there_is_has_its_series(api):
    """9999-12-31 has no next day: the day walk stops there instead of answering 500."""
    exp = create(api, metrics=[mean()], start_date="9999-12-30T00:00:00Z")
    assert api.patch(f"{P}/experiments/{exp['id']}/", json_body={"end_date": "9999-12-31T12:00:00Z"}).status_code == 200
    series = _series(api, exp, exp["metrics"][0])
    assert list(series["timeseries"]) == ["9999-12-30", "9999-12-31"]
