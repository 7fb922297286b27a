"""Experiments whose metrics predate ExperimentMetric: read, restricted on update, refused for copies."""

from __future__ import annotations

from tests.posthog.helpers import (
    LEGACY_ID,
    LEGACY_SAVED_METRIC_ID,
    P,
    assert_error,
    create,
    patch,
    posthog_state,
)

RESTRICTED = "This experiment uses legacy metric formats and can only have its name, description, or end_date updated."


def test_legacy_queries_read_with_the_experiments_own_dates(api):
    exp = api.get(f"{P}/experiments/{LEGACY_ID}/").json()
    expected = {"date_from": exp["start_date"], "date_to": exp["end_date"], "explicitDate": True}
    assert exp["archived"] is True and exp["metrics"][0]["kind"] == "ExperimentTrendsQuery"
    assert exp["metrics"][0]["count_query"]["dateRange"] == expected
    linked = exp["saved_metrics"][0]["query"]
    assert linked["kind"] == "ExperimentTrendsQuery" and linked["count_query"]["dateRange"] == expected
    assert len(linked["fingerprint"]) == 64
    stored = posthog_state(api)["experiments"][str(LEGACY_ID)]["metrics"][0]["count_query"]["dateRange"]
    assert stored["date_from"] == "-14d"  # the rewrite is on read only
    listed = api.get(f"{P}/experiments/?archived=true").json()["results"]
    assert LEGACY_ID in [e["id"] for e in listed]
    draft = {"date_from": "", "date_to": "", "explicitDate": True}
    reset = api.post(f"{P}/experiments/{LEGACY_ID}/reset/").json()
    assert reset["metrics"][0]["count_query"]["dateRange"] == draft


def test_legacy_experiments_update_only_name_description_end_date_and_deletion(api):
    path = f"{P}/experiments/{LEGACY_ID}/"
    before = posthog_state(api)
    assert_error(
        api.patch(path, json_body={"archived": False}), 400, f"{RESTRICTED} Cannot update: archived", attr=None
    )
    assert_error(
        api.patch(path, json_body={"holdout_id": 1, "type": "web"}), 400, f"{RESTRICTED} Cannot update: holdout, type"
    )
    assert_error(
        api.put(path, json_body={"name": "Full write", "feature_flag_key": "legacy-signup-funnel-2024"}),
        400,
        f"{RESTRICTED} Cannot update: archived",  # a full write brings archived's default along
    )
    assert_error(api.patch(path, json_body={"end_date": "2020-01-01"}), 400, "End date must be after start date")
    assert posthog_state(api) == before
    renamed = patch(
        api, LEGACY_ID, {"name": "Renamed", "description": "old", "feature_flag_key": "legacy-signup-funnel-2024"}
    )
    assert (renamed["name"], renamed["description"]) == ("Renamed", "old")
    assert patch(api, LEGACY_ID, {"deleted": True})["deleted"] is True


def test_copies_of_legacy_experiments_are_refused_with_posthogs_bare_body(api):
    before = posthog_state(api)
    duplicate = api.post(f"{P}/experiments/{LEGACY_ID}/duplicate/", json_body={})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"detail": "Duplication is not supported for experiments using legacy metrics."}
    copy = api.post(f"{P}/experiments/{LEGACY_ID}/copy_to_project/", json_body={"target_team_id": "not a number"})
    assert copy.status_code == 400  # checked before the body is read
    assert copy.json() == {"detail": "Copying is not supported for experiments using legacy metrics."}
    assert posthog_state(api) == before


def test_linking_a_legacy_shared_metric_makes_an_experiment_legacy(api):
    exp = create(api, saved_metrics_ids=[{"id": LEGACY_SAVED_METRIC_ID, "metadata": {"type": "primary"}}])
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"archived": True}),
        400,
        f"{RESTRICTED} Cannot update: archived",
    )
    duplicate = api.post(f"{P}/experiments/{exp['id']}/duplicate/", json_body={})
    assert duplicate.json() == {"detail": "Duplication is not supported for experiments using legacy metrics."}
