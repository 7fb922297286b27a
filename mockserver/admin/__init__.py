"""The /__admin control API shared by every vendor.

This module holds health, reset and API keys plus the helpers; state, journal, faults and clock
live beside it and register on the same blueprint. The contract is specs/admin.yaml.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from mockserver import __version__
from mockserver.core import auth

blueprint = Blueprint("admin", __name__, url_prefix="/__admin")
VENDORS_WITH_ROLES = ("launchdarkly",)
LD_ROLES = ("reader", "writer", "admin")


def runtime():
    return current_app.extensions["mockserver"]


def reply(body: Any, status: int = 200) -> Response:
    data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    return Response(data, status=status, mimetype="application/json" if body is not None else None)


def problem(status: int, detail: str, field: str | None = None) -> Response:
    error = {400: "bad_request", 404: "not_found", 409: "conflict"}.get(status, "error")
    return reply({"error": error, "detail": detail, "field": field}, status)


def json_body() -> tuple[dict[str, Any] | None, Response | None]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError) as exc:
        return None, problem(400, f"Body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return None, problem(400, "Body must be a JSON object.")
    return body, None


@blueprint.get("/health")
def health() -> Response:
    rt = runtime()
    return reply(
        {
            "status": "ok",
            "version": __version__,
            "seed": rt.store.seed,
            "vendors": [v.name for v in rt.vendors],
            "now": rt.clock.now().isoformat(),
        }
    )


@blueprint.post("/reset")
def reset() -> Response:
    """State, clock, faults and journal back to the start (the start fixture, if one was loaded).

    An optional ``{"seed": 7}`` switches the seed for this and later resets.
    """
    body, error = json_body()
    if error:
        return error
    rt = runtime()
    rt.reset(body.get("seed"))
    return reply({"status": "reset", "seed": rt.store.seed})


@blueprint.get("/api-keys")
def list_keys() -> Response:
    rt = runtime()
    with rt.store.lock:
        return reply({"keys": list(auth.registry(rt.admin_state).values())})


@blueprint.post("/api-keys")
def add_key() -> Response:
    body, error = json_body()
    if error:
        return error
    vendor = body.get("vendor")
    names = [v.name for v in runtime().vendors]
    if vendor not in names:
        return problem(400, f"vendor must be one of: {', '.join(names)}", "vendor")
    key = body.get("key")
    if not isinstance(key, str) or not key.strip() or len(key) > 512:
        return problem(400, "key must be a non-empty string of at most 512 characters", "key")
    scopes = body.get("scopes", ["*"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        return problem(400, "scopes must be a list of strings such as 'experiment:read'", "scopes")
    role = body.get("role", "admin")
    if role not in LD_ROLES:
        return problem(400, f"role must be one of: {', '.join(LD_ROLES)}", "role")
    extras, message = _launchdarkly_extras(vendor, body)
    if message:
        return problem(400, message, "policy" if "policy" in message else "service_token")
    grant = auth.ApiKey(key=key, vendor=vendor, scopes=tuple(scopes), role=role)
    rt = runtime()
    with rt.store.lock:
        auth.register(rt.admin_state, grant)
        record = auth.registry(rt.admin_state)[f"{vendor}:{key}"]
        record.update(extras)
    return reply(record, 201)


def _launchdarkly_extras(vendor: str, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A LaunchDarkly key may carry a custom-role ``policy`` and be a ``service_token``."""
    extras: dict[str, Any] = {}
    if body.get("policy") is not None:
        from mockserver.vendors.launchdarkly.permissions import check_policy

        if vendor != "launchdarkly":
            return extras, "policy applies to launchdarkly keys only"
        message = check_policy(body["policy"])
        if message:
            return extras, message
        extras["policy"] = body["policy"]
    if body.get("service_token") is not None:
        if vendor != "launchdarkly" or not isinstance(body["service_token"], bool):
            return extras, "service_token is true or false, for launchdarkly keys only"
        extras["service_token"] = body["service_token"]
    return extras, None


@blueprint.delete("/api-keys")
def clear_keys() -> Response:
    rt = runtime()
    with rt.store.lock:
        auth.registry(rt.admin_state).clear()
    return reply(None, 204)


# The rest of the control API registers on the same blueprint.
from mockserver.admin import clock, faults, journal, state  # noqa: E402, F401
