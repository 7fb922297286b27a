"""Metrics checked as PostHog checks them: inline on experiments, and as shared metrics."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import (
    LEGACY_SAVED_METRIC_ID,
    P,
    assert_error,
    assert_field_error,
    create,
    create_saved_metric,
    funnel,
    mean,
    patch,
    posthog_state,
)

MISSING = "'type': 'missing', 'msg': 'Field required'"

# (metric, message after "Invalid metric at index 0: ")
INLINE = [
    (
        {"kind": "ExperimentMetric", "metric_type": "mean"},
        f"[{{'loc': ('ExperimentMeanMetric', 'source'), {MISSING}}}].",
    ),
    (
        {"kind": "ExperimentMetric", "metric_type": "funnel"},
        f"[{{'loc': ('ExperimentFunnelMetric', 'series'), {MISSING}}}].",
    ),
    (
        {"kind": "ExperimentMetric", "metric_type": "ratio", "numerator": {"kind": "EventsNode", "event": "a"}},
        f"[{{'loc': ('ExperimentRatioMetric', 'denominator'), {MISSING}}}].",
    ),
    (
        {
            "kind": "ExperimentMetric",
            "metric_type": "retention",
            "start_event": {"kind": "EventsNode", "event": "a"},
            "completion_event": {"kind": "EventsNode", "event": "b"},
        },
        f"[{{'loc': ('ExperimentRetentionMetric', 'retention_window_end'), {MISSING}}}, "
        f"{{'loc': ('ExperimentRetentionMetric', 'retention_window_start'), {MISSING}}}, "
        f"{{'loc': ('ExperimentRetentionMetric', 'retention_window_unit'), {MISSING}}}, "
        f"{{'loc': ('ExperimentRetentionMetric', 'start_handling'), {MISSING}}}].",
    ),
    (
        {"kind": "ExperimentMetric", "metric_type": "funnel", "series": []},
        "funnel metrics require at least one step. "
        "The experiment exposure event is added as the initial step automatically.",
    ),
    (
        mean(goal="sideways"),
        "[{'loc': ('ExperimentMeanMetric', 'goal'), 'type': 'enum', "
        "'msg': \"Input should be 'increase' or 'decrease'\"}].",
    ),
    (
        {**mean(), "colour": "red"},
        "[{'loc': ('ExperimentMeanMetric', 'colour'), 'type': 'extra_forbidden', "
        "'msg': 'Extra inputs are not permitted'}].",
    ),
    (
        {"kind": "ExperimentTrendsQuery", "count_query": {}},
        "legacy metric kind 'ExperimentTrendsQuery' is no longer supported for new experiments. "
        "Use 'ExperimentMetric' instead.",
    ),
    ({"kind": "EventsNode"}, "metric kind must be 'ExperimentMetric'"),
]


@pytest.mark.parametrize(("metric", "message"), INLINE, ids=[f"{i:02d}" for i in range(len(INLINE))])
def test_inline_metrics_need_their_type_parts(api, metric, message):
    before = posthog_state(api)
    response = api.post(f"{P}/experiments/", json_body={"name": "m", "feature_flag_key": "m", "metrics": [metric]})
    assert_field_error(response, "metrics", "invalid_input", f"Invalid metric at index 0: {message}")
    assert posthog_state(api) == before


def test_an_events_node_with_an_id_gets_posthogs_hint(api):
    metric = {"kind": "ExperimentMetric", "metric_type": "mean", "source": {"kind": "EventsNode", "id": 7}}
    response = api.post(f"{P}/experiments/", json_body={"name": "m", "feature_flag_key": "m", "metrics": [metric]})
    detail = assert_error(response, 400, attr="metrics")["detail"]
    assert detail.startswith(
        "Invalid metric at index 0: [{'loc': ('ExperimentMeanMetric', 'source', 'EventsNode', 'id')"
    )
    assert detail.endswith(
        "EventsNode does not accept an 'id' field. To reference an event, use {'kind': 'EventsNode', "
        "'event': '<event_name>'} (omit 'id'). To reference an action, switch to {'kind': 'ActionsNode', "
        "'id': <integer_action_id>} (omit 'event')."
    )


def test_an_unknown_metric_type_lists_every_class_at_most_fifteen(api):
    metric = {"kind": "ExperimentMetric", "metric_type": "median"}
    response = api.post(f"{P}/experiments/", json_body={"name": "m", "feature_flag_key": "m", "metrics": [metric]})
    detail = assert_error(response, 400, attr="metrics")["detail"]
    assert (
        "('ExperimentMeanMetric', 'metric_type'), 'type': 'literal_error', 'msg': \"Input should be 'mean'\"" in detail
    )
    assert detail.count("'loc'") == 14  # every class's metric_type and required parts (2 + 2 + 3 + 7)
    many = {**metric, **{f"extra_{i}": i for i in range(12)}}
    response = api.post(f"{P}/experiments/", json_body={"name": "m", "feature_flag_key": "m", "metrics": [many]})
    assert assert_error(response, 400)["detail"].endswith("{'truncated': '...47 more'}].")  # 14 + 4 x 12 extras


def test_valid_metrics_of_every_type_are_accepted(api):
    retention = {
        "kind": "ExperimentMetric",
        "metric_type": "retention",
        "start_event": {"kind": "EventsNode", "event": "signed_up"},
        "completion_event": {"kind": "ActionsNode", "id": 3},
        "retention_window_start": 1,
        "retention_window_end": 7,
        "retention_window_unit": "day",
        "start_handling": "first_seen",
    }
    ratio = {
        "kind": "ExperimentMetric",
        "metric_type": "ratio",
        "numerator": {"event": "purchase", "math": "sum", "math_property": "amount"},
        "denominator": {"kind": "EventsNode", "event": "$pageview"},
    }
    exp = create(
        api,
        metrics=[mean(goal="decrease"), funnel("a", "b")],
        metrics_secondary=[retention, ratio],
        allow_unknown_events=True,  # "a" and "b" were never ingested
    )
    assert [m["metric_type"] for m in exp["metrics"] + exp["metrics_secondary"]] == [
        "mean",
        "funnel",
        "retention",
        "ratio",
    ]
    assert all(len(m["uuid"]) == 36 and len(m["fingerprint"]) == 64 for m in exp["metrics"] + exp["metrics_secondary"])


def test_update_checks_metrics_too(api):
    exp = create(api)
    response = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"metrics": [{"kind": "ExperimentMetric"}]})
    detail = assert_error(response, 400, attr="metrics")["detail"]
    assert detail.startswith("Invalid metric at index 0: [")


def test_stats_config_method_and_baseline(api):
    response = api.post(
        f"{P}/experiments/", json_body={"name": "s", "feature_flag_key": "s", "stats_config": {"method": "magic"}}
    )
    assert_error(response, 400, "Invalid stats method: 'magic'. Must be one of: bayesian, frequentist", attr=None)
    response = api.post(
        f"{P}/experiments/",
        json_body={"name": "s", "feature_flag_key": "s", "stats_config": {"baseline_variant_key": "nope"}},
    )
    assert_error(response, 400, "Invalid baseline_variant_key: 'nope'. Must be one of: control, test", attr=None)
    linked = create(api, feature_flag_key="ai-summary-beta", stats_config={"baseline_variant_key": "concise"})
    assert linked["stats_config"] == {"baseline_variant_key": "concise", "method": "bayesian"}
    exp = create(api, stats_config={"baseline_variant_key": "test"})
    assert_error(
        api.patch(
            f"{P}/experiments/{exp['id']}/",
            json_body={
                "parameters": {
                    "feature_flag_variants": [
                        {"key": "control", "split_percent": 50},
                        {"key": "b", "split_percent": 50},
                    ]
                }
            },
        ),
        400,
        "Invalid baseline_variant_key: 'test'. Must be one of: b, control",
    )
    assert patch(api, exp["id"], {"stats_config": {"baseline_variant_key": "control"}})["stats_config"] == {
        "baseline_variant_key": "control"
    }


# ---------------------------------------------------------------------------------------------
# Shared metrics (PostHog's newest metric validator words these)

SAVED = [
    ({}, "Query is required to create a saved metric"),
    ([], "Query is required to create a saved metric"),
    ("text", "Invalid metric: must be a dict"),
    (
        {"kind": "ExperimentTrendsQuery"},
        "Invalid metric: legacy metric kind 'ExperimentTrendsQuery' is no longer supported. "
        "Use 'ExperimentMetric' instead.",
    ),
    ({"kind": "TrendsQuery"}, "Invalid metric: metric kind must be 'ExperimentMetric'"),
    ({"kind": "ExperimentMetric"}, "Invalid metric: ExperimentMetric requires a metric_type"),
    (
        {"kind": "ExperimentMetric", "metric_type": "median"},
        "Invalid metric: ExperimentMetric metric_type must be 'mean', 'funnel', 'ratio', or 'retention'",
    ),
    (
        {"kind": "ExperimentMetric", "metric_type": "mean"},
        f"Invalid metric: [{{'loc': ('mean', 'source'), {MISSING}}}].",
    ),
    (
        {**mean(), "threshold": 5, "source": {"kind": "EventsNode", "event": "x", "math": "dau"}},
        "Invalid metric: a threshold is only supported for sum or count (total) math types.",
    ),
]


@pytest.mark.parametrize(("query", "message"), SAVED, ids=[f"{i:02d}" for i in range(len(SAVED))])
def test_shared_metric_queries_answer_posthogs_messages(api, query, message):
    before = posthog_state(api)
    response = api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "m", "query": query})
    assert_error(response, 400, message, "invalid_input", None)
    assert posthog_state(api) == before


def test_shared_metric_uuid_is_the_servers_and_legacy_ones_are_frozen(api):
    metric = create_saved_metric(api, query={**mean(), "uuid": "mine"})
    assert metric["query"]["uuid"] != "mine" and len(metric["query"]["uuid"]) == 36
    path = f"{P}/experiment_saved_metrics/{metric['id']}/"
    assert_error(
        api.patch(path, json_body={"query": {**mean(), "uuid": "x"}}), 400, "Saved metric UUID cannot be changed"
    )
    kept = api.patch(path, json_body={"query": mean("other")}).json()
    assert kept["query"]["uuid"] == metric["query"]["uuid"] and kept["query"]["source"]["event"] == "other"
    assert_error(
        api.patch(f"{P}/experiment_saved_metrics/{LEGACY_SAVED_METRIC_ID}/", json_body={"name": "renamed"}),
        400,
        "This saved metric uses a legacy query format and cannot be updated. "
        "Please create a new saved metric with the ExperimentMetric format instead.",
    )
