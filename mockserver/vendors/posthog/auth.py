"""PostHog authentication: personal API keys (header, body or query) and their scopes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockserver.core import auth
from mockserver.core.problems import Problem
from mockserver.core.vendor import AuthRequest
from mockserver.vendors.posthog import errors, models
from mockserver.vendors.posthog import scopes as known_scopes

if TYPE_CHECKING:
    from mockserver.core.vendor import HttpRequest as Request

NAME = "posthog"


@dataclass(frozen=True)
class Identity:
    team_id: int
    user_id: int
    key: str | None


# operationId prefix -> the scope object of the viewset that serves it
SCOPE_OBJECTS = {
    "experiment_saved_metrics": "experiment_saved_metric",
    "feature_flags": "feature_flag",
    "cohorts": "cohort",
    "actions": "action",
    "event_definitions": "event_definition",
}


def scope_for(operation_id: str, method: str) -> str:
    if operation_id == "experiments_eligible_feature_flags_retrieve":
        return "feature_flag:read"
    obj = next((o for prefix, o in SCOPE_OBJECTS.items() if operation_id.startswith(prefix + "_")), "experiment")
    return f"{obj}:{'read' if method in ('GET', 'HEAD') else 'write'}"


def _credentials(request: Request) -> tuple[str | None, str]:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip() and not token.strip().startswith("pha_"):
            return token.strip(), "Authorization header"
    if request.mimetype == "application/json":
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("personal_api_key"), str):
            return body["personal_api_key"], "body"
    if request.args.get("personal_api_key"):
        return request.args["personal_api_key"], "query string"
    return None, ""


def authenticate(ctx: AuthRequest) -> Identity:
    runtime, request = ctx.runtime, ctx.request
    state = runtime.store.data[NAME]
    if ctx.approved_by is not None:  # an approved change request, applied for its requester
        with runtime.store.lock:
            return Identity(models.project_or_404(state, ctx.path_args["project_id"]), ctx.approved_by, None)
    key, source = _credentials(request)
    if key is None:
        raise Problem("not_authenticated", "Authentication credentials were not provided.")
    record = auth.lookup(runtime.admin_state, NAME, key, runtime.settings.strict_auth)
    if record is None:
        raise Problem("authentication_failed", f"Personal API key found in request {source} is invalid.")
    with runtime.store.lock:
        team_id = models.project_or_404(state, ctx.path_args["project_id"])
    required = scope_for(ctx.operation_id or "", request.method)
    if not auth.scope_granted(record.get("scopes", ["*"]), required):
        raise errors.denied(f"API key missing required scope '{required}'")
    return Identity(team_id, 1, key)


def grant(body: Mapping[str, Any]) -> dict[str, Any]:
    """A key registration's PostHog part: the scopes the key carries (default: all)."""
    for name in body:
        if name not in ("vendor", "key", "scopes"):  # a LaunchDarkly role here would grant everything
            raise Problem("bad_request", f"Unexpected field: {name!r}. A PostHog key takes scopes.", attr=name)
    scopes = body.get("scopes", ["*"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        raise Problem("bad_request", "scopes must be a list of strings such as 'experiment:read'", attr="scopes")
    for index, scope in enumerate(scopes):
        why = known_scopes.problem(scope)
        if why is not None:  # PostHog refuses a key with an unknown scope; a typo would grant nothing
            raise Problem("bad_request", why, attr=f"scopes[{index}]")
    return {"scopes": list(scopes)}
