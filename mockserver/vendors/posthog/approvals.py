"""Approval gates: a policy on an action key turns the matching change into a 409 change request.

The change request keeps the original request (operation, path, body); approving it replays that
request with the gate passed, so the result is exactly what the ungated request would have done.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.problems import Problem
from mockserver.core.store import next_id, next_uuid
from mockserver.vendors.posthog import serializers
from mockserver.vendors.posthog.errors import with_fields

ACTION_KEYS = {
    # PostHog's experiment actions are feature-flag actions on the experiment's flag: their resource is the flag.
    "experiment.launch": ("feature_flag", "Launch an experiment"),
    "experiment.pause": ("feature_flag", "Pause or resume an experiment"),
    "experiment.update": ("feature_flag", "Change an experiment's variant split, or ship a winning variant"),
    "feature_flag.update": ("feature_flag", "Update a feature flag"),
    "feature_flag.enable": ("feature_flag", "Enable a feature flag"),
    "feature_flag.disable": ("feature_flag", "Disable a feature flag"),
    "experiment_holdout.update": ("experiment_holdout", "Update a holdout group"),
    "experiment_holdout.delete": ("experiment_holdout", "Delete a holdout group"),
}
OPEN_STATES = ("pending", "approved")


def add_policy(
    state: dict[str, Any],
    project_id: int,
    action_key: str,
    quorum: int,
    users: list[int],
    roles: list[str],
    now,
    *,
    allow_self_approve: bool = False,
    expires_after_days: int = 14,
) -> dict[str, Any]:
    pid = next_id(state, "approval_policy")
    policy = {
        "id": pid,
        "project_id": project_id,
        "action_key": action_key,
        "quorum": quorum,
        "users": users,
        "roles": roles,
        "enabled": True,
        "allow_self_approve": allow_self_approve,
        "expires_after_days": expires_after_days,
        "created_at": iso(now),
    }
    state["approval_policies"][str(pid)] = policy
    return policy


def _policies(state: dict[str, Any], team_id: int, keys: list[str]) -> list[dict[str, Any]]:
    return [
        p
        for p in state["approval_policies"].values()
        if p["enabled"] and p["project_id"] == team_id and p["action_key"] in keys
    ]


@dataclass(frozen=True)
class Gate:
    """Who is asking and how to replay the request: what a gated operation needs to open a change request."""

    state: dict[str, Any]
    team_id: int
    user_id: int
    now: datetime
    intent: dict[str, Any]
    approved: bool = False  # replaying an approved change request: every gate is open

    def check(self, action_keys: list[str], resource_id: Any, *, viewset: bool = False) -> None:
        """Raise the 409 (or a 400 conflict) when a policy holds this change; return when it may go on.

        ``resource_id`` is the object the gated write changes (PostHog records none for a POST);
        ``viewset``: the gate sits on PostHog's view, not a serializer, which shapes its 409s.
        """
        _check(self, action_keys, resource_id, viewset)


def _check(g: Gate, action_keys: list[str], resource_id: Any, viewset: bool) -> None:
    state, team_id, now = g.state, g.team_id, g.now
    if g.approved or not action_keys:
        return
    matching = _policies(state, team_id, action_keys)
    if not matching:
        return
    if len({p["action_key"] for p in matching}) > 1:
        raise with_fields(
            "bad_request",
            "policy_conflict",
            "This change matches multiple approval policies",
            {
                "error": "This change matches multiple approval policies",
                "conflicting_policies": [
                    {"id": str(p["id"]), "name": f"ApprovalPolicy({p['action_key']}, Team {p['project_id']})"}
                    for p in matching
                ],
                "guidance": "Split your changes into separate API calls to address each policy independently",
            },
            with_detail=False,
        )
    policy = matching[0]
    action_key = policy["action_key"]
    resource_type = ACTION_KEYS[action_key][0]
    # PostHog takes the resource from the view's object, and records none for a POST: one open
    # request then holds that action for every object of the project.
    rid = None if resource_id is None or g.intent["method"] == "POST" else str(resource_id)
    for cr in state["change_requests"].values():
        if (
            cr["team_id"] == team_id
            and cr["action_key"] == action_key
            and cr["resource_type"] == resource_type
            and cr.get("resource_id") == rid
            and current_state(cr, now) in OPEN_STATES
        ):
            raise _pending(state, cr, viewset)
        expire(cr, now)  # an expired request no longer holds the action: recorded with the new request
    cr_id = next_uuid(state)
    created = iso(now)
    cr = {
        "id": cr_id,
        "team_id": team_id,
        "action_key": action_key,
        "action_version": 1,
        "resource_type": resource_type,
        "resource_id": rid,
        "intent": copy.deepcopy(g.intent),
        "intent_display": {"description": ACTION_KEYS[action_key][1]},
        "policy_snapshot": {
            "quorum": policy["quorum"],
            "users": list(policy["users"]),
            "roles": list(policy["roles"]),
            "allow_self_approve": policy.get("allow_self_approve", False),
            "conditions": {},
            "bypass_org_membership_levels": [],
            "bypass_roles": [],
        },
        "validation_status": "valid",
        "validation_errors": None,
        "validated_at": None,
        "state": "pending",
        "created_by_id": g.user_id,
        "applied_by_id": None,
        "created_at": created,
        "updated_at": created,
        "expires_at": iso(now + timedelta(days=policy.get("expires_after_days", 14))),
        "applied_at": None,
        "apply_error": "",
        "result_data": None,
        "approvals": [],
    }
    state["change_requests"][cr_id] = cr
    required = {"quorum": policy["quorum"], "users": list(policy["users"]), "roles": list(policy["roles"])}
    others = g.user_id in policy["users"] and not policy.get("allow_self_approve", False)
    detail = f"A change request has been created and is pending approval{' from others' if others else ''}."
    fields = _held(state, cr, detail, required)
    # The answer is a refusal, yet the change request it opened is real: its write is kept.
    raise with_fields("conflict", "approval_required", detail, fields, keep_writes=True, with_detail=not viewset)


def _held(state: dict[str, Any], cr: dict[str, Any], detail: str, required: dict[str, Any]) -> dict[str, Any]:
    """The facts of PostHog's ApprovalRequired 409 (the change request serialized without a viewer)."""
    return {
        "status": "approval_required",
        "message": detail,
        "resource_type": cr["resource_type"],
        "resource_id": cr.get("resource_id"),
        "change_request_id": cr["id"],
        "change_request": change_request_json(state, cr, None, viewer=None),
        "required_approvers": required,
    }


def _pending(state: dict[str, Any], cr: dict[str, Any], viewset: bool) -> Problem:
    """The 409 for a change that already has an open request: two shapes, as PostHog answers from
    a serializer (the experiment and flag endpoints) or from a view (holdout delete)."""
    detail = "A pending approval request already exists for this action"
    if viewset:
        fields = {
            "error": detail,
            "resource_type": cr["resource_type"],
            "resource_id": cr.get("resource_id"),
            "change_request_id": cr["id"],
            "existing_change_request": change_request_json(state, cr, None, viewer=None),
        }
        return with_fields("conflict", "change_request_pending", detail, fields, with_detail=False)
    return with_fields("conflict", "change_request_pending", detail, _held(state, cr, detail, {}))


def current_state(cr: dict[str, Any], now: datetime | None) -> str:
    """Past ``expires_at`` a pending or approved request is expired: PostHog's hourly task marks it
    so; here it is as if that task had just run (the mock clock decides)."""
    if now is not None and cr["state"] in OPEN_STATES and datetime.fromisoformat(cr["expires_at"]) <= now:
        return "expired"
    return cr["state"]


def expire(cr: dict[str, Any], now: datetime) -> None:
    """Record the expiry that ``current_state`` reports (a write only when the state changes)."""
    if cr["state"] in OPEN_STATES and current_state(cr, now) == "expired":
        cr["state"] = "expired"  # PostHog's task saves the state alone: updated_at stays


def approver(state: dict[str, Any], cr: dict[str, Any], given: int | None) -> int:
    """Who decides, by PostHog's CanApprove (403s): not the requester unless the policy allows it,
    and one of the users it names. Unnamed, the first of those who is not the requester and has not
    voted. A policy naming nobody lets any other user decide here (in PostHog nobody could approve
    it: a mock convenience, said in the README)."""
    snapshot, requester = cr["policy_snapshot"], cr["created_by_id"]
    self_approve = snapshot.get("allow_self_approve", False)
    named = [u for u in snapshot["users"] if u != requester or self_approve]
    if given is None:  # the first who may decide and has not yet: approve() twice meets a quorum of 2
        voted = {a["created_by_id"] for a in cr["approvals"]}
        others = [u for u in named or [int(u) for u in state["users"] if int(u) != requester] if u not in voted]
        if not others:
            raise Problem("bad_request", "no user who may decide is left to vote: give user_id", attr="user_id")
        given = others[0]
    if str(given) not in state["users"]:
        raise Problem("bad_request", f"no user {given}", attr="user_id")
    if given == requester and not self_approve:
        raise Problem("permission_denied", "You cannot approve your own change request", attr="user_id")
    # Role membership is not modelled: a policy naming roles lets any other user decide.
    if snapshot["users"] and given not in snapshot["users"] and not snapshot["roles"]:
        raise Problem("permission_denied", "You are not in the approver set for this change request", attr="user_id")
    return given


def change_request_json(
    state: dict[str, Any], cr: dict[str, Any], now: datetime | None, viewer: str | None = "approver"
) -> dict[str, Any]:
    """PostHog's ChangeRequestSerializer. ``viewer=None``: serialized without a request, as inside
    a 409, where PostHog's ``can_approve``, ``can_cancel`` and ``is_requester`` are false."""
    if now is not None:
        expire(cr, now)  # seen expired is expired for good: a clock moved back later does not revive it
    out = {k: copy.deepcopy(v) for k, v in cr.items() if k not in ("team_id", "created_by_id", "applied_by_id")}
    out.setdefault("resource_id", None)  # absent in a document: none, as PostHog records for a POST
    out["created_by"] = serializers.user(state, cr["created_by_id"])
    out["applied_by"] = serializers.user(state, cr.get("applied_by_id")) if cr.get("applied_by_id") else None
    out["approvals"] = [dict(a, created_by=serializers.user(state, a["created_by_id"])) for a in cr["approvals"]]
    for approval in out["approvals"]:
        approval.pop("created_by_id", None)
    pending = cr["state"] == "pending" and viewer is not None
    out.update(can_approve=pending, can_cancel=pending, is_requester=viewer is not None, user_decision=None)
    return out


def decide(state: dict[str, Any], cr: dict[str, Any], decision: str, user_id: int, reason: str, now) -> None:
    """One vote, in PostHog's order of checks: a rejection names its reason, nobody votes twice."""
    if decision == "rejected" and not reason:
        raise Problem("bad_request", "A reason is required for rejection.", attr="reason")
    if any(a["created_by_id"] == user_id for a in cr["approvals"]):
        raise Problem("bad_request", "You have already voted on this change request.", attr="user_id")
    vote(state, cr, decision, user_id, reason, now)
    if decision == "rejected":
        cr["state"] = "rejected"
    elif sum(1 for a in cr["approvals"] if a["decision"] == "approved") >= cr["policy_snapshot"]["quorum"]:
        cr["state"] = "approved"


def vote(state: dict[str, Any], cr: dict[str, Any], decision: str, user_id: int, reason: str, now) -> None:
    """Record a decision on the request (a cancellation is the requester's rejection)."""
    cr["approvals"].append(
        {
            "id": next_uuid(state),
            "created_by_id": user_id,
            "decision": decision,
            "reason": reason,
            "created_at": iso(now),
        }
    )
    cr["updated_at"] = iso(now)
