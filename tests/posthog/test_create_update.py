"""Create and update rules of PostHog's experiment service: defaults, flag sync, links and metric order."""

from __future__ import annotations

from tests.posthog.helpers import (
    P,
    assert_error,
    assert_field_error,
    create,
    create_saved_metric,
    mean,
    patch,
    posthog_state,
    variants,
)

REFRESH = "This is likely a frontend bug - please refresh and try again."


def test_create_merges_posthogs_defaults(api):
    exp = create(api)
    assert exp["exposure_criteria"] == {"filterTestAccounts": True}
    assert exp["stats_config"] == {"method": "bayesian"}
    assert exp["type"] == "product" and exp["description"] == "" and exp["secondary_metrics"] == []
    assert exp["metrics"] == [] and exp["primary_metrics_ordered_uuids"] is None  # no metrics sent: no order yet
    merged = create(
        api,
        feature_flag_key="merged",
        exposure_criteria={"multiple_variant_handling": "first_seen"},
        stats_config={"baseline_variant_key": "test"},
    )
    assert merged["exposure_criteria"] == {"multiple_variant_handling": "first_seen", "filterTestAccounts": True}
    assert merged["stats_config"] == {"baseline_variant_key": "test", "method": "bayesian"}
    kept = create(
        api,
        feature_flag_key="kept",
        exposure_criteria={"filterTestAccounts": False},
        stats_config={"method": "frequentist"},
        description=None,
        type=None,
    )
    assert kept["exposure_criteria"] == {"filterTestAccounts": False} and kept["stats_config"] == {
        "method": "frequentist"
    }
    assert kept["description"] is None and kept["type"] is None  # sent null stays null


def test_update_does_not_merge_defaults(api):
    exp = create(api)
    assert patch(api, exp["id"], {"stats_config": {}, "exposure_criteria": {}})["stats_config"] == {}


def test_parameters_are_stored_as_sent_even_when_an_existing_flag_is_linked(api):
    sent = variants(("control", 70), ("test", 30))
    exp = create(api, feature_flag_key="new-pricing-table", parameters=sent)
    assert [v["rollout_percentage"] for v in exp["feature_flag"]["filters"]["multivariate"]["variants"]] == [50, 50]
    assert exp["parameters"]["feature_flag_variants"] == [
        {"key": "control", "rollout_percentage": 70, "split_percent": 70},
        {"key": "test", "rollout_percentage": 30, "split_percent": 30},
    ]


def test_new_flag_follows_parameters(api):
    exp = create(
        api,
        parameters={
            **variants(("Control", 34), ("a", 33), ("b", 33)),
            "rollout_percentage": 40,
            "aggregation_group_type_index": 1,
            "feature_flag_payloads": {"a": '{"x": 1}'},
            "ensure_experience_continuity": True,
        },
    )
    flag = exp["feature_flag"]
    assert flag["filters"]["groups"] == [{"properties": [], "rollout_percentage": 40}]
    assert [v["key"] for v in flag["filters"]["multivariate"]["variants"]] == ["control", "a", "b"]
    assert flag["filters"]["aggregation_group_type_index"] == 1 and flag["filters"]["payloads"] == {"a": '{"x": 1}'}
    assert flag["ensure_experience_continuity"] is True and flag["active"] is False


def test_update_keeps_the_flags_rollout_unless_sent(api):
    exp = create(api, parameters={**variants(("control", 50), ("test", 50)), "rollout_percentage": 60})
    assert exp["feature_flag"]["filters"]["groups"][0]["rollout_percentage"] == 60
    kept = patch(api, exp["id"], {"parameters": variants(("control", 70), ("test", 30))})["feature_flag"]
    assert kept["filters"]["groups"][0]["rollout_percentage"] == 60
    assert [v["rollout_percentage"] for v in kept["filters"]["multivariate"]["variants"]] == [70, 30]
    moved = patch(api, exp["id"], {"parameters": {**variants(("control", 50), ("test", 50)), "rollout_percentage": 25}})
    assert moved["feature_flag"]["filters"]["groups"][0]["rollout_percentage"] == 25
    assert moved["feature_flag"]["version"] == exp["feature_flag"]["version"] + 2


def test_saved_metrics_ids_replaces_links_and_null_unlinks_all(api):
    first, second = create_saved_metric(api, "First"), create_saved_metric(api, "Second")
    exp = create(
        api,
        metrics=[mean()],
        saved_metrics_ids=[
            {"id": first["id"], "metadata": {"type": "primary"}},
            {"id": second["id"], "metadata": {"type": "secondary"}},
        ],
    )
    inline = exp["metrics"][0]["uuid"]
    assert exp["primary_metrics_ordered_uuids"] == [inline, first["query"]["uuid"]]
    assert exp["secondary_metrics_ordered_uuids"] == [second["query"]["uuid"]]
    kept_link = exp["saved_metrics"][0]
    replaced = patch(api, exp["id"], {"saved_metrics_ids": [{"id": first["id"], "metadata": {"type": "primary"}}]})
    assert [link["id"] for link in replaced["saved_metrics"]] == [kept_link["id"]]  # kept links keep id and time
    assert replaced["saved_metrics"][0]["created_at"] == kept_link["created_at"]
    assert replaced["secondary_metrics_ordered_uuids"] == []
    unlinked = patch(api, exp["id"], {"saved_metrics_ids": None})
    assert unlinked["saved_metrics"] == [] and unlinked["primary_metrics_ordered_uuids"] == [inline]


def test_metadata_type_is_free_text_checked_only_for_presence(api):
    metric = create_saved_metric(api)
    exp = create(api, saved_metrics_ids=[{"id": metric["id"], "metadata": {"type": "tertiary", "note": 1}}])
    assert exp["saved_metrics"][0]["metadata"] == {"type": "tertiary", "note": 1}
    assert exp["secondary_metrics_ordered_uuids"] == [metric["query"]["uuid"]]  # anything but primary is secondary
    assert exp["primary_metrics_ordered_uuids"] == []
    relinked = patch(
        api, exp["id"], {"saved_metrics_ids": [{"id": metric["id"]}]}
    )  # on update metadata may be left out
    assert relinked["saved_metrics"][0]["metadata"] == {}
    assert relinked["primary_metrics_ordered_uuids"] == [metric["query"]["uuid"]]
    assert relinked["secondary_metrics_ordered_uuids"] == []


def test_metric_order_must_name_every_metric(api):
    exp = create(api, metrics=[mean("a"), mean("b")], allow_unknown_events=True)  # events never ingested
    uuids = [m["uuid"] for m in exp["metrics"]]
    assert exp["primary_metrics_ordered_uuids"] == uuids
    before = posthog_state(api)
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"primary_metrics_ordered_uuids": [uuids[1]]}),
        400,
        f"primary_metrics_ordered_uuids is missing UUIDs: ['{uuids[0]}']. {REFRESH}",
        attr=None,
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"primary_metrics_ordered_uuids": None}),
        400,
        f"primary_metrics_ordered_uuids is null but primary metrics exist. {REFRESH}",
    )
    assert posthog_state(api) == before
    reordered = patch(api, exp["id"], {"primary_metrics_ordered_uuids": [uuids[1], uuids[0], "extra"]})
    assert reordered["primary_metrics_ordered_uuids"] == [uuids[1], uuids[0], "extra"]  # unknown entries are kept
    replaced = patch(api, exp["id"], {"metrics": [reordered["metrics"][1], mean("c")], "allow_unknown_events": True})
    assert replaced["primary_metrics_ordered_uuids"] == [uuids[1], "extra", replaced["metrics"][1]["uuid"]]


def test_metric_uuids_are_unique_across_lists_and_links(api):
    metric = create_saved_metric(api)
    exp = create(
        api,
        metrics=[mean("a", uuid="same"), mean("b", uuid="same")],
        metrics_secondary=[mean("c", uuid="same"), mean("d", uuid=metric["query"]["uuid"])],
        saved_metrics_ids=[{"id": metric["id"], "metadata": {"type": "secondary"}}],
        allow_unknown_events=True,
    )
    uuids = [m["uuid"] for m in exp["metrics"] + exp["metrics_secondary"]]
    assert uuids[0] == "same" and len(set(uuids) | {metric["query"]["uuid"]}) == 5


def test_launch_via_update_needs_a_launchable_flag(api):
    exp = create(api, feature_flag_key="ai-summary-beta")
    launched = patch(api, exp["id"], {"start_date": "2026-11-19T00:00"})
    assert launched["status"] == "running" and launched["feature_flag"]["active"] is True


def test_locks_once_launched(api):
    exp = create(api, holdout_id=1)
    patch(api, exp["id"], {"start_date": "2026-11-19T00:00"})
    assert patch(api, exp["id"], {"holdout_id": 1, "name": "same holdout is fine"})["holdout_id"] == 1
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"holdout_id": None}),
        400,
        "Can't update holdout on running Experiment",
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"parameters": variants(("control", 50), ("new", 50))}),
        400,
        "Can't update feature_flag_variants on Experiment",
    )


def test_a_draft_update_carries_the_holdout_to_the_flag(api):
    exp = create(api)
    assert patch(api, exp["id"], {"holdout_id": 2})["feature_flag"]["filters"]["holdout"] == {
        "id": 2,
        "exclusion_percentage": 10,
    }
    assert patch(api, exp["id"], {"holdout_id": None})["feature_flag"]["filters"]["holdout"] is None


def test_create_with_an_unknown_link_changes_nothing(api):
    before = posthog_state(api)
    response = api.post(
        f"{P}/experiments/",
        json_body={
            "name": "x",
            "feature_flag_key": "x",
            "saved_metrics_ids": [{"id": 999, "metadata": {"type": "primary"}}],
        },
    )
    assert_field_error(
        response, "saved_metrics_ids", "invalid_input", "Saved metric does not exist or does not belong to this project"
    )
    assert posthog_state(api) == before
