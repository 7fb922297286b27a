"""/__admin/posthog: approval policies, the change requests they open, and ingested events.

Paths and bodies are in specs/posthog.admin.yaml.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.clock import iso
from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply
from mockserver.vendors.posthog import approvals, events

MAX_POLICIES = 500


def list_policies(call: Call) -> Reply:
    return Reply(200, {"policies": list(call.state["approval_policies"].values())})


def add_policy(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    project_id = body.get("project_id", 1)
    action_key = body.get("action_key")
    quorum = body.get("quorum", 1)
    if action_key not in approvals.ACTION_KEYS:
        raise Problem(
            "bad_request", f"action_key must be one of: {', '.join(approvals.ACTION_KEYS)}", attr="action_key"
        )
    if type(quorum) is not int or not 1 <= quorum <= 100:
        raise Problem("bad_request", "quorum must be an integer from 1 to 100", attr="quorum")
    users = body.get("users", [])
    roles = body.get("roles", [])
    if not isinstance(users, list) or not all(type(u) is int for u in users):
        raise Problem("bad_request", "users must be a list of user ids", attr="users")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Problem("bad_request", "roles must be a list of strings", attr="roles")
    if any(
        p["project_id"] == project_id and p["action_key"] == action_key
        for p in call.state["approval_policies"].values()
    ):
        raise Problem(
            "bad_request",
            "A policy for this action already exists. You can edit the existing policy instead.",
            attr="action_key",
        )
    if str(project_id) not in call.state["projects"]:
        raise Problem("bad_request", f"project {project_id!r} does not exist", attr="project_id")
    if len(call.state["approval_policies"]) >= MAX_POLICIES:
        raise Problem("bad_request", f"at most {MAX_POLICIES} approval policies can be set", attr="action_key")
    # allow_self_approve and expires_after_days: typed and bounded by the spec, checked before this runs.
    policy = approvals.add_policy(
        call.state,
        int(project_id),
        action_key,
        quorum,
        users,
        roles,
        call.now,
        allow_self_approve=body.get("allow_self_approve", False),
        expires_after_days=body.get("expires_after_days", 14),
    )
    return Reply(201, policy)


def delete_policy(call: Call) -> Reply:
    if call.state["approval_policies"].pop(str(call.path["policy_id"]), None) is None:
        raise Problem("not_found", f"no approval policy {call.path['policy_id']}")
    return Reply(204)


def list_change_requests(call: Call) -> Reply:
    wanted = call.query.get("state")
    rows = [approvals.change_request_json(call.state, cr, call.now) for cr in call.state["change_requests"].values()]
    rows = [row for row in rows if not wanted or row["state"] == wanted]
    return Reply(200, {"change_requests": rows})


def _change_request(call: Call) -> dict[str, Any]:
    cr = call.state["change_requests"].get(call.path["cr_id"])
    if cr is None:
        raise Problem("not_found", f"no change request {call.path['cr_id']}")
    return cr


def get_change_request(call: Call) -> Reply:
    return Reply(200, approvals.change_request_json(call.state, _change_request(call), call.now))


def _decide(call: Call, decision: str) -> Reply:
    body = call.body or {}
    cr = _change_request(call)
    approvals.expire(cr, call.now)
    if cr["state"] != "pending":  # PostHog's CanApprove guards both decisions with this message
        # An expiry found now is kept: moving the clock back later does not revive the request.
        raise Problem("permission_denied", "Only pending change requests can be approved", keep_writes=True)
    user_id = approvals.approver(call.state, cr, body.get("user_id"))
    approvals.decide(call.state, cr, decision, user_id, str(body.get("reason", "")), call.now)
    if cr["state"] == "approved":
        _apply(call, cr)
    return Reply(200, approvals.change_request_json(call.state, cr, call.now))


def cancel(call: Call) -> Reply:
    """The requester withdraws a pending request nobody approved yet (PostHog's CanCancel and
    ``can_be_canceled_by``, one message for every refusal): recorded as their rejection."""
    body = call.body or {}
    cr = _change_request(call)
    approvals.expire(cr, call.now)
    requester = cr["created_by_id"]
    approved = any(a["decision"] == "approved" for a in cr["approvals"])
    if cr["state"] != "pending" or body.get("user_id", requester) != requester or approved:
        raise Problem("permission_denied", "You cannot cancel this change request", attr="user_id", keep_writes=True)
    approvals.vote(
        call.state, cr, "rejected", cr["created_by_id"], body.get("reason", "Canceled by requester"), call.now
    )
    cr["state"] = "rejected"
    return Reply(200, approvals.change_request_json(call.state, cr, call.now))


def _apply(call: Call, cr: dict[str, Any]) -> None:
    """Apply the original request through the pipeline, gates passed; record what it answered."""
    assert call.replay is not None, "the pipeline provides replay to control-API handlers"
    reply = call.replay({**cr["intent"], "change_request_id": cr["id"]}, int(cr["created_by_id"]))
    now = iso(call.now)
    cr["updated_at"] = now
    if reply.status < 400:
        cr.update(state="applied", applied_at=now, applied_by_id=cr["created_by_id"], result_data=reply.body)
    else:
        cr.update(state="failed", apply_error=str(reply.body)[:2000])


def approve(call: Call) -> Reply:
    return _decide(call, "approved")


def reject(call: Call) -> Reply:
    return _decide(call, "rejected")


def ingest_events(call: Call) -> Reply:
    """Events arrived in a project: their definitions are created (or their last_seen_at moves to now)."""
    body: dict[str, Any] = call.body
    project_id = body.get("project_id", 1)
    names = body.get("events")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise Problem("bad_request", "events must be a non-empty list of event names", attr="events")
    if type(project_id) is not int or str(project_id) not in call.state["projects"]:
        raise Problem("bad_request", f"project {project_id!r} does not exist", attr="project_id")
    rows = events.ingest(call.state, project_id, names, call.now)
    fields = ("id", "name", "created_at", "last_seen_at")
    return Reply(200, {"project_id": project_id, "event_definitions": [{k: r[k] for k in fields} for r in rows]})


HANDLERS = {
    "listPosthogApprovalPolicies": list_policies,
    "addPosthogApprovalPolicy": add_policy,
    "deletePosthogApprovalPolicy": delete_policy,
    "listPosthogChangeRequests": list_change_requests,
    "getPosthogChangeRequest": get_change_request,
    "approvePosthogChangeRequest": approve,
    "rejectPosthogChangeRequest": reject,
    "cancelPosthogChangeRequest": cancel,
    "ingestPosthogEvents": ingest_events,
}
