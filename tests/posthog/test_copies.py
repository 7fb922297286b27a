"""duplicate and copy_to_project: PostHog's clone rules (names, flags, variants, links, refusals)."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import (
    P2,
    P,
    act,
    assert_field_error,
    create,
    create_saved_metric,
    mean,
    posthog_state,
    variants,
)


@pytest.mark.parametrize(("action", "extra"), [("duplicate", {}), ("copy_to_project", {"target_team_id": 2})])
def test_a_blank_flag_key_is_the_flag_serializers_400(api, action, extra):
    exp = create(api)
    before = posthog_state(api)
    response = api.post(f"{P}/experiments/{exp['id']}/{action}/", json_body={**extra, "feature_flag_key": ""})
    assert_field_error(response, "key", "blank", "This field may not be blank.")
    assert posthog_state(api) == before


def test_a_new_key_that_breaks_the_flag_rules_is_refused(api):
    exp = create(api)
    response = api.post(f"{P}/experiments/{exp['id']}/duplicate/", json_body={"feature_flag_key": "bad key"})
    assert_field_error(
        response, "key", "invalid_key", "Only letters, numbers, hyphens (-) & underscores (_) are allowed."
    )


def test_duplicate_onto_an_existing_flag_takes_its_variants(api):
    exp = create(api, parameters={**variants(("control", 50), ("test", 50)), "minimum_detectable_effect": 3})
    copy = act(api, exp["id"], "duplicate", {"feature_flag_key": "ai-summary-beta"}, status=201)
    assert copy["feature_flag"]["key"] == "ai-summary-beta"
    assert [v["key"] for v in copy["parameters"]["feature_flag_variants"]] == ["control", "concise", "detailed"]
    assert copy["parameters"]["minimum_detectable_effect"] == 3
    assert copy["parameters"]["feature_flag_variants"][1]["split_percent"] == 33


def test_duplicate_onto_a_flag_that_cannot_run_an_experiment(api):
    exp = create(api)
    response = api.post(f"{P}/experiments/{exp['id']}/duplicate/", json_body={"feature_flag_key": "dark-mode-default"})
    assert response.status_code == 400
    assert (
        response.json()["detail"]
        == "Feature flag must have at least 2 variants (control and at least one test variant)"
    )


def test_duplicate_with_a_new_key_makes_an_inactive_flag_with_the_copied_variants(api):
    exp = create(api, parameters=variants(("control", 60), ("test", 40)), start_date="2026-11-01")
    copy = act(api, exp["id"], "duplicate", {"feature_flag_key": "copied-flag", "name": "Copied"}, status=201)
    flag = copy["feature_flag"]
    assert flag["name"] == "Feature Flag for Experiment Copied" and flag["active"] is False
    assert [v["rollout_percentage"] for v in flag["filters"]["multivariate"]["variants"]] == [60, 40]
    assert copy["status"] == "draft" and copy["start_date"] is None


def test_duplicate_keeps_the_setup_not_the_run(api):
    metric = create_saved_metric(api)
    exp = create(
        api,
        metrics=[mean()],
        stats_config={"method": "frequentist"},
        exposure_criteria={"filterTestAccounts": False},
        secondary_metrics=[{"legacy": True}],
        holdout_id=1,
        saved_metrics_ids=[{"id": metric["id"], "metadata": {"type": "secondary"}}],
        conclusion="won",
    )
    copy = act(api, exp["id"], "duplicate", status=201)
    assert copy["name"] == "Pricing test (Copy)" and copy["feature_flag"]["id"] == exp["feature_flag"]["id"]
    assert copy["stats_config"] == {"method": "frequentist"} and copy["exposure_criteria"] == {
        "filterTestAccounts": False
    }
    assert copy["holdout"] is None and copy["conclusion"] is None and copy["secondary_metrics"] == []
    assert copy["metrics"][0]["uuid"] != exp["metrics"][0]["uuid"]
    assert copy["primary_metrics_ordered_uuids"] == [copy["metrics"][0]["uuid"]]
    assert copy["saved_metrics"][0]["saved_metric"] == metric["id"]
    assert copy["secondary_metrics_ordered_uuids"] == [metric["query"]["uuid"]]


def test_copy_to_another_project(api):
    exp = create(api, saved_metrics_ids=[{"id": 1, "metadata": {"type": "primary"}}])
    copied = act(api, exp["id"], "copy_to_project", {"target_team_id": "2"}, status=201)
    assert copied["feature_flag"]["team_id"] == 2 and copied["saved_metrics"] == []  # links stay in their project
    assert api.get(f"{P2}/experiments/{copied['id']}/").status_code == 200
    assert api.get(f"{P}/experiments/{copied['id']}/").status_code == 404
    onto = act(
        api, exp["id"], "copy_to_project", {"target_team_id": 2, "feature_flag_key": "mobile-onboarding-v2"}, 201
    )
    assert onto["feature_flag"]["key"] == "mobile-onboarding-v2" and onto["name"] == "Pricing test (Copy) 1"
    assert [v["name"] for v in onto["parameters"]["feature_flag_variants"]] == ["Control", "Test"]
    missing = api.post(f"{P}/experiments/{exp['id']}/copy_to_project/", json_body={"target_team_id": 77})
    assert missing.status_code == 404 and missing.json() == {"detail": "Target team not found."}
    assert_field_error(
        api.post(f"{P}/experiments/{exp['id']}/copy_to_project/", json_body={}),
        "target_team_id",
        "required",
        "This field is required.",
    )
