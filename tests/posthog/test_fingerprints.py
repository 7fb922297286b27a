"""Metric fingerprints: PostHog's algorithm (its own stored values), and when PostHog recomputes them."""

from __future__ import annotations

import pytest

from mockserver.vendors.posthog.fingerprints import metric_fingerprint
from tests.posthog.helpers import P, act, create, create_saved_metric, mean, patch, variants

START = "2026-01-05T09:30:00Z"
EXPOSURE = {"filterTestAccounts": True, "multiple_variant_handling": "first_seen"}
MEAN = {
    "kind": "ExperimentMetric",
    "metric_type": "mean",
    "uuid": "inline-mean",
    "name": "inline mean",
    "source": {"kind": "EventsNode", "event": "purchase", "math": "sum", "math_property": "amount"},
}
FUNNEL = {
    "kind": "ExperimentMetric",
    "metric_type": "funnel",
    "series": [{"kind": "EventsNode", "event": "signup"}, {"kind": "EventsNode", "event": "purchase"}],
}
BREAKDOWN = {"breakdownFilter": {"breakdowns": [{"type": "event", "property": "$os_name"}]}}

# Values PostHog's own tests pin (results stored under them must stay readable).
STORED = [
    (
        MEAN,
        START,
        "bayesian",
        EXPOSURE,
        False,
        ["test-2"],
        "8c4c170619bed04837934834898b06c80e1ffb081cfc83e50394e7a90809e7f1",
    ),
    (
        MEAN,
        START,
        "bayesian",
        EXPOSURE,
        True,
        ["test-2"],
        "170e5a30b8b04a520777ec3cccac4e055f7038b64dd547263499ee75ea1b71fc",
    ),
    (
        {**MEAN, **BREAKDOWN},
        START,
        "bayesian",
        EXPOSURE,
        False,
        ["test-2"],
        "d9418c3005318f3a0a6981b2b75f0206ffe7b7f84b4a2f7247932d1d97f4f467",
    ),
    (
        FUNNEL,
        START,
        "bayesian",
        EXPOSURE,
        False,
        ["test-2"],
        "2ec08b25f36bf0378e7bc215ae0e018dd676ad2e60e4e9a403bcbaa85906daab",
    ),
    (
        MEAN,
        START,
        "frequentist",
        EXPOSURE,
        False,
        ["test-2"],
        "547cdafd4eb1feb4e0141877cac89d7ebf5743a856167357afeebc506484d930",
    ),
    (
        MEAN,
        START,
        "bayesian",
        None,
        False,
        ["test-2"],
        "873e2ca8eccf41d7bc4c17c90bc7986c1a687a7ecd4efa9e2e6cc3dcb9fe319c",
    ),
    (
        MEAN,
        START,
        "bayesian",
        EXPOSURE,
        False,
        ["test-3", "test-2", "test-3"],
        "fb0618f7eca245137558b0df0ab259a6065ffb60d36141b2b2081456e5e70b9d",
    ),
    (MEAN, START, "bayesian", EXPOSURE, False, [], "6f5bef90e2346c391745571fdd712d894a314d2087e68ce97b96b9333b9caa9b"),
    (
        MEAN,
        None,
        "bayesian",
        EXPOSURE,
        False,
        ["test-2"],
        "db178cb6fac5e977163f9ce6a70cbc7ff99b3648f93c95ca3460415d600560a3",
    ),
    (
        {**MEAN, "breakdownFilter": {"breakdowns": []}},
        START,
        "bayesian",
        EXPOSURE,
        False,
        ["test-2"],
        "8c4c170619bed04837934834898b06c80e1ffb081cfc83e50394e7a90809e7f1",
    ),
]


@pytest.mark.parametrize("case", STORED, ids=[f"{i:02d}" for i in range(len(STORED))])
def test_same_input_same_value_as_posthog(case):
    *args, expected = case
    assert metric_fingerprint(*args) == expected


def _expected(metric, exp, *, matured=None, excluded=None):
    return metric_fingerprint(
        metric,
        exp["start_date"],
        exp["stats_config"].get("method"),
        exp["exposure_criteria"],
        exp["only_count_matured_users"] if matured is None else matured,
        excluded,
    )


def test_written_metrics_carry_posthogs_fingerprint(api):
    exp = create(api, metrics=[mean()], start_date="2026-11-01T10:00:00.25Z", only_count_matured_users=True)
    assert exp["metrics"][0]["fingerprint"] == _expected(exp["metrics"][0], exp)
    renamed = patch(api, exp["id"], {"metrics": [{**exp["metrics"][0], "name": "renamed"}]})
    assert renamed["metrics"][0]["fingerprint"] == exp["metrics"][0]["fingerprint"]  # a name is not part of it
    moved = patch(api, exp["id"], {"stats_config": {"method": "frequentist"}})
    assert moved["metrics"][0]["fingerprint"] == _expected(moved["metrics"][0], moved)
    assert moved["metrics"][0]["fingerprint"] != exp["metrics"][0]["fingerprint"]


def test_excluded_variants_in_parameters_count(api):
    exp = create(
        api,
        metrics=[mean()],
        parameters={**variants(("control", 34), ("a", 33), ("b", 33)), "excluded_variants": ["b"]},
    )
    assert exp["metrics"][0]["fingerprint"] == _expected(exp["metrics"][0], exp, excluded=["b"])


def test_launch_recomputes_without_the_matured_users_switch(api):
    exp = create(api, metrics=[mean()], only_count_matured_users=True)
    launched = act(api, exp["id"], "launch")
    metric = launched["metrics"][0]
    assert metric["fingerprint"] == _expected(metric, launched, matured=False)
    assert metric["fingerprint"] != exp["metrics"][0]["fingerprint"]
    reset = act(api, exp["id"], "reset")
    assert reset["metrics"][0]["fingerprint"] == metric["fingerprint"]  # reset leaves them as they were


def test_linked_shared_metrics_get_a_fingerprint_on_read(api):
    shared = create_saved_metric(api)
    exp = create(
        api, saved_metrics_ids=[{"id": shared["id"], "metadata": {"type": "primary"}}], start_date="2026-11-02"
    )
    query = exp["saved_metrics"][0]["query"]
    assert query["fingerprint"] == metric_fingerprint(
        shared["query"], "2026-11-02T00:00:00Z", "bayesian", {"filterTestAccounts": True}
    )
    assert "fingerprint" not in api.get(f"{P}/experiment_saved_metrics/{shared['id']}/").json()["query"]
