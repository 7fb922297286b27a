"""Experiment CRUD, copies, results and collection routes."""

from __future__ import annotations

from tests.posthog.helpers import P, act, assert_error, create, mean

G1_FIELDS = [
    "id",
    "name",
    "description",
    "start_date",
    "end_date",
    "feature_flag_key",
    "feature_flag",
    "holdout",
    "holdout_id",
    "exposure_cohort",
    "parameters",
    "secondary_metrics",
    "saved_metrics",
    "saved_metrics_ids",
    "filters",
    "archived",
    "deleted",
    "created_by",
    "created_at",
    "updated_at",
    "type",
    "exposure_criteria",
    "metrics",
    "metrics_secondary",
    "stats_config",
    "scheduling_config",
    "conclusion",
    "conclusion_comment",
    "primary_metrics_ordered_uuids",
    "secondary_metrics_ordered_uuids",
    "only_count_matured_users",
    "status",
    "user_access_level",
]


def test_list_and_detail_carry_the_fields_posthogs_serializer_declares(api):
    listed = api.get(f"{P}/experiments/?limit=100").json()["results"]
    assert all(list(row) == G1_FIELDS for row in listed)
    detail = api.get(f"{P}/experiments/4/").json()
    assert list(detail) == G1_FIELDS and detail == next(row for row in listed if row["id"] == 4)
    assert detail["holdout_id"] == detail["holdout"]["id"] == 1 and detail["saved_metrics_ids"] is None
    assert set(detail["holdout"]) == {"id", "name", "description", "filters", "created_by", "created_at", "updated_at"}


def test_create_makes_draft_with_default_flag(api):
    exp = create(api, name="Hero video", feature_flag_key="hero-video")
    assert exp["status"] == "draft"
    flag = exp["feature_flag"]
    assert flag["name"] == "Feature Flag for Experiment Hero video" and flag["key"] == "hero-video"
    variants = flag["filters"]["multivariate"]["variants"]
    assert [(v["key"], v["rollout_percentage"]) for v in variants] == [("control", 50), ("test", 50)]
    fetched = api.get(f"{P}/experiments/{exp['id']}/").json()
    assert fetched == exp
    assert api.get(f"{P}/experiments/{exp['id']}").status_code == 200  # trailing slash optional


def test_create_with_start_date_is_running(api):
    exp = create(api, start_date="2026-11-01T00:00:00Z")
    assert exp["status"] == "running" and exp["feature_flag"]["active"] is True


def test_create_with_custom_variants_and_split_percent(api):
    exp = create(
        api,
        parameters={
            "feature_flag_variants": [
                {"key": "Control", "split_percent": 34},
                {"key": "a", "split_percent": 33},
                {"key": "b", "split_percent": 33},
            ]
        },
    )
    keys = [(v["key"], v["rollout_percentage"]) for v in exp["feature_flag"]["filters"]["multivariate"]["variants"]]
    assert keys == [("control", 34), ("a", 33), ("b", 33)]
    assert exp["parameters"]["feature_flag_variants"][0]["split_percent"] == 34


def test_create_rejections(api):
    cases = [
        (
            {"name": "x", "feature_flag_key": "bad key!"},
            "Only letters, numbers, hyphens (-) & underscores (_) are allowed.",
            "key",
        ),
        (
            {
                "name": "x",
                "feature_flag_key": "k",
                "parameters": {"feature_flag_variants": [{"key": "control", "split_percent": 100}]},
            },
            "Feature flag must have at least 2 variants (control and at least one test variant)",
            "parameters",
        ),
        (
            {
                "name": "x",
                "feature_flag_key": "k",
                "parameters": {
                    "feature_flag_variants": [{"key": "a", "split_percent": 50}, {"key": "b", "split_percent": 50}]
                },
            },
            None,
            "parameters",
        ),
        (
            {
                "name": "x",
                "feature_flag_key": "k",
                "parameters": {
                    "feature_flag_variants": [
                        {"key": "control", "split_percent": 50},
                        {"key": "b", "split_percent": 40},
                    ]
                },
            },
            "Invalid variant definitions: Variant rollout percentages must sum to 100.",
            "filters",
        ),
        (
            {
                "name": "x",
                "feature_flag_key": "k",
                "start_date": "2026-02-01T00:00:00Z",
                "end_date": "2026-01-01T00:00:00Z",
            },
            "End date must be after start date",
            None,
        ),
        (
            {"name": "x", "feature_flag_key": "k", "holdout_id": 123456},
            'Invalid pk "123456" - object does not exist.',
            "holdout_id",
        ),
        (
            {"name": "x", "feature_flag_key": "k", "saved_metrics_ids": [{"id": 999}]},
            "Saved metric does not exist or does not belong to this project",
            "saved_metrics_ids",
        ),
        (
            {"name": "x", "feature_flag_key": "k", "stats_config": {"method": "magic"}},
            "Invalid stats method: 'magic'. Must be one of: bayesian, frequentist",
            None,
        ),
        ({"name": "  ", "feature_flag_key": "k"}, "This field may not be blank.", "name"),
        ({"feature_flag_key": "k"}, "This field is required.", "name"),
    ]
    before = api.get(f"{P}/experiments/?limit=1000").json()["count"]
    flags_before = api.get(f"{P}/experiments/eligible_feature_flags/?limit=100").json()["count"]
    for body, detail, attr in cases:
        response = api.post(f"{P}/experiments/", json_body=body)
        error = assert_error(response, 400, detail, attr=attr)
        assert error["type"] == "validation_error"
    assert api.get(f"{P}/experiments/?limit=1000").json()["count"] == before
    assert api.get(f"{P}/experiments/eligible_feature_flags/?limit=100").json()["count"] == flags_before


def test_create_links_existing_flag(api):
    exp = create(api, name="Reuse", feature_flag_key="ai-summary-beta")
    assert [v["key"] for v in exp["feature_flag"]["filters"]["multivariate"]["variants"]] == [
        "control",
        "concise",
        "detailed",
    ]
    response = api.post(f"{P}/experiments/", json_body={"name": "Bool", "feature_flag_key": "dark-mode-default"})
    assert_error(response, 400, "Feature flag must have at least 2 variants (control and at least one test variant)")


def test_patch_rules(api):
    exp = create(api)
    patched = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"description": "new", "name": "Renamed"})
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"type": "web"}),
        400,
        "Can't update keys: type on Experiment",
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"feature_flag_key": "other"}),
        400,
        "Can't update keys: get_feature_flag_key on Experiment",
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"filters": {"properties": [{"key": "x"}]}}),
        400,
        "Experiments do not support global filter properties",
    )
    # draft: parameters sync the flag and are replaced whole
    variants = [{"key": "control", "split_percent": 70}, {"key": "test", "split_percent": 30}]
    synced = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"parameters": {"feature_flag_variants": variants}})
    assert synced.status_code == 200
    body = synced.json()
    assert body["parameters"] == {
        "feature_flag_variants": [
            {"key": "control", "rollout_percentage": 70, "split_percent": 70},
            {"key": "test", "rollout_percentage": 30, "split_percent": 30},
        ]
    }
    assert [v["rollout_percentage"] for v in body["feature_flag"]["filters"]["multivariate"]["variants"]] == [70, 30]
    act(api, exp["id"], "launch")
    assert_error(
        api.patch(
            f"{P}/experiments/{exp['id']}/",
            json_body={
                "parameters": {
                    "feature_flag_variants": [
                        {"key": "control", "split_percent": 50},
                        {"key": "new", "split_percent": 50},
                    ]
                }
            },
        ),
        400,
        "Can't update feature_flag_variants on Experiment",
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"holdout_id": 1}),
        400,
        "Can't update holdout on running Experiment",
    )
    # running: same keys, new split, flag untouched without update_feature_flag_params
    running = api.patch(
        f"{P}/experiments/{exp['id']}/",
        json_body={
            "parameters": {
                "feature_flag_variants": [{"key": "control", "split_percent": 50}, {"key": "test", "split_percent": 50}]
            }
        },
    ).json()
    assert [v["rollout_percentage"] for v in running["feature_flag"]["filters"]["multivariate"]["variants"]] == [70, 30]
    updated = api.patch(
        f"{P}/experiments/{exp['id']}/",
        json_body={
            "update_feature_flag_params": True,
            "parameters": {
                "feature_flag_variants": [{"key": "control", "split_percent": 50}, {"key": "test", "split_percent": 50}]
            },
        },
    ).json()
    assert [v["rollout_percentage"] for v in updated["feature_flag"]["filters"]["multivariate"]["variants"]] == [50, 50]


def test_patch_start_date_launches_and_soft_delete_restore(api):
    exp = create(api)
    launched = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"start_date": "2026-11-19T00:00:00Z"}).json()
    assert launched["status"] == "running" and launched["feature_flag"]["active"] is True
    deleted = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"deleted": True})
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert_error(api.get(f"{P}/experiments/{exp['id']}/"), 404, "Not found.")
    assert exp["id"] not in [e["id"] for e in api.get(f"{P}/experiments/?limit=500").json()["results"]]
    restored = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"deleted": False})
    assert restored.status_code == 200
    assert api.get(f"{P}/experiments/{exp['id']}/").status_code == 200


def test_put_requires_full_body(api):
    exp = create(api)
    assert_error(api.put(f"{P}/experiments/{exp['id']}/", json_body={"name": "only"}), 400, attr="feature_flag_key")
    put = api.put(
        f"{P}/experiments/{exp['id']}/",
        json_body={"name": "Full", "feature_flag_key": exp["feature_flag_key"], "description": "d"},
    )
    assert put.status_code == 200 and put.json()["name"] == "Full"


def test_delete_is_405_with_empty_body(api):
    exp = create(api)
    response = api.delete(f"{P}/experiments/{exp['id']}/")
    assert response.status_code == 405 and response.content == b""
    assert api.get(f"{P}/experiments/{exp['id']}/").status_code == 200


def test_duplicate_names_and_shared_flag(api):
    exp = create(
        api,
        metrics=[
            {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "EventsNode", "event": "$pageview"}}
        ],
    )
    first = act(api, exp["id"], "duplicate", status=201)
    second = act(api, exp["id"], "duplicate", status=201)
    third = act(api, exp["id"], "duplicate", status=201)
    assert [first["name"], second["name"], third["name"]] == [
        "Pricing test (Copy)",
        "Pricing test (Copy) 1",
        "Pricing test (Copy) 2",
    ]
    assert first["feature_flag"]["id"] == exp["feature_flag"]["id"] and first["status"] == "draft"
    assert first["metrics"][0]["uuid"] != exp["metrics"][0]["uuid"]
    assert first["primary_metrics_ordered_uuids"] == [first["metrics"][0]["uuid"]]
    named = act(api, exp["id"], "duplicate", {"name": "Fresh", "feature_flag_key": "fresh-flag"}, status=201)
    assert named["name"] == "Fresh" and named["feature_flag_key"] == "fresh-flag"


def test_copy_to_project(api):
    exp = create(api)
    copied = act(api, exp["id"], "copy_to_project", {"target_team_id": 2}, status=201)
    assert copied["feature_flag"]["team_id"] == 2 and copied["status"] == "draft"
    assert api.get(f"/api/projects/2/experiments/{copied['id']}/").status_code == 200
    assert api.get(f"{P}/experiments/{copied['id']}/").status_code == 404
    response = api.post(f"{P}/experiments/{exp['id']}/copy_to_project/", json_body={"target_team_id": 77})
    assert response.status_code == 404 and response.json() == {"detail": "Target team not found."}


def test_exposure_cohort(api):
    exp = create(api, metrics=[mean()])
    api.patch(f"{P}/experiments/{exp['id']}/", json_body={"start_date": "2026-11-15T00:00:00Z"})
    cohort = act(api, exp["id"], "create_exposure_cohort_for_experiment", status=201)["cohort"]
    assert cohort["name"] == 'Users exposed to experiment "Pricing test"'
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["exposure_cohort"] == cohort["id"]


def test_stats_eligible_flags_and_requires_flag_implementation(api):
    stats = api.get(f"{P}/experiments/stats/").json()
    assert set(stats) == {
        "launched_last_30d",
        "launched_previous_30d",
        "percent_change",
        "active_experiments",
        "completed_last_30d",
    }
    assert stats["active_experiments"] >= 4
    flags = api.get(f"{P}/experiments/eligible_feature_flags/?search=ai-summary").json()
    assert flags["count"] == 1 and flags["results"][0]["key"] == "ai-summary-beta"
    assert api.get(f"{P}/experiments/eligible_feature_flags/?order=bogus").status_code == 400
    assert api.get(f"{P}/experiments/requires_flag_implementation/").json() == {"result": False}
