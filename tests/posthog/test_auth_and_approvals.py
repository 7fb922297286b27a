"""API keys, scopes, strict auth, and approval gates with change requests."""

from __future__ import annotations

from mockserver.app import create_app
from tests.conftest import make_settings
from tests.posthog.helpers import P, act, assert_error, create
from tests.speccheck import FlaskClient


def _register(api, key: str, scopes: list[str]) -> None:
    response = api.post(
        "/__admin/api-keys", json_body={"vendor": "posthog", "key": key, "scopes": scopes}, check_spec=False
    )
    assert response.status_code == 201, response.text


def test_missing_and_alternative_credentials(api):
    assert_error(
        api.get(f"{P}/experiments/", headers={"Authorization": ""}),
        401,
        "Authentication credentials were not provided.",
        "not_authenticated",
    )
    assert api.get(f"{P}/experiments/?personal_api_key=phx_query", headers={"Authorization": ""}).status_code == 200
    response = api.post(
        f"{P}/experiments/",
        headers={"Authorization": ""},
        json_body={"name": "Body key", "feature_flag_key": "body-key", "personal_api_key": "phx_body"},
    )
    assert response.status_code == 201, response.text


def test_a_key_with_a_scope_posthog_does_not_know_is_refused(api):
    """PostHog refuses a key with an unknown scope; a typo must not register a key that grants nothing."""
    before = api.get("/__admin/api-keys").json()["keys"]
    cases = (
        (["nope"], "scopes[0]", None),
        (["experiment:read", "experiment:delete"], "scopes[1]", "'experiment:read'"),
        (["experimnt:read"], "scopes[0]", "did you mean 'experiment:read'?"),  # the shape is right, the object is not
        (["feature_flag:read", "feature_flags:write"], "scopes[1]", "did you mean 'feature_flag:write'?"),
        (["internal_run:read"], "scopes[0]", None),  # PostHog mints it for its own tokens only
    )
    for scopes, field, hint in cases:
        refused = api.post("/__admin/api-keys", json_body={"vendor": "posthog", "key": "phx_typo", "scopes": scopes})
        assert refused.status_code == 400 and refused.json()["field"] == field, refused.text
        assert "is not a scope" in refused.json()["detail"]
        assert hint is None or hint in refused.json()["detail"], refused.json()["detail"]
    assert api.get("/__admin/api-keys").json()["keys"] == before
    # Real scopes of any PostHog release are accepted, including the oddly named ones.
    _register(api, "phx_fine", ["*", "insight:read", "experiment_saved_metric:write", "experiment_holdout:read"])
    _register(api, "phx_alpha", ["user_interview_DO_NOT_USE:read", "user_interview:write", "llm_gateway:read"])


def test_scopes(api):
    _register(api, "phx_reader", ["experiment:read"])
    _register(api, "phx_writer", ["experiment:write"])
    _register(api, "phx_metrics", ["experiment_saved_metric:read"])
    reader = {"Authorization": "Bearer phx_reader"}
    assert api.get(f"{P}/experiments/", headers=reader).status_code == 200
    before = api.get(f"{P}/experiments/").json()["count"]
    assert_error(
        api.post(f"{P}/experiments/", headers=reader, json_body={"name": "n", "feature_flag_key": "k"}),
        403,
        "API key missing required scope 'experiment:write'",
        "permission_denied",
    )
    assert api.get(f"{P}/experiments/").json()["count"] == before
    writer = {"Authorization": "Bearer phx_writer"}
    assert api.get(f"{P}/experiments/", headers=writer).status_code == 200  # write implies read
    assert (
        api.post(
            f"{P}/experiment_holdouts/", headers=writer, json_body={"name": "h", "filters": [{"rollout_percentage": 5}]}
        ).status_code
        == 201
    )
    assert_error(
        api.get(f"{P}/experiment_saved_metrics/", headers=writer),
        403,
        "API key missing required scope 'experiment_saved_metric:read'",
    )
    metrics = {"Authorization": "Bearer phx_metrics"}
    assert api.get(f"{P}/experiment_saved_metrics/", headers=metrics).status_code == 200
    assert_error(api.get(f"{P}/experiments/", headers=metrics), 403, "API key missing required scope 'experiment:read'")


def test_strict_auth_refuses_unregistered_keys():
    client = FlaskClient(create_app(make_settings(strict_auth=True)), {"Authorization": "Bearer phx_unknown"})
    assert_error(
        client.get(f"{P}/experiments/"),
        401,
        "Personal API key found in request Authorization header is invalid.",
        "authentication_failed",
    )
    _register(client, "phx_known", ["*"])
    assert client.get(f"{P}/experiments/", headers={"Authorization": "Bearer phx_known"}).status_code == 200


def _policy(api, action_key: str, quorum: int = 1) -> None:
    response = api.post(
        "/__admin/posthog/approval-policies",
        json_body={"project_id": 1, "action_key": action_key, "quorum": quorum},
        check_spec=False,
    )
    assert response.status_code == 201, response.text


def test_launch_gate_409_pending_then_approve_applies(api):
    exp = create(api)
    _policy(api, "experiment.launch")
    gated = api.post(f"{P}/experiments/{exp['id']}/launch/")
    assert gated.status_code == 409
    body = gated.json()
    assert body["code"] == "approval_required" and body["status"] == "approval_required"
    assert body["change_request"]["state"] == "pending" and body["required_approvers"]["quorum"] == 1
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["status"] == "draft"  # nothing changed
    again = api.post(f"{P}/experiments/{exp['id']}/launch/")
    assert again.status_code == 409 and again.json()["code"] == "change_request_pending"
    assert again.json()["change_request_id"] == body["change_request_id"]
    listed = api.get("/__admin/posthog/change-requests", check_spec=False).json()["change_requests"]
    assert [cr["id"] for cr in listed] == [body["change_request_id"]]
    approved = api.post(
        f"/__admin/posthog/change-requests/{body['change_request_id']}/approve", json_body={}, check_spec=False
    )
    assert approved.status_code == 200 and approved.json()["state"] == "applied"
    assert approved.json()["result_data"]["status"] == "running"
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["status"] == "running"


def test_an_approved_change_is_applied_inside_the_pipeline_not_as_a_client_call(api):
    """No fault rule fires on it, the journal records it as the approval it is, and a failure undoes it alone."""
    exp = create(api)
    _policy(api, "experiment.launch")
    cr_id = api.post(f"{P}/experiments/{exp['id']}/launch/").json()["change_request_id"]
    fault = {"path": f"{P}/experiments/*", "status": 503}  # every client call to experiments now fails
    assert api.post("/__admin/faults", json_body=fault).status_code == 201
    api.delete("/__admin/requests")
    approved = api.post(f"/__admin/posthog/change-requests/{cr_id}/approve", json_body={}, check_spec=False)
    assert approved.json()["state"] == "applied"
    (applied,) = api.get("/__admin/requests").json()["requests"]
    assert applied["approval"] == cr_id and applied["status"] == 200 and applied["fault_id"] is None
    assert applied["operation_id"] == "experiments_launch_create"
    assert api.get("/__admin/faults").json()["faults"][0]["fired"] == 0
    api.delete("/__admin/faults")
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["status"] == "running"


def test_an_approved_change_that_fails_now_is_recorded_as_failed_and_changes_nothing(api):
    exp = create(api)
    _policy(api, "experiment.launch")
    cr_id = api.post(f"{P}/experiments/{exp['id']}/launch/").json()["change_request_id"]
    api.patch(f"{P}/experiments/{exp['id']}/", json_body={"deleted": True})  # gone before the approval
    before = api.get("/__admin/state").json()["data"]["posthog"]["experiments"]
    approved = api.post(f"/__admin/posthog/change-requests/{cr_id}/approve", json_body={}, check_spec=False)
    assert approved.status_code == 200 and approved.json()["state"] == "failed"
    assert "Not found" in approved.json()["apply_error"]
    assert api.get("/__admin/state").json()["data"]["posthog"]["experiments"] == before


def test_reject_closes_and_other_gates(api):
    exp = create(api)
    act(api, exp["id"], "launch")
    _policy(api, "experiment.pause")
    _policy(api, "experiment.update")
    gated = api.post(f"{P}/experiments/{exp['id']}/pause/")
    assert gated.status_code == 409
    cr_path = f"/__admin/posthog/change-requests/{gated.json()['change_request_id']}/reject"
    unexplained = api.post(cr_path, json_body={})
    assert unexplained.status_code == 400 and unexplained.json()["field"] == "reason"
    assert unexplained.json()["detail"] == "A reason is required for rejection."
    rejected = api.post(cr_path, json_body={"reason": "not this week"})
    assert rejected.json()["state"] == "rejected" and rejected.json()["approvals"][0]["reason"] == "not this week"
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["status"] == "running"
    ship = api.post(f"{P}/experiments/{exp['id']}/ship_variant/", json_body={"variant_key": "test"})
    assert ship.status_code == 409
    assert api.get(f"{P}/experiments/{exp['id']}/").json()["end_date"] is None  # not ended on 409
    approved = api.post(
        f"/__admin/posthog/change-requests/{ship.json()['change_request_id']}/approve", json_body={}, check_spec=False
    ).json()
    assert approved["state"] == "applied" and approved["result_data"]["status"] == "stopped"


def test_flag_update_gate_and_policy_conflict(api):
    exp = create(api)
    _policy(api, "feature_flag.update")
    variants = {
        "feature_flag_variants": [{"key": "control", "split_percent": 60}, {"key": "test", "split_percent": 40}]
    }
    gated = api.patch(f"{P}/experiments/{exp['id']}/", json_body={"parameters": variants})
    assert gated.status_code == 409 and gated.json()["resource_type"] == "feature_flag"
    assert api.patch(f"{P}/experiments/{exp['id']}/", json_body={"description": "ungated"}).status_code == 200
    _policy(api, "experiment.update")
    other = create(api, name="Other", feature_flag_key="other-flag")
    conflict = api.patch(f"{P}/experiments/{other['id']}/", json_body={"parameters": variants})
    assert conflict.status_code == 400 and conflict.json()["code"] == "policy_conflict"


def test_holdout_gates(api):
    _policy(api, "experiment_holdout.update")
    _policy(api, "experiment_holdout.delete")
    holdout = api.get(f"{P}/experiment_holdouts/1/").json()
    # Only a change of the share held out is gated, as PostHog's holdout action detects it.
    assert api.patch(f"{P}/experiment_holdouts/1/", json_body={"name": "renamed"}).status_code == 200
    same = [{**holdout["filters"][0]}]
    assert api.patch(f"{P}/experiment_holdouts/1/", json_body={"filters": same}).status_code == 200
    share = holdout["filters"][0]["rollout_percentage"]
    changed = [{"properties": [], "rollout_percentage": share + 1}]
    gated = api.patch(f"{P}/experiment_holdouts/1/", json_body={"filters": changed})
    assert gated.status_code == 409 and gated.json()["code"] == "approval_required"
    assert gated.json()["resource_type"] == "experiment_holdout" and gated.json()["resource_id"] == "1"
    assert api.get(f"{P}/experiment_holdouts/1/").json()["filters"][0]["rollout_percentage"] == share
    # Delete is gated on PostHog's view: its 409s carry no detail, and a second one names the existing request.
    deleting = api.delete(f"{P}/experiment_holdouts/1/")
    assert deleting.status_code == 409 and "detail" not in deleting.json()
    assert deleting.json()["message"] == "A change request has been created and is pending approval."
    again = api.delete(f"{P}/experiment_holdouts/1/")
    assert again.status_code == 409 and again.json()["code"] == "change_request_pending"
    assert set(again.json()) == {
        "code", "error", "resource_type", "resource_id", "change_request_id", "existing_change_request"
    }  # fmt: skip
    assert again.json()["existing_change_request"]["id"] == deleting.json()["change_request_id"]
    assert api.get(f"{P}/experiment_holdouts/1/").status_code == 200


def test_a_gate_on_an_experiment_action_holds_the_flag_and_a_post_names_no_resource(api):
    """PostHog's experiment actions gate the write to the experiment's flag; a POST records no resource
    id, so one open request holds that action for every experiment of the project."""
    first, second = create(api, name="One", feature_flag_key="one"), create(api, name="Two", feature_flag_key="two")
    _policy(api, "experiment.launch")
    gated = api.post(f"{P}/experiments/{first['id']}/launch/")
    body = gated.json()
    assert body["resource_type"] == "feature_flag" and body["resource_id"] is None
    cr = body["change_request"]
    assert cr["intent"]["http_method"] == "POST"
    assert (cr["can_approve"], cr["can_cancel"], cr["is_requester"], cr["validated_at"]) == (False, False, False, None)
    held = api.post(f"{P}/experiments/{second['id']}/launch/")
    assert held.status_code == 409 and held.json()["code"] == "change_request_pending"
    assert held.json()["change_request_id"] == body["change_request_id"]
    # A variant split is a PATCH of the flag: the flag is the resource.
    _policy(api, "experiment.update")
    variants = {
        "feature_flag_variants": [{"key": "control", "split_percent": 70}, {"key": "test", "split_percent": 30}]
    }
    split = api.patch(f"{P}/experiments/{second['id']}/", json_body={"parameters": variants})
    assert split.status_code == 409 and split.json()["resource_id"] == str(second["feature_flag"]["id"])


def test_a_requester_among_the_approvers_is_told_others_must_approve(api):
    exp = create(api)
    body = {"action_key": "experiment.launch", "users": [1, 2]}
    assert api.post("/__admin/posthog/approval-policies", json_body=body).status_code == 201
    gated = api.post(f"{P}/experiments/{exp['id']}/launch/").json()
    assert gated["detail"] == "A change request has been created and is pending approval from others."


def _gated_launch(api, **policy) -> str:
    """A launch behind a policy; the change request it opened (requested by user 1, the key's user).
    The experiment's id is the last but one segment of the request's path in its intent."""
    exp = create(api)
    body = {"project_id": 1, "action_key": "experiment.launch", **policy}
    assert api.post("/__admin/posthog/approval-policies", json_body=body).status_code == 201
    gated = api.post(f"{P}/experiments/{exp['id']}/launch/")
    assert gated.status_code == 409, gated.text
    assert gated.json()["change_request"]["created_by"]["id"] == 1
    return gated.json()["change_request_id"]


def _decide(api, cr_id: str, decision: str, **body):
    return api.post(f"/__admin/posthog/change-requests/{cr_id}/{decision}", json_body=body)


def test_the_requester_cannot_approve_their_own_change_unless_the_policy_allows_it(api):
    cr_id = _gated_launch(api)
    refused = _decide(api, cr_id, "approve", user_id=1)
    assert refused.status_code == 403 and refused.json()["field"] == "user_id"
    assert refused.json()["detail"] == "You cannot approve your own change request"
    assert api.get(f"/__admin/posthog/change-requests/{cr_id}").json()["approvals"] == []
    unnamed = _decide(api, cr_id, "approve")  # the server picks someone who is not the requester
    assert unnamed.status_code == 200 and unnamed.json()["state"] == "applied"
    assert unnamed.json()["approvals"][0]["created_by"]["id"] != 1
    for policy in api.get("/__admin/posthog/approval-policies").json()["policies"]:
        assert api.delete(f"/__admin/posthog/approval-policies/{policy['id']}").status_code == 204
    own = _gated_launch(api, allow_self_approve=True)
    assert _decide(api, own, "approve", user_id=1).json()["state"] == "applied"


def test_only_the_users_a_policy_names_may_decide_and_each_votes_once(api):
    cr_id = _gated_launch(api, quorum=2, users=[3, 4])
    outsider = _decide(api, cr_id, "approve", user_id=2)
    assert outsider.status_code == 403
    assert outsider.json()["detail"] == "You are not in the approver set for this change request"
    assert _decide(api, cr_id, "reject", user_id=5, reason="no").status_code == 403  # rejecting is deciding too
    first = _decide(api, cr_id, "approve")
    assert first.json()["state"] == "pending" and [a["created_by"]["id"] for a in first.json()["approvals"]] == [3]
    twice = _decide(api, cr_id, "approve", user_id=3)
    assert twice.status_code == 400 and twice.json()["detail"] == "You have already voted on this change request."
    assert _decide(api, cr_id, "reject", user_id=3, reason="changed my mind").status_code == 400
    assert _decide(api, cr_id, "approve", user_id=99).json()["detail"] == "no user 99"
    done = _decide(api, cr_id, "approve", user_id=4)
    assert done.json()["state"] == "applied" and len(done.json()["approvals"]) == 2


def test_an_undecided_change_request_expires_on_the_mock_clock(api):
    api.post("/__admin/clock/freeze", json_body={"at": "2031-01-01T00:00:00Z"})
    cr_id = _gated_launch(api, expires_after_days=3)
    listed = api.get("/__admin/posthog/change-requests?state=pending").json()["change_requests"]
    assert [cr["id"] for cr in listed] == [cr_id]
    assert api.post("/__admin/clock/advance", json_body={"duration": "P3D"}).status_code == 200
    shown = api.get(f"/__admin/posthog/change-requests/{cr_id}").json()
    assert shown["state"] == "expired" and shown["can_approve"] is False
    assert api.get("/__admin/posthog/change-requests?state=pending").json()["change_requests"] == []
    expired = api.get("/__admin/posthog/change-requests?state=expired").json()["change_requests"]
    assert [cr["id"] for cr in expired] == [cr_id]
    late = _decide(api, cr_id, "approve")
    assert late.status_code == 403
    assert late.json()["detail"] == "Only pending change requests can be approved"
    exp_id = shown["intent"]["path"].split("/")[-3]
    assert api.get(f"{P}/experiments/{exp_id}/").json()["status"] == "draft"
    # An expired request no longer blocks: the same change opens a new one.
    again = api.post(f"{P}/experiments/{exp_id}/launch/")
    assert again.status_code == 409 and again.json()["code"] == "approval_required"
    assert again.json()["change_request_id"] != cr_id


def test_policy_options_are_checked(api):
    for field, value in (("allow_self_approve", "yes"), ("expires_after_days", 0), ("expires_after_days", 366)):
        body = {"action_key": "experiment.launch", field: value}
        refused = api.post("/__admin/posthog/approval-policies", json_body=body)
        assert refused.status_code == 400 and refused.json()["field"] == field, refused.text
    assert api.get("/__admin/posthog/approval-policies").json()["policies"] == []
    # One policy per action in a project, as PostHog keeps them.
    assert (
        api.post("/__admin/posthog/approval-policies", json_body={"action_key": "experiment.launch"}).status_code == 201
    )
    twice = api.post("/__admin/posthog/approval-policies", json_body={"action_key": "experiment.launch", "quorum": 2})
    assert twice.status_code == 400 and twice.json()["field"] == "action_key"
    assert (
        twice.json()["detail"] == "A policy for this action already exists. You can edit the existing policy instead."
    )
    assert len(api.get("/__admin/posthog/approval-policies").json()["policies"]) == 1


def test_only_the_requester_cancels_a_pending_change_request(api):
    cr_id = _gated_launch(api)
    other = api.post(f"/__admin/posthog/change-requests/{cr_id}/cancel", json_body={"user_id": 2})
    assert other.status_code == 403 and other.json()["detail"] == "You cannot cancel this change request"
    canceled = api.post(f"/__admin/posthog/change-requests/{cr_id}/cancel")
    assert canceled.status_code == 200 and canceled.json()["state"] == "rejected"
    (vote,) = canceled.json()["approvals"]
    assert (
        vote["created_by"]["id"] == 1 and vote["decision"] == "rejected" and vote["reason"] == "Canceled by requester"
    )
    again = api.post(f"/__admin/posthog/change-requests/{cr_id}/cancel")
    assert again.status_code == 403
    assert again.json()["detail"] == "You cannot cancel this change request"
    # Canceled, it no longer blocks the change: trying again opens a new request.
    exp_id = canceled.json()["intent"]["path"].split("/")[-3]
    assert api.post(f"{P}/experiments/{exp_id}/launch/").json()["code"] == "approval_required"


def test_an_applied_change_is_applied_by_its_requester(api):
    cr_id = _gated_launch(api)
    applied = _decide(api, cr_id, "approve")
    assert applied.json()["state"] == "applied" and applied.json()["applied_by"]["id"] == 1


def test_a_request_someone_approved_can_no_longer_be_canceled(api):
    cr_id = _gated_launch(api, quorum=2)
    assert _decide(api, cr_id, "approve").json()["state"] == "pending"
    refused = api.post(f"/__admin/posthog/change-requests/{cr_id}/cancel")
    assert refused.status_code == 403 and refused.json()["detail"] == "You cannot cancel this change request"
    assert api.get(f"/__admin/posthog/change-requests/{cr_id}").json()["state"] == "pending"


def test_an_expired_request_stays_expired_when_the_clock_moves_back(api):
    api.post("/__admin/clock/freeze", json_body={"at": "2031-01-01T00:00:00Z"})
    cr_id = _gated_launch(api, expires_after_days=1)
    api.post("/__admin/clock/advance", json_body={"duration": "P3D"})
    assert _decide(api, cr_id, "approve").status_code == 403
    api.post("/__admin/clock/advance", json_body={"duration": "-P3D"})
    assert api.get(f"/__admin/posthog/change-requests/{cr_id}").json()["state"] == "expired"
    assert _decide(api, cr_id, "approve").status_code == 403


def test_approving_without_a_user_twice_meets_a_quorum_of_two(api):
    cr_id = _gated_launch(api, quorum=2, users=[3, 4])
    assert _decide(api, cr_id, "approve").json()["state"] == "pending"
    done = _decide(api, cr_id, "approve").json()
    assert done["state"] == "applied" and [a["created_by"]["id"] for a in done["approvals"]] == [3, 4]


def test_checking_a_state_document_records_no_expiry_by_the_real_clock(api):
    """A reload (a fixture, a state file, PUT /__admin/state) checks every change request against an
    instant, but only the mock clock decides that one expired."""
    api.post("/__admin/clock/freeze", json_body={"at": "2020-01-01T00:00:00Z"})  # long before today
    cr_id = _gated_launch(api, expires_after_days=1)
    doc = api.get("/__admin/state").json()
    assert api.put("/__admin/state", json_body=doc).status_code == 200
    assert api.get(f"/__admin/posthog/change-requests/{cr_id}").json()["state"] == "pending"
    assert api.get("/__admin/state").json()["data"]["posthog"]["change_requests"][cr_id]["state"] == "pending"
