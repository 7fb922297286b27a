"""/__admin/posthog: approval policies, the change requests they open, and ingested events."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from mockserver.admin import json_body, problem, reply, runtime
from mockserver.core.clock import iso
from mockserver.vendors.posthog import approvals, events

blueprint = Blueprint("posthog_admin", __name__, url_prefix="/__admin/posthog")


def _state():
    return runtime().store.data["posthog"]


@blueprint.get("/approval-policies")
def list_policies() -> Response:
    with runtime().store.lock:
        return reply({"policies": list(_state()["approval_policies"].values())})


@blueprint.post("/approval-policies")
def add_policy() -> Response:
    body, error = json_body()
    if error:
        return error
    project_id = body.get("project_id", 1)
    action_key = body.get("action_key")
    quorum = body.get("quorum", 1)
    if action_key not in approvals.ACTION_KEYS:
        return problem(400, f"action_key must be one of: {', '.join(approvals.ACTION_KEYS)}", "action_key")
    if type(quorum) is not int or not 1 <= quorum <= 100:
        return problem(400, "quorum must be an integer from 1 to 100", "quorum")
    users = body.get("users", [])
    roles = body.get("roles", [])
    if not isinstance(users, list) or not all(type(u) is int for u in users):
        return problem(400, "users must be a list of user ids", "users")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        return problem(400, "roles must be a list of strings", "roles")
    rt = runtime()
    with rt.store.lock:
        if str(project_id) not in _state()["projects"]:
            return problem(400, f"project {project_id!r} does not exist", "project_id")
        policy = approvals.add_policy(_state(), int(project_id), action_key, quorum, users, roles, rt.clock.now())
    return reply(policy, 201)


@blueprint.delete("/approval-policies/<int:policy_id>")
def delete_policy(policy_id: int) -> Response:
    with runtime().store.lock:
        if _state()["approval_policies"].pop(str(policy_id), None) is None:
            return problem(404, f"no approval policy {policy_id}")
    return reply(None, 204)


@blueprint.get("/change-requests")
def list_change_requests() -> Response:
    wanted = request.args.get("state")
    with runtime().store.lock:
        state = _state()
        rows = [
            approvals.change_request_json(state, cr)
            for cr in state["change_requests"].values()
            if not wanted or cr["state"] == wanted
        ]
    return reply({"change_requests": rows})


@blueprint.get("/change-requests/<cr_id>")
def get_change_request(cr_id: str) -> Response:
    with runtime().store.lock:
        cr = _state()["change_requests"].get(cr_id)
        if cr is None:
            return problem(404, f"no change request {cr_id}")
        return reply(approvals.change_request_json(_state(), cr))


def _decide(cr_id: str, decision: str) -> Response:
    body, error = json_body()
    if error:
        return error
    rt = runtime()
    with rt.store.lock:
        state = _state()
        cr = state["change_requests"].get(cr_id)
        if cr is None:
            return problem(404, f"no change request {cr_id}")
        if cr["state"] != "pending":
            return problem(409, f"change request is {cr['state']}, not pending")
        approvals.decide(state, cr, decision, int(body.get("user_id", 1)), str(body.get("reason", "")), rt.clock.now())
        if cr["state"] == "approved":
            _apply(cr)
        return reply(approvals.change_request_json(_state(), cr))


def _apply(cr) -> None:
    """Replay the original request with the gate passed; record what it answered."""
    from mockserver.vendors.posthog.auth import REPLAY_KEY

    intent = cr["intent"]
    client = current_app.test_client()
    response = client.open(
        intent["path"],
        method=intent["method"],
        query_string=intent.get("query_string") or None,
        data=None if intent.get("body") is None else json.dumps(intent["body"]),
        content_type="application/json" if intent.get("body") is not None else None,
        environ_overrides={REPLAY_KEY: str(cr["created_by_id"])},
    )
    now = iso(runtime().clock.now())
    state = _state()
    cr = state["change_requests"][cr["id"]]
    cr["updated_at"] = now
    if response.status_code < 400:
        cr.update(
            state="applied",
            applied_at=now,
            applied_by_id=1,
            result_data=response.get_json(silent=True) if response.data else None,
        )
    else:
        cr.update(state="failed", apply_error=response.get_data(as_text=True)[:2000])


@blueprint.post("/change-requests/<cr_id>/approve")
def approve(cr_id: str) -> Response:
    return _decide(cr_id, "approved")


@blueprint.post("/change-requests/<cr_id>/reject")
def reject(cr_id: str) -> Response:
    return _decide(cr_id, "rejected")


@blueprint.post("/ingested-events")
def ingest_events() -> Response:
    """Events arrived in a project: their definitions are created (or their last_seen_at moves to now)."""
    body, error = json_body()
    if error:
        return error
    project_id = body.get("project_id", 1)
    names = body.get("events")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        return problem(400, "events must be a non-empty list of event names", "events")
    rt = runtime()
    with rt.store.lock:
        if type(project_id) is not int or str(project_id) not in _state()["projects"]:
            return problem(400, f"project {project_id!r} does not exist", "project_id")
        rows = events.ingest(_state(), project_id, names, rt.clock.now())
        fields = ("id", "name", "created_at", "last_seen_at")
        return reply({"project_id": project_id, "event_definitions": [{k: r[k] for k in fields} for r in rows]})
