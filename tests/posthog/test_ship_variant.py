"""ship_variant: PostHog's serializer for it, and the flag rewrite PostHog does."""

from __future__ import annotations

from tests.posthog.helpers import P, act, assert_error, create, posthog_state, variants


def _running(api, **fields):
    exp = create(api, **fields)
    return act(api, exp["id"], "launch")


def test_the_winner_takes_the_split_and_conditions_stay(api):
    exp = _running(
        api,
        holdout_id=1,
        parameters={**variants(("control", 34), ("a", 33), ("b", 33)), "rollout_percentage": 80},
    )
    flag = exp["feature_flag"]
    assert flag["filters"]["holdout"] == {"id": 1, "exclusion_percentage": 5}
    shipped = act(api, exp["id"], "ship_variant", {"variant_key": "a", "release_to_everyone": True})
    new = shipped["feature_flag"]
    assert new["filters"] == {
        "aggregation_group_type_index": None,
        "payloads": {},
        "multivariate": {
            "variants": [
                {"key": "control", "rollout_percentage": 0},  # a variant without a name stays without one
                {"key": "a", "rollout_percentage": 100},
                {"key": "b", "rollout_percentage": 0},
            ]
        },
        "groups": [{"properties": [], "rollout_percentage": 80}],  # release_to_everyone is not read (G1)
    }
    assert new["version"] == flag["version"] + 1
    assert shipped["status"] == "stopped" and shipped["end_date"] == shipped["updated_at"]
    assert shipped["conclusion"] is None


def test_names_and_payloads_survive_the_rewrite(api):
    exp = _running(api, feature_flag_key="ai-summary-beta")
    shipped = act(api, exp["id"], "ship_variant", {"variant_key": "concise", "conclusion": "won"})
    assert shipped["feature_flag"]["filters"]["multivariate"]["variants"] == [
        {"key": "control", "rollout_percentage": 0, "name": "Control"},
        {"key": "concise", "rollout_percentage": 100, "name": "Concise"},
        {"key": "detailed", "rollout_percentage": 0, "name": "Detailed"},
    ]
    assert shipped["conclusion"] == "won"


def test_a_stopped_experiment_ships_without_a_new_end(api):
    exp = _running(api)
    ended = act(api, exp["id"], "end", {"conclusion": "lost", "conclusion_comment": "meh"})
    shipped = act(api, exp["id"], "ship_variant", {"variant_key": "test"})
    assert shipped["end_date"] == ended["end_date"]
    assert (shipped["conclusion"], shipped["conclusion_comment"]) == ("lost", "meh")  # kept unless sent


def test_refusals_change_nothing(api):
    draft = create(api)
    running = _running(api, feature_flag_key="other-key", name="Other")
    before = posthog_state(api)
    assert_error(
        api.post(f"{P}/experiments/{draft['id']}/ship_variant/", json_body={"variant_key": "test"}),
        400,
        "Experiment has not been launched yet.",
    )
    assert_error(
        api.post(f"{P}/experiments/{running['id']}/ship_variant/", json_body={"variant_key": 7}),
        400,
        "Variant '7' not found on feature flag.",
        attr=None,
    )
    assert_error(
        api.post(
            f"{P}/experiments/{running['id']}/ship_variant/", json_body={"variant_key": "test", "conclusion": "x"}
        ),
        400,
        '"x" is not a valid choice.',
        attr="conclusion",
    )
    assert posthog_state(api) == before
