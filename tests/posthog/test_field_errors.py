"""Fields PostHog's serializers check answer with PostHog's (and DRF's) own words, and change nothing."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import P, assert_field_error, posthog_state

BASE = {"name": "Field errors", "feature_flag_key": "field-errors"}
EXPOSURE_HINT = (
    "Expected either an event-based config like "
    "{'kind': 'ExperimentEventExposureConfig', 'event': '<event_name>', 'properties': []} "
    "or an action-based config like {'kind': 'ActionsNode', 'id': <action_id>}."
)

# (path, extra body fields, attr, code, message)
CASES = [
    (
        f"{P}/experiments/4/end/",
        {"conclusion": "bogus"},
        "conclusion",
        "invalid_choice",
        '"bogus" is not a valid choice.',
    ),
    (f"{P}/experiments/", {"conclusion": "bogus"}, "conclusion", "invalid_choice", '"bogus" is not a valid choice.'),
    (f"{P}/experiments/", {"conclusion": 5}, "conclusion", "invalid_choice", '"5" is not a valid choice.'),
    (f"{P}/experiments/", {"conclusion": True}, "conclusion", "invalid_choice", '"True" is not a valid choice.'),
    (
        f"{P}/experiments/",
        {"conclusion": ["won"]},
        "conclusion",
        "invalid_choice",
        "\"['won']\" is not a valid choice.",
    ),
    (f"{P}/experiments/", {"type": "mobile"}, "type", "invalid_choice", '"mobile" is not a valid choice.'),
    (f"{P}/experiments/", {"type": ""}, "type", "invalid_choice", '"" is not a valid choice.'),
    (f"{P}/experiments/", {"metrics": "x"}, "metrics", "invalid_input", "Metrics must be a list"),
    (
        f"{P}/experiments/",
        {"metrics_secondary": [5]},
        "metrics_secondary",
        "invalid_input",
        "Invalid metric at index 0: must be a dict",
    ),
    (
        f"{P}/experiments/",
        {"parameters": {"feature_flag_variants": ["x"]}},
        "parameters",
        "invalid_input",
        "Feature flag variant at index 0 must be an object",
    ),
    (
        f"{P}/experiments/",
        {"parameters": {"feature_flag_variants": [{"key": "control", "split_percent": 50}, {"split_percent": 50}]}},
        "parameters",
        "invalid_input",
        "Feature flag variant at index 1 must have a 'key' field",
    ),
    (
        f"{P}/experiments/",
        {"parameters": {"feature_flag_variants": [{"key": "control"}, {"key": "test", "split_percent": 50}]}},
        "parameters",
        "invalid_input",
        "Each variant must include split_percent (recommended) or rollout_percentage (deprecated).",
    ),
    (
        f"{P}/experiments/",
        {
            "parameters": {
                "feature_flag_variants": [{"key": "a", "split_percent": 50}, {"key": "b", "split_percent": 50}]
            }
        },
        "parameters",
        "invalid_input",
        "Feature flag variants must contain a variant with key 'control' (lowercase, exactly). "
        "Got keys: ['a', 'b']. Rename the baseline variant's 'key' to 'control'.",
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": [1]},
        "exposure_criteria",
        "invalid_input",
        "exposure_criteria must be an object, got list. "
        "Expected shape: {'filterTestAccounts': <bool>, 'exposure_config': <object>}.",
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": {"filterTestAccounts": "yes"}},
        "exposure_criteria",
        "invalid_input",
        "exposure_criteria.filterTestAccounts must be a boolean, got str: 'yes'.",
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": {"filterTestAccounts": None}},
        "exposure_criteria",
        "invalid_input",
        "exposure_criteria.filterTestAccounts must be a boolean, got NoneType: None.",
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": {"exposure_config": {"kind": "Bogus"}}},
        "exposure_criteria",
        "invalid_input",
        "exposure_criteria.exposure_config.kind must be one of "
        f"['ExperimentEventExposureConfig', 'ActionsNode'], got 'Bogus'. {EXPOSURE_HINT}",
    ),
    (
        f"{P}/experiments/",
        {"exposure_criteria": {"exposure_config": {"kind": "ExperimentEventExposureConfig"}}},
        "exposure_criteria",
        "invalid_input",
        "Invalid exposure_criteria.exposure_config (kind='ExperimentEventExposureConfig'): "
        "[{'loc': ('event',), 'type': 'missing', 'msg': 'Field required'}, "
        "{'loc': ('properties',), 'type': 'missing', 'msg': 'Field required'}]. " + EXPOSURE_HINT,
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": {"id": 1}},
        "saved_metrics_ids",
        "not_a_list",
        'Expected a list of items but got type "dict".',
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": "1"},
        "saved_metrics_ids",
        "not_a_list",
        'Expected a list of items but got type "str".',
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [5]},
        "saved_metrics_ids",
        "invalid_input",
        "Saved metric must be an object",
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"metadata": {"type": "primary"}}]},
        "saved_metrics_ids",
        "invalid_input",
        "Saved metric must have an id",
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"id": 1, "metadata": "primary"}]},
        "saved_metrics_ids",
        "invalid_input",
        "Metadata must be an object",
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"id": 1, "metadata": {}}]},
        "saved_metrics_ids",
        "invalid_input",
        "Metadata must have a type key",
    ),
    (
        f"{P}/experiments/",
        {"saved_metrics_ids": [{"id": 1, "metadata": {"type": "primary"}}, {"id": 1, "metadata": {"type": "x"}}]},
        "saved_metrics_ids",
        "invalid_input",
        "Saved metric does not exist or does not belong to this project",
    ),
    (
        f"{P}/experiments/",
        {"holdout_id": "abc"},
        "holdout_id",
        "incorrect_type",
        "Incorrect type. Expected pk value, received str.",
    ),
    (
        f"{P}/experiments/",
        {"holdout_id": [1]},
        "holdout_id",
        "incorrect_type",
        "Incorrect type. Expected pk value, received list.",
    ),
    (
        f"{P}/experiments/",
        {"holdout_id": "999"},
        "holdout_id",
        "does_not_exist",
        'Invalid pk "999" - object does not exist.',
    ),
    (f"{P}/experiments/", {"archived": "maybe"}, "archived", "invalid_input", "Must be a valid boolean."),
    (f"{P}/experiments/", {"archived": None}, "archived", "null", "This field may not be null."),
    (f"{P}/experiments/", {"filters": None}, "filters", "null", "This field may not be null."),
    (f"{P}/experiments/", {"name": True}, "name", "invalid_input", "Not a valid string."),
    (f"{P}/experiments/", {"name": "   "}, "name", "blank", "This field may not be blank."),
    (
        f"{P}/experiments/",
        {"name": "n" * 401},
        "name",
        "max_length",
        "Ensure this field has no more than 400 characters.",
    ),
    (
        f"{P}/experiments/",
        {"name": "a\u0000b"},
        "name",
        "null_characters_not_allowed",
        "Null characters are not allowed.",
    ),
    (
        f"{P}/experiments/",
        {"description": "d" * 3001},
        "description",
        "max_length",
        "Ensure this field has no more than 3000 characters.",
    ),
    (f"{P}/experiments/", {"feature_flag_key": ""}, "feature_flag_key", "blank", "This field may not be blank."),
    (f"{P}/experiments/4/ship_variant/", {}, "variant_key", "required", "This field is required."),
    (f"{P}/experiments/4/ship_variant/", {"variant_key": ""}, "variant_key", "blank", "This field may not be blank."),
    (
        f"{P}/experiments/4/copy_to_project/",
        {"target_team_id": "two"},
        "target_team_id",
        "invalid_input",
        "A valid integer is required.",
    ),
    (
        f"{P}/experiments/4/copy_to_project/",
        {"target_team_id": 2.5},
        "target_team_id",
        "invalid_input",
        "A valid integer is required.",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{next(iter(c[1]), 'empty')}" for i, c in enumerate(CASES)])
def test_field_errors_use_posthogs_words(api, case):
    path, extra, attr, code, message = case
    before = posthog_state(api)
    body = {**BASE, **extra} if path.endswith("/experiments/") else extra
    assert_field_error(api.post(path, json_body=body), attr, code, message)
    assert posthog_state(api) == before


def test_the_first_failing_field_in_posthogs_order_is_the_one_reported(api):
    # name comes before type, type before conclusion, whatever order the body lists them in
    body = {"conclusion": "bogus", "type": "mobile", "name": "", "feature_flag_key": "k"}
    assert_field_error(api.post(f"{P}/experiments/", json_body=body), "name", "blank", "This field may not be blank.")
    body = {"conclusion": "bogus", "type": "mobile", "name": "x", "feature_flag_key": "k"}
    assert_field_error(
        api.post(f"{P}/experiments/", json_body=body), "type", "invalid_choice", '"mobile" is not a valid choice.'
    )
    body = {"conclusion": "bogus", "parameters": {"feature_flag_variants": [1]}, "name": "x", "feature_flag_key": "k"}
    assert_field_error(
        api.post(f"{P}/experiments/", json_body=body),
        "parameters",
        "invalid_input",
        "Feature flag variant at index 0 must be an object",
    )
    body = {"type": "mobile", "saved_metrics_ids": "x", "name": "x", "feature_flag_key": "k"}
    assert_field_error(
        api.post(f"{P}/experiments/", json_body=body),
        "saved_metrics_ids",
        "not_a_list",
        'Expected a list of items but got type "str".',
    )


def test_a_link_without_metadata_is_refused_on_create(api):
    # the link serializer's metadata may not be null; saved_metrics_ids itself only checks "type" when metadata is sent
    response = api.post(f"{P}/experiments/", json_body={**BASE, "saved_metrics_ids": [{"id": 1}]})
    assert_field_error(response, "metadata", "null", "This field may not be null.")
    assert api.get(f"{P}/experiments/?search=Field errors").json()["count"] == 0


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "offset=x"])
def test_eligible_flags_bad_paging_answers_posthogs_bare_error(api, query):
    response = api.get(f"{P}/experiments/eligible_feature_flags/?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid limit or offset"}


def test_eligible_flags_bad_order_keeps_the_envelope(api):
    response = api.get(f"{P}/experiments/eligible_feature_flags/?order=bogus")
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid order field: 'bogus'"
