"""actions/ and event_definitions/, and recording ingested events through the control API."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import P, assert_error

ACTION_FIELDS = {
    "id",
    "name",
    "description",
    "tags",
    "post_to_slack",
    "slack_message_format",
    "steps",
    "created_at",
    "created_by",
    "deleted",
    "is_calculating",
    "last_calculated_at",
    "team_id",
    "is_action",
    "bytecode_error",
    "pinned_at",
    "creation_context",
    "user_access_level",
}
EVENT_FIELDS = {
    "id",
    "name",
    "owner",
    "description",
    "tags",
    "created_at",
    "updated_at",
    "updated_by",
    "last_seen_at",
    "verified",
    "verified_at",
    "verified_by",
    "hidden",
    "is_action",
    "post_to_slack",
    "default_columns",
}
NOW = "2026-11-20T12:00:00Z"


def _names(api, path):
    return [row["name"] for row in api.get(f"{P}/{path}").json()["results"]]


# -- actions ------------------------------------------------------------------------------------


def test_seeded_actions_and_default_order(api):
    body = api.get(f"{P}/actions/").json()
    assert set(body) == {"count", "results"} and body["count"] == 3
    assert [a["name"] for a in body["results"]] == ["Signed up", "Viewed pricing page", "Completed purchase"]
    assert set(body["results"][0]) == ACTION_FIELDS and body["results"][0]["steps"][0]["event"] == "signed_up"
    assert _names(api, "actions/?ordering=name") == ["Completed purchase", "Signed up", "Viewed pricing page"]
    assert _names(api, "actions/?ordering=-name")[0] == "Viewed pricing page"
    assert _names(api, "actions/?search=SIGN") == ["Signed up"]
    assert _names(api, "actions/?created_by=99") == []
    assert [a["name"] for a in api.get("/api/projects/2/actions/").json()["results"]] == ["Finished onboarding"]


def test_action_paging_is_opt_in(api):
    page = api.get(f"{P}/actions/?ordering=name&limit=1&offset=1").json()
    assert page["count"] == 3 and [a["name"] for a in page["results"]] == ["Signed up"]
    assert api.get(f"{P}/actions/?limit=abc").json()["count"] == 3  # not a number: ignored, as PostHog does
    skipped = api.get(f"{P}/actions/?offset=2").json()
    assert skipped["count"] == 3 and len(skipped["results"]) == 1  # without limit the count is offset + results


def test_create_action(api):
    steps = [{"event": "$pageview", "url": "/checkout", "isNew": True}, {"event": "$autocapture", "url_matching": None}]
    response = api.post(f"{P}/actions/", json_body={"name": "Checkout", "steps": steps, "tags": ["funnel"]})
    assert response.status_code == 201, response.text
    action = response.json()
    assert set(action) == ACTION_FIELDS
    assert action["team_id"] == 1 and action["is_action"] is True and action["deleted"] is False
    assert action["created_at"] == NOW and action["last_calculated_at"] == NOW and action["created_by"]["id"] == 1
    assert action["steps"][0]["url_matching"] == "contains" and action["steps"][1]["url_matching"] is None
    assert action["steps"][0]["url"] == "/checkout" and "isNew" not in action["steps"][0]
    assert api.get(f"{P}/actions/{action['id']}/").json() == action
    assert api.get(f"{P}/actions/").json()["results"][0]["id"] == action["id"]  # calculated last: listed first


@pytest.mark.parametrize(
    ("body", "detail", "code"),
    [
        ({"name": "  "}, "This field may not be blank.", "blank"),
        ({"name": "Signed up"}, "This project already has an action with this name, ID 3", "unique"),
    ],
)
def test_action_name_rules(api, body, detail, code):
    assert_error(api.post(f"{P}/actions/", json_body=body), 400, detail, code, "name")
    assert api.get(f"{P}/actions/").json()["count"] == 3


def test_deleted_actions_are_hidden_from_the_list_only(api):
    action = api.post(f"{P}/actions/", json_body={"name": "Old", "deleted": True}).json()
    assert "Old" not in _names(api, "actions/")
    assert api.get(f"{P}/actions/{action['id']}/").json()["deleted"] is True
    # A deleted action frees its name.
    assert api.post(f"{P}/actions/", json_body={"name": "Old"}).status_code == 201
    assert_error(api.get(f"/api/projects/2/actions/{action['id']}/"), 404, "Not found.")


# -- event definitions ----------------------------------------------------------------------------


def test_seeded_event_definitions(api):
    body = api.get(f"{P}/event_definitions/").json()
    names = [d["name"] for d in body["results"]]
    assert body["count"] == 9 and set(body["results"][0]) == EVENT_FIELDS
    assert {"$pageview", "signed_up", "purchase_completed", "$feature_flag_called"} <= set(names)
    days = [d["last_seen_at"][:10] for d in body["results"]]
    assert days == sorted(days, reverse=True)  # most recently seen day first, then by name
    assert _names(api, "event_definitions/?ordering=name") == sorted(names)
    assert _names(api, "event_definitions/?ordering=-name") == sorted(names, reverse=True)


def test_event_definition_filters(api):
    assert _names(api, "event_definitions/?event_type=event_posthog&ordering=name") == [
        "$feature_flag_called",
        "$pageview",
    ]
    assert all(not n.startswith("$") for n in _names(api, "event_definitions/?event_type=event_custom"))
    assert _names(api, "event_definitions/?search=completed%20purchase") == ["purchase_completed"]  # every word
    assert _names(api, "event_definitions/?search=page&excluded_properties=%5B%22%24pageview%22%5D") == []
    assert_error(api.get(f"{P}/event_definitions/?event_type=bogus"), 400, attr="event_type")


def test_define_an_event_before_it_is_ingested(api):
    response = api.post(f"{P}/event_definitions/", json_body={"name": "trial_started", "description": "d"})
    assert response.status_code == 201, response.text
    definition = response.json()
    assert definition["created_at"] is None and definition["last_seen_at"] is None  # no event yet
    assert definition["description"] == "d" and definition["updated_by"]["id"] == 1
    assert api.get(f"{P}/event_definitions/{definition['id']}/").json() == definition
    assert _names(api, "event_definitions/")[-1] == "trial_started"  # never seen: last
    verified = api.post(f"{P}/event_definitions/", json_body={"name": "paid", "verified": True}).json()
    assert verified["verified_by"]["id"] == 1 and verified["verified_at"] == NOW and verified["hidden"] is False


@pytest.mark.parametrize(
    ("body", "detail", "code", "attr"),
    [
        ({"name": "signed_up"}, "Event definition with name 'signed_up' already exists", "invalid_input", "name"),
        ({"name": "x", "hidden": True, "verified": True}, "An event cannot be both hidden and verified", None, None),
        ({"name": "x", "owner": 99}, 'Invalid pk "99" - object does not exist.', "does_not_exist", "owner"),
        ({}, "This field is required.", "required", "name"),
    ],
)
def test_event_definition_refusals(api, body, detail, code, attr):
    assert_error(api.post(f"{P}/event_definitions/", json_body=body), 400, detail, code, attr)
    assert api.get(f"{P}/event_definitions/").json()["count"] == 9


def test_event_definition_lookups(api):
    seeded = api.get(f"{P}/event_definitions/").json()["results"][0]
    assert api.get(f"{P}/event_definitions/{seeded['id']}/").json() == seeded
    assert_error(api.get(f"/api/projects/2/event_definitions/{seeded['id']}/"), 404, "Not found.")
    assert_error(api.get(f"{P}/event_definitions/not-a-uuid/"), 404, "Not found.")


# -- ingesting events through the control API ---------------------------------------------------


def test_ingesting_creates_or_refreshes_definitions(api):
    response = api.post("/__admin/posthog/ingested-events", json_body={"events": ["trial_started", "signed_up"]})
    assert response.status_code == 200, response.text
    rows = response.json()["event_definitions"]
    assert response.json()["project_id"] == 1 and [r["name"] for r in rows] == ["trial_started", "signed_up"]
    assert rows[0]["created_at"] == NOW and rows[0]["last_seen_at"] == NOW
    assert rows[1]["created_at"] < NOW and rows[1]["last_seen_at"] == NOW  # known already: seen again
    assert api.get(f"{P}/event_definitions/").json()["count"] == 10
    assert _names(api, "event_definitions/?limit=2&ordering=-last_seen_at&ordering=name") == [
        "signed_up",
        "trial_started",
    ]
    other = api.post("/__admin/posthog/ingested-events", json_body={"project_id": 2, "events": ["trial_started"]})
    names = [d["name"] for d in api.get("/api/projects/2/event_definitions/").json()["results"]]
    assert other.json()["project_id"] == 2 and "trial_started" in names


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "events"),
        ({"events": []}, "events"),
        ({"events": [""]}, "events"),
        ({"events": ["a"], "project_id": 9}, "project_id"),
        ({"events": [f"e{i}" for i in range(10_001)]}, "events"),  # 10,000 names a call
        ({"events": ["x" * 401]}, "events"),  # PostHog's names hold 400 characters
    ],
)
def test_ingesting_refuses_bad_input(api, body, field):
    response = api.post("/__admin/posthog/ingested-events", json_body=body)
    assert response.status_code == 400 and response.json()["field"].split(".")[0] == field
    assert api.get(f"{P}/event_definitions/").json()["count"] == 9


def test_ingesting_many_names_creates_each_once_and_refreshes_the_known(api):
    names = [f"bulk_{i}" for i in range(2000)]
    first = api.post("/__admin/posthog/ingested-events", json_body={"events": [*names, *names[:5], "signed_up"]})
    assert first.status_code == 200 and len(first.json()["event_definitions"]) == 2001
    again = api.post("/__admin/posthog/ingested-events", json_body={"events": names[:3]})
    ids = [r["id"] for r in first.json()["event_definitions"][:3]]
    assert [r["id"] for r in again.json()["event_definitions"]] == ids
    assert api.get(f"{P}/event_definitions/").json()["count"] == 9 + 2000


def test_scopes(api):
    key = {"vendor": "posthog", "key": "phx_taxonomy", "scopes": ["event_definition:read", "action:write"]}
    assert api.post("/__admin/api-keys", json_body=key, check_spec=False).status_code == 201
    headers = {"Authorization": "Bearer phx_taxonomy"}
    assert api.get(f"{P}/event_definitions/", headers=headers).status_code == 200
    assert api.post(f"{P}/actions/", headers=headers, json_body={"name": "Scoped"}).status_code == 201
    assert_error(
        api.post(f"{P}/event_definitions/", headers=headers, json_body={"name": "x"}),
        403,
        "API key missing required scope 'event_definition:write'",
    )
