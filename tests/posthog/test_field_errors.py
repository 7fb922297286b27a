"""Fields PostHog checks by hand answer with PostHog's own messages, not the schema's, and change nothing."""

from __future__ import annotations

import pytest

P = "/api/projects/1"
BASE = {"name": "Field errors", "feature_flag_key": "field-errors"}
LEGACY = "legacy metric kind 'ExperimentTrendsQuery' is no longer supported for new experiments."

# (path, extra body fields, attr, code, message, whole message or prefix)
CASES = [
    (
        f"{P}/experiments/4/end/",
        {"conclusion": "bogus"},
        "conclusion",
        "invalid_choice",
        '"bogus" is not a valid choice.',
        True,
    ),
    (
        f"{P}/experiments/",
        {"conclusion": "bogus"},
        "conclusion",
        "invalid_choice",
        '"bogus" is not a valid choice.',
        True,
    ),
    (f"{P}/experiments/", {"type": "mobile"}, "type", "invalid_choice", '"mobile" is not a valid choice.', True),
    (f"{P}/experiments/", {"metrics": "x"}, "metrics", "invalid", "Metrics must be a list", True),
    (
        f"{P}/experiments/",
        {"metrics_secondary": [5]},
        "metrics_secondary",
        "invalid",
        "Invalid metric at index 0: must be a dict",
        True,
    ),
    (
        f"{P}/experiments/",
        {"metrics": [{"kind": "ExperimentTrendsQuery", "metric_type": "mean"}]},
        "metrics",
        "invalid",
        f"Invalid metric at index 0: {LEGACY} Use 'ExperimentMetric' instead.",
        True,
    ),
    (
        f"{P}/experiments/",
        {"metrics": [{"kind": "EventsNode"}]},
        "metrics",
        "invalid",
        "Invalid metric at index 0: metric kind must be 'ExperimentMetric'",
        True,
    ),
    (
        f"{P}/experiments/",
        {"metrics": [{"kind": "ExperimentMetric", "metric_type": "mean", "source": 5}]},
        "metrics",
        "invalid",
        "Invalid metric at index 0: [{'loc': ('source',)",
        False,
    ),
    (
        f"{P}/experiments/",
        {"parameters": {"feature_flag_variants": ["x"]}},
        "parameters",
        "invalid",
        "Feature flag variant at index 0 must be an object",
        True,
    ),
    (
        f"{P}/experiments/",
        {"parameters": {"feature_flag_variants": [{"key": "control", "split_percent": 50}, {"split_percent": 50}]}},
        "parameters",
        "invalid",
        "Feature flag variant at index 1 must have a 'key' field",
        True,
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": [1]},
        "exposure_criteria",
        "invalid",
        "exposure_criteria must be an object, got list",
        True,
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": {"filterTestAccounts": "yes"}},
        "exposure_criteria",
        "invalid",
        "exposure_criteria.filterTestAccounts must be a boolean, got str",
        True,
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": {"exposure_config": {"kind": "Bogus"}}},
        "exposure_criteria",
        "invalid",
        "exposure_criteria.exposure_config.kind must be one of "
        "['ExperimentEventExposureConfig', 'ActionsNode'], got 'Bogus'",
        True,
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": {"id": 1}},
        "saved_metrics_ids",
        "invalid",
        "Saved metrics must be a list",
        True,
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [5]},
        "saved_metrics_ids",
        "invalid",
        "Saved metric must be an object",
        True,
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"metadata": {"type": "primary"}}]},
        "saved_metrics_ids",
        "invalid",
        "Saved metric must have an id",
        True,
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"id": 1, "metadata": "primary"}]},
        "saved_metrics_ids",
        "invalid",
        "Metadata must be an object",
        True,
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"id": 1, "metadata": {}}]},
        "saved_metrics_ids",
        "invalid",
        "Metadata must have a type key",
        True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{next(iter(c[1]))}" for i, c in enumerate(CASES)])
def test_field_errors_use_posthogs_words(api, case):
    path, extra, attr, code, message, whole = case
    before = api.get("/__admin/state", check_spec=False).json()["data"]["posthog"]
    response = api.post(path, json_body={**BASE, **extra})
    assert response.status_code == 400, response.text
    error = response.json()
    assert (error["type"], error["attr"], error["code"]) == ("validation_error", attr, code), error
    assert error["detail"] == message if whole else error["detail"].startswith(message), error
    assert api.get("/__admin/state", check_spec=False).json()["data"]["posthog"] == before


def test_saved_metric_link_without_metadata_defaults_to_primary(api):
    response = api.post(f"{P}/experiments/", json_body={**BASE, "saved_metrics_ids": [{"id": 1}]})
    assert response.status_code == 201, response.text
    assert response.json()["saved_metrics"][0]["metadata"] == {"type": "primary"}


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "offset=x"])
def test_eligible_flags_bad_paging_answers_posthogs_bare_error(api, query):
    response = api.get(f"{P}/experiments/eligible_feature_flags/?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid limit or offset"}


def test_eligible_flags_bad_order_keeps_the_envelope(api):
    response = api.get(f"{P}/experiments/eligible_feature_flags/?order=bogus")
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid order field: 'bogus'"
