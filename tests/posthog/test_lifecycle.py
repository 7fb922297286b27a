"""Lifecycle actions: each transition succeeds from the right status and fails with PostHog's message."""

from __future__ import annotations

import pytest

from mockserver.vendors.posthog.lifecycle import RULES, TRANSITIONS
from tests.posthog.helpers import P, act, assert_error, create


def test_full_lifecycle_draft_launch_pause_resume_end_archive(api):
    exp = create(api)
    assert exp["status"] == "draft" and exp["start_date"] is None
    assert exp["feature_flag"]["active"] is False
    running = act(api, exp["id"], "launch")
    assert running["status"] == "running" and running["start_date"]
    assert running["feature_flag"]["active"] is True
    paused = act(api, exp["id"], "pause")
    assert paused["status"] == "paused" and paused["feature_flag"]["active"] is False
    resumed = act(api, exp["id"], "resume")
    assert resumed["status"] == "running"
    ended = act(api, exp["id"], "end", {"conclusion": "won", "conclusion_comment": "clear win"})
    assert ended["status"] == "stopped" and ended["end_date"]
    assert (ended["conclusion"], ended["conclusion_comment"]) == ("won", "clear win")
    archived = act(api, exp["id"], "archive")
    assert archived["archived"] is True
    listed = api.get(f"{P}/experiments/?archived=true").json()["results"]
    assert exp["id"] in [e["id"] for e in listed]
    assert exp["id"] not in [e["id"] for e in api.get(f"{P}/experiments/").json()["results"]]
    unarchived = act(api, exp["id"], "unarchive")
    assert unarchived["archived"] is False
    reset = act(api, exp["id"], "reset")
    assert reset["status"] == "draft" and reset["start_date"] is None and reset["end_date"] is None
    assert reset["conclusion"] is None


FAILURES = [
    # (setup actions, failing action, message)
    ([], "pause", "Experiment has not been launched yet."),
    ([], "resume", "Experiment has not been launched yet."),
    ([], "end", "Experiment has not been launched yet."),
    ([], "ship_variant", "Experiment has not been launched yet."),
    ([], "reset", "Experiment is already in draft state."),
    ([], "archive", "Experiment must be ended before it can be archived."),
    ([], "unarchive", "Experiment is not archived."),
    ([], "create_exposure_cohort_for_experiment", "Experiment does not have a start date"),
    (["launch"], "launch", "Experiment has already been launched."),
    (["launch"], "resume", "Experiment is not paused."),
    (["launch"], "archive", "Experiment must be ended before it can be archived."),
    (["launch", "pause"], "pause", "Experiment is already paused."),
    (["launch", "end"], "end", "Experiment has already ended."),
    (["launch", "end"], "pause", "Experiment has already ended."),
    (["launch", "end"], "resume", "Experiment has already ended."),
    (["launch", "end", "archive"], "archive", "Experiment is already archived."),
    (
        ["launch", "create_exposure_cohort_for_experiment"],
        "create_exposure_cohort_for_experiment",
        "Experiment already has an exposure cohort",
    ),
]


@pytest.mark.parametrize(
    ("setup", "action", "message"), FAILURES, ids=[f"{'+'.join(s) or 'draft'}->{a}" for s, a, _ in FAILURES]
)
def test_lifecycle_precondition_failures(api, setup, action, message):
    exp = create(api)
    for step in setup:
        expected = 201 if step == "create_exposure_cohort_for_experiment" else 200
        act(api, exp["id"], step, status=expected)
    before = api.get(f"{P}/experiments/{exp['id']}/").json()
    body = {"variant_key": "test"} if action == "ship_variant" else None
    response = api.post(f"{P}/experiments/{exp['id']}/{action}/", json_body=body)
    assert_error(response, 400, message, "invalid_input", None)
    assert api.get(f"{P}/experiments/{exp['id']}/").json() == before  # nothing changed


def test_every_rule_message_is_exercised():
    exercised = {m for _s, _a, m in FAILURES}
    launch_messages = {m for _c, m in RULES["launch"]}
    missing = {m for rules in RULES.values() for _c, m in rules} - exercised - launch_messages
    missing -= {
        "Experiment does not have a feature flag linked.",
        "Experiment does not have a linked feature flag.",
        "Experiment does not have a feature flag",
        "Experiment has not been started yet",
        "Cannot recalculate timeseries for experiment that hasn't started",
    }
    assert not missing
    assert TRANSITIONS["launch"] == (("draft",), "running")


def test_launch_guards_on_linked_flag(client):
    state = client.app.extensions["mockserver"].store.data["posthog"]
    exp = create(client, feature_flag_key="guarded")
    flag = state["flags"][str(exp["feature_flag"]["id"])]
    flag["filters"]["multivariate"]["variants"] = [{"key": "only", "rollout_percentage": 100}]
    assert_error(
        client.post(f"{P}/experiments/{exp['id']}/launch/"),
        400,
        "Feature flag must have at least 2 variants (control and at least one test variant)",
    )
    flag["filters"]["multivariate"]["variants"] = [
        {"key": "a", "rollout_percentage": 50},
        {"key": "b", "rollout_percentage": 50},
    ]
    assert_error(
        client.post(f"{P}/experiments/{exp['id']}/launch/"), 400, "Feature flag must have a variant with key 'control'"
    )
    flag["deleted"] = True
    assert_error(
        client.post(f"{P}/experiments/{exp['id']}/launch/"),
        400,
        "Experiment cannot be launched because its feature flag has been deleted.",
    )


def test_ship_variant_rolls_out_winner_and_ends(api):
    exp = create(api)
    act(api, exp["id"], "launch")
    shipped = act(
        api, exp["id"], "ship_variant", {"variant_key": "test", "release_to_everyone": True, "conclusion": "won"}
    )
    assert shipped["status"] == "stopped" and shipped["conclusion"] == "won"
    variants = {
        v["key"]: v["rollout_percentage"] for v in shipped["feature_flag"]["filters"]["multivariate"]["variants"]
    }
    assert variants == {"control": 0, "test": 100}
    assert shipped["feature_flag"]["filters"]["groups"][0]["rollout_percentage"] == 100
    response = api.post(f"{P}/experiments/{exp['id']}/ship_variant/", json_body={"variant_key": "nope"})
    assert_error(response, 400, "Variant 'nope' not found on feature flag.")


def test_end_overwrites_conclusion_and_rejects_bad_choice(api):
    exp = create(api)
    act(api, exp["id"], "launch")
    response = api.post(f"{P}/experiments/{exp['id']}/end/", json_body={"conclusion": "meh"})
    body = assert_error(response, 400, attr="conclusion")
    assert body["type"] == "validation_error"
    ended = act(api, exp["id"], "end")
    assert ended["conclusion"] is None and ended["status"] == "stopped"


def test_actions_on_missing_or_deleted_experiment_are_404(api):
    assert_error(api.post(f"{P}/experiments/999999/launch/"), 404, "Not found.", "not_found")
    exp = create(api)
    assert api.patch(f"{P}/experiments/{exp['id']}/", json_body={"deleted": True}).status_code == 200
    assert_error(api.post(f"{P}/experiments/{exp['id']}/launch/"), 404, code="not_found")
