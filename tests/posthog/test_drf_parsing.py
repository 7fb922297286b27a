"""Request bodies read the way Django REST framework reads them for PostHog's serializers."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import (
    HOLDOUT_FILTERS,
    P,
    assert_error,
    assert_field_error,
    create,
    mean,
    patch,
    posthog_state,
)

DATETIME_FORMATS = "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"

# (sent, answered): every form Django's parser reads; no zone is UTC; answers are UTC with a Z
DATETIMES = [
    ("2021-12-01T10:23", "2021-12-01T10:23:00Z"),
    ("2021-12-01T10:23:00", "2021-12-01T10:23:00Z"),
    ("2021-12-01 10:23:45", "2021-12-01T10:23:45Z"),
    ("2021-12-01T10:23:45.5", "2021-12-01T10:23:45.500000Z"),
    ("2021-12-01T10:23:45.123456Z", "2021-12-01T10:23:45.123456Z"),
    ("2021-12-01T10:23+02:00", "2021-12-01T08:23:00Z"),
    ("2021-12-01T10:23:00-0530", "2021-12-01T15:53:00Z"),
    ("2021-12-01", "2021-12-01T00:00:00Z"),
    ("2021-12-01T10", "2021-12-01T10:00:00Z"),
    ("2021-12-01T10:23:45,5", "2021-12-01T10:23:45.500000Z"),
]
BAD_DATETIMES = [
    "yesterday",
    "2021-13-01T00:00",
    "01/12/2021",
    "",
    "2021-12-01T25:00",
    "2026-01-01T10:23+24:00",  # an offset of a day or more: Django's parser raises, DRF says wrong format
    "2026-01-01T10:23-99:00",
    "2026-01-01T10:23+99",
]


@pytest.mark.parametrize(("sent", "answered"), DATETIMES)
def test_datetimes_in_every_form_drf_reads(api, sent, answered):
    exp = create(api, start_date=sent)
    assert exp["start_date"] == answered and exp["status"] == "running"
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["start_date"] == answered


@pytest.mark.parametrize("sent", [*BAD_DATETIMES, 5, True, ["2021-12-01"], {"at": "2021-12-01"}])
def test_datetimes_drf_cannot_read_answer_its_format_message(api, sent):
    before = posthog_state(api)
    response = api.post(f"{P}/experiments/", json_body={"name": "x", "feature_flag_key": "k", "end_date": sent})
    assert_field_error(
        response,
        "end_date",
        "invalid_input",
        f"Datetime has wrong format. Use one of these formats instead: {DATETIME_FORMATS}.",
    )
    assert posthog_state(api) == before


def test_datetime_out_of_range_once_in_utc(api):
    response = api.post(
        f"{P}/experiments/", json_body={"name": "x", "feature_flag_key": "k", "end_date": "0001-01-01T00:00+01:00"}
    )
    assert_field_error(response, "end_date", "overflow", "Datetime value out of range.")


def test_date_order_compares_only_the_dates_sent_together(api):
    response = api.post(
        f"{P}/experiments/",
        json_body={"name": "x", "feature_flag_key": "k", "start_date": "2026-02-01T00:00", "end_date": "2026-02-01"},
    )
    assert_error(response, 400, "End date must be after start date", "invalid_input", None)
    exp = create(api, start_date="2026-11-01T00:00:00Z")
    # an end before the stored start is PostHog's to accept (only dates sent together are compared)
    assert patch(api, exp["id"], {"end_date": "2026-10-01"})["end_date"] == "2026-10-01T00:00:00Z"


def test_keys_no_serializer_declares_are_ignored(api):
    exp = create(api, surprise=True, zeta={"nested": 1}, id=999, status="stopped", created_by=5, holdout={"id": 1})
    assert exp["id"] != 999 and exp["status"] == "draft" and exp["holdout"] is None
    assert "surprise" not in exp and "zeta" not in exp
    patched = patch(api, exp["id"], {"bogus": 1, "feature_flag": {"key": "other"}, "description": "d"})
    assert patched["description"] == "d" and patched["feature_flag"]["key"] == "pricing-test"
    holdout = api.post(f"{P}/experiment_holdouts/", json_body={"name": "h", "filters": HOLDOUT_FILTERS, "x": 1})
    assert holdout.status_code == 201 and "x" not in holdout.json()
    metric = api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "m", "query": mean(), "zzz": 1})
    assert metric.status_code == 201 and "zzz" not in metric.json()
    shipped = api.post(f"{P}/experiments/4/end/", json_body={"conclusion": "won", "open_cleanup_pr": True})
    assert shipped.status_code == 200 and shipped.json()["conclusion"] == "won"


def test_declared_fields_an_update_may_not_write_answer_posthogs_message(api):
    exp = create(api)
    before = posthog_state(api)
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"type": "web"}),
        400,
        "Can't update keys: type on Experiment",
        "invalid_input",
        None,
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"feature_flag_key": "other"}),
        400,
        "Can't update keys: get_feature_flag_key on Experiment",
    )
    assert_error(
        api.patch(
            f"{P}/experiments/{exp['id']}/",
            json_body={"type": "product", "_create_in_folder": "f", "feature_flag_key": "other", "bogus": 1},
        ),
        400,
        "Can't update keys: _create_in_folder, get_feature_flag_key, type on Experiment",
    )
    assert posthog_state(api) == before
    same_key = patch(api, exp["id"], {"feature_flag_key": exp["feature_flag_key"], "name": "Same key"})
    assert same_key["name"] == "Same key"


def test_text_fields_read_numbers_and_trim(api):
    exp = create(api, name="  Trimmed  ", description=12.5, feature_flag_key=2024)
    assert (exp["name"], exp["description"], exp["feature_flag_key"]) == ("Trimmed", "12.5", "2024")
    assert create(api, name=7, feature_flag_key="seven")["name"] == "7"


@pytest.mark.parametrize(("sent", "stored"), [("true", True), ("yes", True), (1, True), ("off", False), ("0", False)])
def test_booleans_in_every_spelling_drf_reads(api, sent, stored):
    exp = create(api)
    assert patch(api, exp["id"], {"archived": sent})["archived"] is stored


def test_null_spellings_of_a_nullable_boolean(api):
    exp = create(api)
    assert patch(api, exp["id"], {"deleted": "null", "name": "n"})["deleted"] is None


def test_a_holdout_id_may_be_text(api):
    assert create(api, holdout_id="1")["holdout"]["id"] == 1


def test_put_applies_serializer_defaults(api):
    exp = create(api)
    assert patch(api, exp["id"], {"archived": True})["archived"] is True
    put = api.put(f"{P}/experiments/{exp['id']}/", json_body={"name": "Full", "feature_flag_key": "pricing-test"})
    assert put.status_code == 200 and put.json()["archived"] is False  # archived defaults to false on a full write
    assert_field_error(
        api.put(f"{P}/experiments/{exp['id']}/", json_body={"name": "only"}),
        "feature_flag_key",
        "required",
        "This field is required.",
    )


def test_saved_metric_and_holdout_fields(api):
    assert_field_error(
        api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "m", "query": mean(), "tags": "x"}),
        "tags",
        "not_a_list",
        'Expected a list of items but got type "str".',
    )
    assert_field_error(
        api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "m"}),
        "query",
        "required",
        "This field is required.",
    )
    assert_field_error(
        api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "m", "query": None}),
        "query",
        "null",
        "This field may not be null.",
    )
    assert_field_error(
        api.post(f"{P}/experiment_holdouts/", json_body={"name": "", "filters": HOLDOUT_FILTERS}),
        "name",
        "blank",
        "This field may not be blank.",
    )
