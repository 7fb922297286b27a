"""feature_flags/: PostHog's flag API on the experiments' flags, and how flag changes reach experiments."""

from __future__ import annotations

import pytest

from tests.posthog.helpers import P, act, assert_error, create, find_seeded

FLAG_FIELDS = {
    "id",
    "name",
    "key",
    "filters",
    "deleted",
    "active",
    "created_by",
    "created_at",
    "updated_at",
    "version",
    "last_modified_by",
    "ensure_experience_continuity",
    "experiment_set",
    "surveys",
    "features",
    "rollback_conditions",
    "performed_rollback",
    "can_edit",
    "tags",
    "evaluation_contexts",
    "usage_dashboard",
    "analytics_dashboards",
    "has_enriched_analytics",
    "user_access_level",
    "is_remote_configuration",
    "has_encrypted_payloads",
    "status",
    "evaluation_runtime",
    "bucketing_identifier",
    "last_called_at",
}
GROUP = {"properties": [], "rollout_percentage": 100}


def _variants(*pairs):
    return {"variants": [{"key": k, "name": k.title(), "rollout_percentage": pct} for k, pct in pairs]}


def _flag(api, **fields):
    body = {"key": "new-flag", "filters": {"groups": [GROUP]}, **fields}
    response = api.post(f"{P}/feature_flags/", json_body=body)
    assert response.status_code == 201, response.text
    return response.json()


def _flag_of(api, exp):
    return api.get(f"{P}/feature_flags/{exp['feature_flag']['id']}/").json()


def _depends_on(flag):
    prop = {"key": str(flag["id"]), "type": "flag", "value": True, "operator": "flag_evaluates_to"}
    return {"groups": [{"properties": [prop], "rollout_percentage": 100}]}


# -- reading ------------------------------------------------------------------------------------


def test_list_pages_live_flags_newest_first(api):
    body = api.get(f"{P}/feature_flags/?limit=5").json()
    assert body["count"] == 19 and len(body["results"]) == 5
    assert body["next"].endswith("/api/projects/1/feature_flags/?limit=5&offset=5") and body["previous"] is None
    stamps = [f["created_at"] for f in api.get(f"{P}/feature_flags/").json()["results"]]
    assert stamps == sorted(stamps, reverse=True)
    assert set(body["results"][0]) == FLAG_FIELDS


def test_list_filters(api):
    keys = lambda query: [f["key"] for f in api.get(f"{P}/feature_flags/?{query}").json()["results"]]  # noqa: E731
    assert keys("type=boolean") == ["dark-mode-default"]
    assert keys("active=STALE") == ["dark-mode-default"]  # fully rolled out boolean flag, created 200 days ago
    assert set(keys("active=false")) == {f["key"] for f in api.get(f"{P}/feature_flags/").json()["results"]} - set(
        keys("active=true")
    )
    exp = find_seeded(api, "running")
    assert keys(f"search={exp['name'].upper()}") == [exp["feature_flag_key"]]  # a linked experiment's name
    assert exp["feature_flag_key"] in keys("type=experiment") and "new-pricing-table" not in keys("type=experiment")
    assert "new-pricing-table" in keys("type=multivariant") and "dark-mode-default" not in keys("type=multivariant")
    assert keys("order=key") == sorted(keys("order=key"))
    assert keys('excluded_properties=["dark-mode-default"]&type=boolean') == []
    assert keys("created_by_id=999") == []
    assert_error(api.get(f"{P}/feature_flags/?order=bogus"), 400, attr="order")


def test_retrieve_full_flag_with_its_experiments(api):
    exp = find_seeded(api, "running")
    flag = _flag_of(api, exp)
    assert set(flag) == FLAG_FIELDS
    assert flag["experiment_set"] == [exp["id"]] and flag["status"] == "ACTIVE" and flag["can_edit"] is True
    assert flag["filters"]["multivariate"]["variants"][0]["key"] == "control"
    assert api.get(f"{P}/feature_flags/9999/").status_code == 404
    other_project = api.get("/api/projects/2/feature_flags/").json()["results"][0]["id"]
    assert_error(api.get(f"{P}/feature_flags/{other_project}/"), 404, "Not found.", "not_found")


def test_delete_is_refused_with_an_empty_405(api):
    response = api.delete(f"{P}/feature_flags/1/")
    assert response.status_code == 405 and response.content == b""
    assert api.get(f"{P}/feature_flags/1/").json()["deleted"] is False


# -- creating -----------------------------------------------------------------------------------


def test_create_answers_the_full_flag(api):
    flag = _flag(
        api, name="Checkout banner", filters={"groups": [GROUP], "multivariate": _variants(("a", 50), ("b", 50))}
    )
    assert flag["version"] == 1 and flag["active"] is True and flag["deleted"] is False
    assert flag["key"] == "new-flag" and flag["name"] == "Checkout banner" and flag["experiment_set"] == []
    assert isinstance(flag["usage_dashboard"], int) and flag["created_by"]["id"] == 1
    assert api.get(f"{P}/feature_flags/{flag['id']}/").json() == flag
    bare = api.post(f"{P}/feature_flags/", json_body={"key": "bare"}).json()
    assert bare["filters"] == {"groups": [{"properties": [], "rollout_percentage": None}]}


@pytest.mark.parametrize(
    ("body", "detail", "code", "attr"),
    [
        ({}, "This field is required.", "required", "key"),
        (
            {"key": "has space"},
            "Only letters, numbers, hyphens (-) & underscores (_) are allowed.",
            "invalid_key",
            "key",
        ),
        ({"key": "dark-mode-default"}, "There is already a feature flag with this key.", "unique", "key"),
        (
            {"key": "f", "filters": {"groups": []}},
            "Feature flags must have at least one condition set (group).",
            "invalid_input",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [GROUP], "multivariate": _variants(("control", 50), ("test", 40))}},
            "Invalid variant definitions: Variant rollout percentages must sum to 100.",
            "invalid_input",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [{"properties": [{"key": "$browser", "value": "Chrome"}]}]}},
            "Filters are not valid (can only use person, cohort, and flag properties)",
            "invalid_input",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [{"variant": "nope", "rollout_percentage": 10}]}},
            "Filters are not valid (variant override does not exist)",
            "invalid_input",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [GROUP], "payloads": {"test": "{}"}}},
            "Payload keys must be 'true' for boolean flags",
            "invalid_input",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [GROUP], "payloads": {"true": "{not json"}}},
            "Payload value is not valid JSON",
            "invalid_input",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [{"properties": [{"key": "id", "type": "cohort", "value": 404}]}]}},
            "Cohort with id 404 does not exist",
            "cohort_does_not_exist",
            "filters",
        ),
        (
            {"key": "f", "filters": {"groups": [{"properties": [{"key": "1", "type": "flag", "value": True}]}]}},
            "Flag properties must use the 'flag_evaluates_to' operator",
            "invalid_input",
            "filters",
        ),
        (
            {
                "key": "f",
                "filters": {
                    "groups": [
                        {
                            "properties": [
                                {"key": "9999", "type": "flag", "value": True, "operator": "flag_evaluates_to"}
                            ]
                        }
                    ]
                },
            },
            "Flag dependency references non-existent flag with ID 9999",
            "invalid_input",
            "filters",
        ),
        (
            {
                "key": "f",
                "filters": {
                    "groups": [
                        {"properties": [{"key": "email", "type": "person", "value": 5, "operator": "icontains"}]}
                    ]
                },
            },
            "Invalid value for operator icontains: 5",
            "invalid_value",
            "filters",
        ),
    ],
)
def test_create_refusals(api, body, detail, code, attr):
    before = api.get(f"{P}/feature_flags/").json()["count"]
    assert_error(api.post(f"{P}/feature_flags/", json_body=body), 400, detail, code, attr)
    assert api.get(f"{P}/feature_flags/").json()["count"] == before


def test_behavioral_cohorts_cannot_target_a_flag(api):
    exp = find_seeded(api, "running")
    cohort = api.post(f"{P}/experiments/{exp['id']}/create_exposure_cohort_for_experiment/").json()["cohort"]
    prop = {"key": "id", "type": "cohort", "value": cohort["id"]}
    assert_error(
        api.post(f"{P}/feature_flags/", json_body={"key": "f", "filters": {"groups": [{"properties": [prop]}]}}),
        400,
        f"Cohort '{cohort['name']}' with filters on events cannot be used in feature flags.",
        "behavioral_cohort_found",
        "filters",
    )


def test_a_soft_deleted_key_is_reused_unless_an_experiment_still_points_at_it(api):
    old = _flag(api, key="recycled")
    assert api.patch(f"{P}/feature_flags/{old['id']}/", json_body={"deleted": True}).json()["key"] == "recycled"
    new = _flag(api, key="recycled")
    assert new["id"] != old["id"]
    assert api.get(f"{P}/feature_flags/{old['id']}/").status_code == 404  # removed for good
    pinned = _flag(
        api, key="pinned", filters={"groups": [GROUP], "multivariate": _variants(("control", 50), ("test", 50))}
    )
    api.patch(f"{P}/feature_flags/{pinned['id']}/", json_body={"deleted": True})
    exp = create(api, name="On deleted", feature_flag_key="pinned")  # PostHog links a deleted flag by its key
    assert exp["feature_flag"]["id"] == pinned["id"]
    assert_error(
        api.post(f"{P}/feature_flags/", json_body={"key": "pinned", "filters": {"groups": [GROUP]}}),
        400,
        "Feature flag with this key already exists and is used in an experiment. "
        "Please delete the experiment before deleting the flag.",
        "invalid_input",
        None,
    )
    assert api.get(f"{P}/feature_flags/{pinned['id']}/").json()["deleted"] is True


# -- updating and the experiments that use the flag ------------------------------------------------


def test_deactivating_a_flag_pauses_its_running_experiment(api):
    exp = create(api)
    act(api, exp["id"], "launch")
    flag_id = exp["feature_flag"]["id"]
    off = api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False and off.json()["version"] == 2
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["status"] == "paused"
    assert exp["id"] in [e["id"] for e in api.get(f"{P}/experiments/?status=paused").json()["results"]]
    assert api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"active": True}).json()["performed_rollback"] is False
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["status"] == "running"
    draft = create(api, name="Draft", feature_flag_key="draft-flag")
    api.patch(f"{P}/feature_flags/{draft['feature_flag']['id']}/", json_body={"active": False})
    assert api.get(f"{P}/experiments/{draft['id']}/").json()["status"] == "draft"  # only running ones pause


def test_a_flag_in_use_cannot_be_deleted(api):
    exp = create(api)
    other = api.post(f"{P}/experiments/{exp['id']}/duplicate/", json_body={"name": "Copy"}).json()  # shares the flag
    flag_id = exp["feature_flag"]["id"]
    assert_error(
        api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"deleted": True}),
        400,
        f"Cannot delete a feature flag that is linked to active experiment(s) with ID(s): {exp['id']}, {other['id']}. "
        "Please delete the experiment(s) before deleting the flag.",
        "invalid_input",
        None,
    )
    flag = api.get(f"{P}/feature_flags/{flag_id}/").json()
    assert flag["deleted"] is False and flag["version"] == 1


def test_deleting_after_the_experiments_tombstones_the_key(api):
    exp = create(api)
    flag_id = exp["feature_flag"]["id"]
    api.patch(f"{P}/experiments/{exp['id']}/", json_body={"deleted": True})
    deleted = api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"deleted": True}).json()
    assert deleted["deleted"] is True and deleted["status"] == "DELETED"
    assert deleted["key"] == f"pricing-test:deleted:{flag_id}" and deleted["experiment_set"] == []
    assert flag_id not in [f["id"] for f in api.get(f"{P}/feature_flags/").json()["results"]]
    assert_error(
        api.patch(f"{P}/experiments/{exp['id']}/", json_body={"deleted": False}),
        400,
        "Cannot restore experiment: the linked feature flag has been deleted. Restore the feature flag first, "
        "then restore the experiment.",
    )
    plain = _flag(api, key="unused")
    assert api.patch(f"{P}/feature_flags/{plain['id']}/", json_body={"deleted": True}).json()["key"] == "unused"


def test_new_variants_reach_every_experiment_on_the_flag(api, client):
    exp = create(api)
    act(api, exp["id"], "launch")
    flag_id = exp["feature_flag"]["id"]
    filters = {"groups": [GROUP], "multivariate": _variants(("control", 34), ("test", 33), ("test-2", 33))}
    filters["aggregation_group_type_index"] = 0
    updated = api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"filters": filters})
    assert updated.status_code == 200, updated.text
    after = api.get(f"{P}/experiments/{exp['id']}/").json()
    assert [(v["key"], v["split_percent"]) for v in after["parameters"]["feature_flag_variants"]] == [
        ("control", 34),
        ("test", 33),
        ("test-2", 33),
    ]
    assert after["parameters"]["aggregation_group_type_index"] == 0
    assert after["updated_at"] == updated.json()["updated_at"] and after["status"] == "running"
    filters.pop("aggregation_group_type_index")
    api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"filters": filters})
    assert "aggregation_group_type_index" not in api.get(f"{P}/experiments/{exp['id']}/").json()["parameters"]


def test_filters_without_groups_keep_the_flags_filters(api):
    exp = create(api)
    flag = _flag_of(api, exp)
    response = api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"filters": {"multivariate": None}})
    assert response.status_code == 200
    assert response.json()["filters"] == flag["filters"] and response.json()["version"] == flag["version"] + 1


def test_sibling_experiments_take_a_variant_change_made_through_an_experiment(api):
    exp = create(api)
    sibling = api.post(f"{P}/experiments/{exp['id']}/duplicate/", json_body={"name": "Sibling"}).json()
    variants = {
        "feature_flag_variants": [{"key": "control", "split_percent": 70}, {"key": "test", "split_percent": 30}]
    }
    assert api.patch(f"{P}/experiments/{exp['id']}/", json_body={"parameters": variants}).status_code == 200
    splits = api.get(f"{P}/experiments/{sibling['id']}/").json()["parameters"]["feature_flag_variants"]
    assert [v["split_percent"] for v in splits] == [70, 30]


def test_dependencies_between_flags(api):
    base = _flag(api, key="base")
    child = _flag(api, key="child", filters=_depends_on(base))
    assert_error(
        api.patch(f"{P}/feature_flags/{base['id']}/", json_body={"active": False}),
        400,
        f"Cannot disable this feature flag because other flags depend on it: child (ID: {child['id']}). "
        "Please update or disable the dependent flags first.",
    )
    assert_error(
        api.patch(f"{P}/feature_flags/{base['id']}/", json_body={"deleted": True}),
        400,
        f"Cannot delete this feature flag because other flags depend on it: child (ID: {child['id']}). "
        "Please update or delete the dependent flags first.",
    )
    assert_error(
        api.patch(f"{P}/feature_flags/{base['id']}/", json_body={"filters": _depends_on(base)}),
        400,
        "Feature flag 'base' cannot depend on itself",
        attr="filters",
    )
    assert_error(
        api.patch(f"{P}/feature_flags/{base['id']}/", json_body={"filters": _depends_on(child)}),
        400,
        "Circular dependency detected: base → child → base",
        attr="filters",
    )
    api.patch(f"{P}/feature_flags/{child['id']}/", json_body={"active": False})
    assert api.patch(f"{P}/feature_flags/{base['id']}/", json_body={"active": False}).status_code == 200
    assert_error(
        api.patch(f"{P}/feature_flags/{child['id']}/", json_body={"active": True}),
        400,
        f"Cannot enable this feature flag because it depends on disabled flags: base (ID: {base['id']}). "
        "Please enable the dependency flags first.",
    )
    assert_error(
        api.post(f"{P}/feature_flags/", json_body={"key": "late", "filters": _depends_on(base)}),
        400,
        f"Cannot create dependency on disabled flag 'base' (ID: {base['id']}). "
        "Flag dependencies must reference active flags only.",
        attr="filters",
    )


def test_key_changes_are_checked(api):
    flag = _flag(api)
    assert_error(
        api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"key": "dark-mode-default"}),
        400,
        "There is already a feature flag with this key.",
        "unique",
        "key",
    )
    assert api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"key": "renamed"}).json()["key"] == "renamed"


# -- concurrent edits ----------------------------------------------------------------------------


def test_a_stale_edit_that_collides_is_a_409(api):
    """FeatureFlagSerializer.update: version + original_flag, conflicts field by field."""
    flag = _flag(api, name="first")
    url = f"{P}/feature_flags/{flag['id']}/"
    seen = api.get(url).json()  # what a second editor loaded (version 1)
    theirs = api.patch(url, json_body={"name": "theirs"}).json()
    assert theirs["version"] == 2
    mine = {"name": "mine", "version": seen["version"], "original_flag": seen}
    body = assert_error(api.patch(url, json_body=mine), 409, code="conflict", attr=None)
    assert body["type"] == "invalid_request"
    email = theirs["last_modified_by"]["email"]
    assert body["detail"] == (
        f"The feature flag was updated by {email} since you started editing it. Please refresh and try again."
    )
    assert api.get(url).json()["name"] == "theirs" and api.get(url).json()["version"] == 2  # nothing changed


def test_stale_edits_that_do_not_collide_go_through(api):
    flag = _flag(api, name="first")
    url = f"{P}/feature_flags/{flag['id']}/"
    seen = api.get(url).json()
    assert api.patch(url, json_body={"name": "theirs"}).status_code == 200
    # Another field than the one changed meanwhile: no conflict, the version moves on.
    other = api.patch(url, json_body={"active": False, "version": 1, "original_flag": seen})
    assert other.status_code == 200 and other.json()["version"] == 3 and other.json()["name"] == "theirs"
    # The same value the other editor chose: no conflict either.
    same = api.patch(url, json_body={"name": "theirs", "version": 1, "original_flag": seen})
    assert same.status_code == 200 and same.json()["version"] == 4
    # A stale version without original_flag (or with an empty one) is accepted, as PostHog does.
    for extra in ({}, {"original_flag": {}}):
        response = api.patch(url, json_body={"name": f"late{len(extra)}", "version": 1, **extra})
        assert response.status_code == 200, response.text
    # The current version never conflicts.
    current = api.get(url).json()
    now = api.patch(url, json_body={"name": "now", "version": current["version"], "original_flag": seen})
    assert now.status_code == 200 and now.json()["name"] == "now"


def test_a_stale_filter_edit_collides_on_filters(api):
    flag = _flag(api)
    url = f"{P}/feature_flags/{flag['id']}/"
    seen = api.get(url).json()
    half = {"groups": [{"properties": [], "rollout_percentage": 50}]}
    quarter = {"groups": [{"properties": [], "rollout_percentage": 25}]}
    assert api.patch(url, json_body={"filters": half}).status_code == 200
    stale = {"filters": quarter, "version": seen["version"], "original_flag": seen}
    assert_error(api.patch(url, json_body=stale), 409, code="conflict")
    assert api.get(url).json()["filters"]["groups"][0]["rollout_percentage"] == 50


# -- approvals and scopes ----------------------------------------------------------------------------


def test_rollout_changes_wait_for_approval(api):
    flag = _flag(api)
    policy = {"project_id": 1, "action_key": "feature_flag.update", "quorum": 1}
    assert api.post("/__admin/posthog/approval-policies", json_body=policy).status_code == 201
    half = {"filters": {"groups": [{"properties": [], "rollout_percentage": 50}]}}
    gated = api.patch(f"{P}/feature_flags/{flag['id']}/", json_body=half)
    assert gated.status_code == 409, gated.text
    body = gated.json()
    assert body["code"] == "approval_required" and body["resource_type"] == "feature_flag"
    assert body["resource_id"] == str(flag["id"])
    assert api.get(f"{P}/feature_flags/{flag['id']}/").json()["filters"]["groups"][0]["rollout_percentage"] == 100
    # Switching the flag off, or renaming it, moves no rollout percentage: not this gate's business.
    assert api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"active": False}).status_code == 200
    assert api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"name": "n"}).status_code == 200
    approved = api.post(f"/__admin/posthog/change-requests/{body['change_request_id']}/approve", json_body={})
    assert approved.json()["state"] == "applied"
    assert api.get(f"{P}/feature_flags/{flag['id']}/").json()["filters"]["groups"][0]["rollout_percentage"] == 50


@pytest.mark.parametrize(
    ("action_key", "start", "switch"), [("feature_flag.enable", False, True), ("feature_flag.disable", True, False)]
)
def test_switching_a_flag_waits_for_approval(api, action_key, start, switch):
    """approvals/actions/feature_flags.py: EnableFeatureFlagAction / DisableFeatureFlagAction."""
    flag = _flag(api)
    url = f"{P}/feature_flags/{flag['id']}/"
    if not start:
        assert api.patch(url, json_body={"active": False}).status_code == 200
    policy = {"project_id": 1, "action_key": action_key, "quorum": 1}
    assert api.post("/__admin/posthog/approval-policies", json_body=policy).status_code == 201
    # Sending the state the flag is already in, or another field, is not this gate's business.
    assert api.patch(url, json_body={"active": start, "name": "same state"}).status_code == 200
    gated = api.patch(url, json_body={"active": switch})
    assert gated.status_code == 409, gated.text
    body = gated.json()
    assert body["code"] == "approval_required" and body["resource_type"] == "feature_flag"
    assert api.get(url).json()["active"] is start
    again = api.patch(url, json_body={"active": switch})
    assert again.status_code == 409 and again.json()["code"] == "change_request_pending"
    approved = api.post(f"/__admin/posthog/change-requests/{body['change_request_id']}/approve", json_body={})
    assert approved.json()["state"] == "applied"
    assert api.get(url).json()["active"] is switch


def test_switching_on_and_moving_the_rollout_match_two_policies(api):
    flag = _flag(api)
    url = f"{P}/feature_flags/{flag['id']}/"
    assert api.patch(url, json_body={"active": False}).status_code == 200
    for key in ("feature_flag.enable", "feature_flag.update"):
        policy = {"project_id": 1, "action_key": key, "quorum": 1}
        assert api.post("/__admin/posthog/approval-policies", json_body=policy).status_code == 201
    both = {"active": True, "filters": {"groups": [{"properties": [], "rollout_percentage": 40}]}}
    refused = api.patch(url, json_body=both)
    assert refused.status_code == 400 and refused.json()["code"] == "policy_conflict"
    assert api.get(url).json()["active"] is False


def test_flag_scopes(api):
    reader = {"vendor": "posthog", "key": "phx_flags_reader", "scopes": ["feature_flag:read"]}
    assert api.post("/__admin/api-keys", json_body=reader, check_spec=False).status_code == 201
    headers = {"Authorization": "Bearer phx_flags_reader"}
    assert api.get(f"{P}/feature_flags/", headers=headers).status_code == 200
    assert api.get(f"{P}/experiments/eligible_feature_flags/", headers=headers).status_code == 200
    assert_error(
        api.post(f"{P}/feature_flags/", headers=headers, json_body={"key": "k"}),
        403,
        "API key missing required scope 'feature_flag:write'",
        "permission_denied",
    )
    assert_error(api.get(f"{P}/experiments/", headers=headers), 403, "API key missing required scope 'experiment:read'")


def test_experiments_find_flags_by_their_current_key(api):
    flag = _flag(
        api, key="before", filters={"groups": [GROUP], "multivariate": _variants(("control", 50), ("test", 50))}
    )
    create(api, name="Warm", feature_flag_key="warm")  # key lookups have read the flag under its old key
    api.patch(f"{P}/feature_flags/{flag['id']}/", json_body={"key": "after"})
    exp = create(api, name="Renamed", feature_flag_key="after")
    assert exp["feature_flag"]["id"] == flag["id"]  # linked, not a second flag with the same key
    old = _flag(api, key="again", filters={"groups": [GROUP], "multivariate": _variants(("control", 50), ("test", 50))})
    api.patch(f"{P}/feature_flags/{old['id']}/", json_body={"deleted": True})
    new = _flag(api, key="again", filters={"groups": [GROUP], "multivariate": _variants(("control", 50), ("test", 50))})
    exp = create(api, name="Again", feature_flag_key="again")
    assert exp["feature_flag"]["id"] == new["id"]
    assert [f["key"] for f in api.get(f"{P}/feature_flags/").json()["results"]].count("again") == 1


def test_remembered_flag_reads_follow_every_write(api):
    """Flag lists, eligible flags, a flag's experiment_set and the stats are remembered per write, never stale."""
    listed = api.get(f"{P}/feature_flags/?limit=100").json()
    eligible = api.get(f"{P}/experiments/eligible_feature_flags/?limit=100").json()
    stats = api.get(f"{P}/experiments/stats/").json()
    variants = [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
    filters = {"groups": [{"properties": [], "rollout_percentage": 100}], "multivariate": {"variants": variants}}
    body = {"key": "fresh-flag", "name": "Fresh", "filters": filters}
    flag = api.post(f"{P}/feature_flags/", json_body=body)
    assert flag.status_code == 201, flag.text
    again = api.get(f"{P}/feature_flags/?limit=100").json()
    assert again["count"] == listed["count"] + 1 and "fresh-flag" in {f["key"] for f in again["results"]}
    now_eligible = api.get(f"{P}/experiments/eligible_feature_flags/?limit=100").json()
    assert now_eligible["count"] == eligible["count"] + 1
    renamed = api.patch(f"{P}/feature_flags/{flag.json()['id']}/", json_body={"name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    assert {f["key"]: f["name"] for f in api.get(f"{P}/feature_flags/?limit=100").json()["results"]}["fresh-flag"] == (
        "Renamed"
    )
    exp = create(api, name="Uses the fresh flag", feature_flag_key="fresh-flag")
    assert api.get(f"{P}/feature_flags/{flag.json()['id']}/").json()["experiment_set"] == [exp["id"]]
    flags = api.get(f"{P}/feature_flags/?limit=100").json()["results"]
    listed_flag = next(f for f in flags if f["key"] == "fresh-flag")
    assert listed_flag["experiment_set"] == [exp["id"]]
    act(api, exp["id"], "launch")
    assert api.post("/__admin/clock/advance", json_body={"seconds": 60}).status_code == 200  # launched before now
    try:
        launched = api.get(f"{P}/experiments/stats/").json()
    finally:  # the HTTP variant shares its server's clock with later tests
        assert api.post("/__admin/clock/advance", json_body={"seconds": -60}).status_code == 200
    assert launched["launched_last_30d"] == stats["launched_last_30d"] + 1
    assert launched["active_experiments"] == stats["active_experiments"] + 1


def test_a_null_has_encrypted_payloads_is_kept_and_served_everywhere_the_flag_shows(api):
    """PostHog's column is nullable: a PATCH may set null, and the experiments that embed the flag
    (minimal serializer) answer it as null too, never a contract violation."""
    flag_id = api.get(f"{P}/experiments/").json()["results"][0]["feature_flag"]["id"]
    patched = api.patch(f"{P}/feature_flags/{flag_id}/", json_body={"has_encrypted_payloads": None})
    assert patched.status_code == 200 and patched.json()["has_encrypted_payloads"] is None
    listed = api.get(f"{P}/experiments/?limit=100")
    assert listed.status_code == 200
    embedded = [e["feature_flag"] for e in listed.json()["results"] if e["feature_flag"]["id"] == flag_id]
    assert embedded and embedded[0]["has_encrypted_payloads"] is None
