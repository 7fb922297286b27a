"""Metrics that name actions or events: PostHog's 400s for unknown actions and never-ingested events."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import P, assert_error, create

ACTION_ERROR = (
    "Action(s) with ID {} not found or deleted. Each ActionsNode must reference an existing action belonging "
    "to this project."
)
EVENT_ERROR = (
    "Event(s) {} not found. No events with these names have been ingested by this project. If you meant a "
    "different event, please correct it. Only if the user has explicitly confirmed they want to proceed with the "
    "unknown event (e.g. they will instrument it shortly), call again with allow_unknown_events=True. Do not flip "
    "the flag silently to bypass this check."
)


def events_node(event):
    return {"kind": "EventsNode", "event": event}


def actions_node(action_id):
    return {"kind": "ActionsNode", "id": action_id}


def mean(node):
    return {"kind": "ExperimentMetric", "metric_type": "mean", "source": node}


def funnel(*nodes):
    return {"kind": "ExperimentMetric", "metric_type": "funnel", "series": list(nodes)}


def _count(api):
    return api.get(f"{P}/experiments/").json()["count"], api.get(f"{P}/feature_flags/").json()["count"]


def _refused(api, body, detail):
    before = _count(api)
    assert_error(
        api.post(f"{P}/experiments/", json_body={"name": "Refs", "feature_flag_key": "refs", **body}),
        400,
        detail,
        "invalid_input",
        None,
    )
    assert _count(api) == before  # neither the experiment nor its flag was created


def test_never_ingested_events_are_refused(api):
    _refused(api, {"metrics": [mean(events_node("zeta_clicked")), funnel(events_node("alpha_seen"))]},
             EVENT_ERROR.format("'alpha_seen', 'zeta_clicked'"))  # fmt: skip
    _refused(api, {"metrics_secondary": [mean(events_node("nope"))]}, EVENT_ERROR.format("'nope'"))


def test_allow_unknown_events_waives_the_event_check_only(api):
    exp = create(api, metrics=[mean(events_node("nope"))], allow_unknown_events=True)
    assert exp["metrics"][0]["source"]["event"] == "nope"
    _refused(api, {"metrics": [mean(actions_node(99))], "allow_unknown_events": True}, ACTION_ERROR.format(99))


def test_known_events_actions_and_all_events_pass(api):
    metrics = [
        mean(events_node("purchase_completed")),
        funnel(events_node("$pageview"), actions_node(1)),
        mean(events_node(None)),  # all events
        mean(events_node("  ")),
        {
            "kind": "ExperimentMetric",
            "metric_type": "ratio",
            "numerator": actions_node(2),
            "denominator": events_node("signed_up"),
        },
    ]
    assert len(create(api, metrics=metrics)["metrics"]) == 5


@pytest.mark.parametrize(
    ("metric", "detail"),
    [
        ({"metric_type": "ratio", "numerator": events_node("n"), "denominator": events_node("d")}, "'d', 'n'"),
        (
            {
                "metric_type": "retention",
                "start_event": events_node("s"),
                "completion_event": events_node("c"),
                "retention_window_start": 1,
                "retention_window_end": 7,
                "retention_window_unit": "day",
                "start_handling": "first_seen",
            },
            "'c', 's'",
        ),
    ],
)
def test_every_entity_node_of_a_metric_is_checked(api, metric, detail):
    _refused(api, {"metrics": [{"kind": "ExperimentMetric", **metric}]}, EVENT_ERROR.format(detail))


def test_actions_must_be_live_and_in_the_project(api):
    deleted = api.post(f"{P}/actions/", json_body={"name": "Gone", "deleted": True}).json()["id"]
    other_project = api.get("/api/projects/2/actions/").json()["results"][0]["id"]
    _refused(api, {"metrics": [funnel(actions_node(deleted), actions_node(other_project), actions_node(1))]},
             ACTION_ERROR.format(f"{other_project}, {deleted}"))  # fmt: skip


def test_actions_of_both_lists_are_checked_before_events(api):
    body = {"metrics": [mean(events_node("nope"))], "metrics_secondary": [mean(actions_node(77))]}
    _refused(api, body, ACTION_ERROR.format(77))


def test_ingesting_or_defining_an_event_makes_it_known(api):
    _refused(api, {"metrics": [mean(events_node("trial_started"))]}, EVENT_ERROR.format("'trial_started'"))
    api.post("/__admin/posthog/ingested-events", json_body={"events": ["trial_started"]})
    create(api, metrics=[mean(events_node("trial_started"))])
    api.post(f"{P}/event_definitions/", json_body={"name": "plan_chosen"})
    create(api, name="Defined", feature_flag_key="defined", metrics=[mean(events_node("plan_chosen"))])


def test_events_are_per_project(api):
    api.post("/__admin/posthog/ingested-events", json_body={"project_id": 2, "events": ["mobile_only"]})
    _refused(api, {"metrics": [mean(events_node("mobile_only"))]}, EVENT_ERROR.format("'mobile_only'"))
    body = {"name": "Mobile", "feature_flag_key": "mobile", "metrics": [mean(events_node("mobile_only"))]}
    assert api.post("/api/projects/2/experiments/", json_body=body).status_code == 201


def test_update_checks_the_metric_lists_it_sends(api):
    exp = create(api, metrics=[mean(events_node("nope"))], allow_unknown_events=True)
    # A PATCH without metrics is not checked, whatever the stored ones name.
    assert api.patch(f"{P}/experiments/{exp['id']}/", json_body={"description": "d"}).status_code == 200
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"metrics": exp["metrics"]}),
        400,
        EVENT_ERROR.format("'nope'"),
    )
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"metrics_secondary": [mean(actions_node(50))]}),
        400,
        ACTION_ERROR.format(50),
    )
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["metrics_secondary"] == []
    allowed = api.patch(
        f"{P}/experiments/{exp['id']}/", json_body={"metrics": exp["metrics"], "allow_unknown_events": True}
    )
    assert allowed.status_code == 200, allowed.text


def test_copies_skip_the_event_check_but_not_the_action_check(api):
    exp = create(api, metrics=[mean(events_node("nope")), mean(actions_node(1))], allow_unknown_events=True)
    duplicate = api.post(f"{P}/experiments/{exp['id']}/duplicate/", json_body={"feature_flag_key": "dup"})
    assert duplicate.status_code == 201, duplicate.text
    before = api.get("/api/projects/2/experiments/").json()["count"]
    assert_error(
        api.post(f"{P}/experiments/{exp['id']}/copy_to_project/", json_body={"target_team_id": 2}),
        400,
        ACTION_ERROR.format(1),  # action 1 belongs to project 1, not to the target
    )
    assert api.get("/api/projects/2/experiments/").json()["count"] == before


def test_saved_metrics_check_actions_not_events(api):
    def post(query):
        return api.post(f"{P}/experiment_saved_metrics/", json_body={"name": f"M {len(str(query))}", "query": query})

    assert post(mean(events_node("never_seen"))).status_code == 201  # PostHog checks no event names here
    assert_error(post(mean(actions_node(42))), 400, ACTION_ERROR.format(42), "invalid_input", None)
    created = post(mean(actions_node(1))).json()
    assert_error(
        api.patch(f"{P}/experiment_saved_metrics/{created['id']}/", json_body={"query": mean(actions_node(43))}),
        400,
        ACTION_ERROR.format(43),
    )


STAMPS = {"created_at": "2026-01-01T00:00:00Z", "last_calculated_at": "2026-01-01T00:00:00Z"}


def test_saved_metric_update_may_resend_an_action_deleted_since(api):
    document = {
        "format": "mockserver/state@1",
        "patch": {
            "posthog": {
                "actions": {
                    "40": {"id": 40, "team_id": 1, "name": "Retired", "deleted": True, "steps": [], **STAMPS},
                    "41": {"id": 41, "team_id": 1, "name": "Also retired", "deleted": True, "steps": [], **STAMPS},
                },
                # merge patch: the seeded funnel becomes a mean (null removes its series)
                "saved_metrics": {"1": {"query": {"source": actions_node(40), "metric_type": "mean", "series": None}}},
            }
        },
    }
    assert api.put("/__admin/state", json_body=document).status_code == 200
    query = api.get(f"{P}/experiment_saved_metrics/1/").json()["query"]
    assert api.patch(f"{P}/experiment_saved_metrics/1/", json_body={"query": query}).status_code == 200
    query["source"] = actions_node(41)
    assert_error(
        api.patch(f"{P}/experiment_saved_metrics/1/", json_body={"query": query}), 400, ACTION_ERROR.format(41)
    )


def test_a_state_document_can_say_which_events_were_ingested(api):
    uid = "0b5ea2a4-3a5f-4c0e-9a53-0d9f0d7a8c11"
    document = {
        "format": "mockserver/state@1",
        "patch": {"posthog": {"event_definitions": {uid: {"id": uid, "team_id": 1, "name": "from_fixture"}}}},
    }
    assert api.put("/__admin/state", json_body=document).status_code == 200
    create(api, metrics=[mean(events_node("from_fixture"))])
    listed = api.get(f"{P}/event_definitions/{uid}/").json()
    assert listed["name"] == "from_fixture" and listed["last_seen_at"] is None
    bad = {
        "format": "mockserver/state@1",
        "patch": {"posthog": {"event_definitions": {"x": {"id": "x", "team_id": 1}}}},
    }
    response = api.put("/__admin/state", json_body=bad)
    assert response.status_code == 400 and "event_definitions" in response.json()["field"]
