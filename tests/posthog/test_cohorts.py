"""Exposure cohorts built as PostHog builds them, and the cohorts/ list and retrieve."""

from __future__ import annotations

from tests.posthog.helpers import P, act, assert_error, create

COHORT_FIELDS = {
    "id",
    "name",
    "description",
    "groups",
    "deleted",
    "filters",
    "query",
    "is_calculating",
    "created_by",
    "created_at",
    "last_calculation",
    "errors_calculating",
    "count",
    "is_static",
    "cohort_type",
    "experiment_set",
}


def _launched(api, **fields):
    exp = create(api, **fields)
    return act(api, exp["id"], "launch")


def _exposure(api, exp_id, status=201):
    response = api.post(f"{P}/experiments/{exp_id}/create_exposure_cohort_for_experiment/")
    assert response.status_code == status, response.text
    return response.json()


def _behavioral(cohort):
    (outer,) = cohort["filters"]["properties"]["values"]
    (leaf,) = outer["values"]
    return leaf


def test_default_exposure_cohort(api):
    exp = _launched(api)
    cohort = _exposure(api, exp["id"])["cohort"]
    assert set(cohort) == COHORT_FIELDS
    assert cohort["name"] == 'Users exposed to experiment "Pricing test"' and cohort["description"] == ""
    assert cohort["is_static"] is False and cohort["is_calculating"] is True and cohort["cohort_type"] == "behavioral"
    assert cohort["experiment_set"] == [exp["id"]] and cohort["count"] is None and cohort["groups"] == []
    assert cohort["filters"] == {
        "properties": {
            "type": "OR",
            "values": [
                {
                    "type": "OR",
                    "values": [
                        {
                            "type": "behavioral",
                            "value": "performed_event",
                            "key": "$feature_flag_called",
                            "negation": False,
                            "event_type": "events",
                            "event_filters": [
                                {
                                    "key": "$feature_flag",
                                    "value": ["pricing-test"],
                                    "operator": "exact",
                                    "type": "event",
                                }
                            ],
                            "explicit_datetime": exp["start_date"].replace("Z", "+00:00"),
                        }
                    ],
                }
            ],
        }
    }
    after = api.get(f"{P}/experiments/{exp['id']}/").json()
    assert after["exposure_cohort"] == cohort["id"]
    assert after["updated_at"] == exp["updated_at"]  # PostHog saves only the cohort link
    assert api.get(f"{P}/cohorts/{cohort['id']}/").json() == cohort
    assert_error(
        api.post(f"{P}/experiments/{exp['id']}/create_exposure_cohort_for_experiment/"),
        400,
        "Experiment already has an exposure cohort",
    )


def test_custom_exposure_event_keeps_only_event_level_filters(api):
    custom = {
        "events": [
            {
                "id": "purchase_completed",
                "properties": [
                    {"key": "plan", "value": "pro", "operator": "exact", "type": "event"},
                    {"key": "email", "value": "a@b.c", "type": "person"},
                    {"key": "properties.$browser = 'Chrome'", "type": "hogql", "value": None, "operator": "is_set"},
                    {"key": "$browser", "operator": "is_set"},
                ],
            }
        ]
    }
    exp = _launched(api, parameters={"custom_exposure_filter": custom})
    leaf = _behavioral(_exposure(api, exp["id"])["cohort"])
    assert leaf["key"] == "purchase_completed" and leaf["event_type"] == "events"
    assert leaf["event_filters"] == [
        {"key": "plan", "operator": "exact", "type": "event", "value": "pro"},
        {"key": "properties.$browser = 'Chrome'", "operator": "is_set", "type": "hogql", "value": "is_set"},
        {"key": "$browser", "operator": "is_set", "type": "event", "value": "is_set"},
    ]


def test_custom_exposure_action_and_entity_order(api):
    custom = {"actions": [{"id": "2", "order": 1}], "events": [{"id": "signed_up", "order": 0}]}
    exp = _launched(api, parameters={"custom_exposure_filter": custom})
    leaf = _behavioral(_exposure(api, exp["id"])["cohort"])
    assert (leaf["key"], leaf["event_type"], leaf["event_filters"]) == ("signed_up", "events", [])  # order 0 first
    other = _launched(api, name="Action", feature_flag_key="action-flag", parameters={
        "custom_exposure_filter": {"actions": [{"id": "2"}], "events": [{"id": "signed_up"}]}
    })  # fmt: skip
    leaf = _behavioral(_exposure(api, other["id"])["cohort"])
    assert (leaf["key"], leaf["event_type"]) == (2, "actions")  # actions come first, the id as an integer


def test_custom_exposure_without_an_id_uses_the_flag_event(api):
    exp = _launched(api, parameters={"custom_exposure_filter": {"events": [{"name": "no id"}]}})
    assert _behavioral(_exposure(api, exp["id"])["cohort"])["key"] == "$feature_flag_called"


def test_invalid_custom_exposure_is_refused_and_creates_nothing(api):
    exp = _launched(api, parameters={"custom_exposure_filter": {"actions": [{"id": "checkout"}]}})
    assert_error(
        api.post(f"{P}/experiments/{exp['id']}/create_exposure_cohort_for_experiment/"),
        400,
        "Invalid action ID",
        "invalid_input",
        None,
    )
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["exposure_cohort"] is None
    assert api.get(f"{P}/cohorts/").json()["count"] == 0
    bad = _launched(
        api,
        name="Bad property",
        feature_flag_key="bad-property",
        parameters={"custom_exposure_filter": {"events": [{"id": "signed_up", "properties": [{"key": "plan"}]}]}},
    )
    assert_error(
        api.post(f"{P}/experiments/{bad['id']}/create_exposure_cohort_for_experiment/"),
        400,
        "Value must be set for property type event & operator None",
    )


def test_cohort_list_filters(api):
    exp = _launched(api)
    cohort = _exposure(api, exp["id"])["cohort"]
    listed = api.get(f"{P}/cohorts/").json()
    assert listed["count"] == 1 and listed["results"] == [cohort] and listed["next"] is None
    assert api.get(f"{P}/cohorts/?hide_behavioral_cohorts=true").json()["count"] == 0
    assert api.get(f"{P}/cohorts/?type=static").json()["count"] == 0
    assert api.get(f"{P}/cohorts/?type=dynamic").json()["count"] == 1
    assert api.get(f"{P}/cohorts/?search=PRICING").json()["count"] == 1
    assert api.get(f"{P}/cohorts/?search=nothing").json()["count"] == 0
    assert api.get(f"{P}/cohorts/?created_by_id=2").json()["count"] == 0
    assert api.get("/api/projects/2/cohorts/").json()["count"] == 0
    assert_error(api.get(f"/api/projects/2/cohorts/{cohort['id']}/"), 404, "Not found.")


def test_deleted_cohorts_are_listed_no_more_but_still_read(api):
    document = {
        "format": "mockserver/state@1",
        "patch": {
            "posthog": {
                "cohorts": {
                    "7": {
                        "id": 7,
                        "team_id": 1,
                        "name": "Old beta testers",
                        "filters": {"properties": {"type": "AND", "values": []}},
                        "deleted": True,
                        "is_static": True,
                        "created_at": "2026-01-01T00:00:00Z",
                    }
                }
            }
        },
    }
    assert api.put("/__admin/state", json_body=document).status_code == 200
    assert api.get(f"{P}/cohorts/").json()["count"] == 0
    cohort = api.get(f"{P}/cohorts/7/").json()
    assert cohort["deleted"] is True and cohort["name"] == "Old beta testers" and cohort["experiment_set"] == []


def test_cohort_scope(api):
    key = {"vendor": "posthog", "key": "phx_cohorts", "scopes": ["cohort:read"]}
    assert api.post("/__admin/api-keys", json_body=key, check_spec=False).status_code == 201
    headers = {"Authorization": "Bearer phx_cohorts"}
    assert api.get(f"{P}/cohorts/", headers=headers).status_code == 200
    assert_error(api.get(f"{P}/actions/", headers=headers), 403, "API key missing required scope 'action:read'")
