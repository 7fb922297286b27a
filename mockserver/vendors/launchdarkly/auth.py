"""LaunchDarkly authentication: access tokens, roles, rate budgets and the API-version header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.core import auth
from mockserver.core.problems import Problem
from mockserver.core.vendor import AuthRequest
from mockserver.vendors.launchdarkly import errors, ratelimit, semantic_patch
from mockserver.vendors.launchdarkly.models import millis

NAME = "launchdarkly"
API_VERSION = re.compile(r"^(beta|\d{8})$")
WRITE_ROLES = ("writer", "admin")


@dataclass(frozen=True)
class Identity:
    token: str
    role: str
    api_version: str | None


# The feature-flag API itself never was beta: only the experiment endpoints needed the header.
FLAG_OPERATIONS = frozenset({"getFeatureFlag", "patchFeatureFlag"})


def authenticate(ctx: AuthRequest) -> Identity:
    """Token, rate budget, API version, beta switch and role, in the order the service checks them."""
    runtime, request, operation_id = ctx.runtime, ctx.request, ctx.operation_id or ""
    token = request.headers.get("Authorization", "").strip()
    if not token:
        raise errors.unauthorized("No access token: send it in the Authorization header")
    if token.lower().startswith("bearer "):
        raise errors.unauthorized("Invalid access token: send the token itself in Authorization, without Bearer")
    record = auth.lookup(runtime.admin_state, NAME, token, runtime.settings.strict_auth)
    if record is None:
        raise errors.unauthorized()
    role = record.get("role", "admin")
    with runtime.store.lock:
        headers = ratelimit.charge(runtime.store.data[NAME], token, millis(runtime.clock.now()))
    ctx.response_headers.update(headers)  # sent with whatever the request is answered
    version = request.headers.get("LD-API-Version")
    if version is not None and not API_VERSION.match(version.strip()):
        raise errors.invalid(f"Unsupported LD-API-Version '{version}'; send beta or a version date such as 20240415")
    beta_era = runtime.settings.option("launchdarkly_require_beta") and operation_id not in FLAG_OPERATIONS
    if beta_era and (version or "").strip() != "beta":
        raise errors.forbidden(errors.BETA_REQUIRED)
    if request.method not in ("GET", "HEAD") and role not in WRITE_ROLES:
        raise errors.forbidden(
            f"Forbidden. Access to the requested resource was denied: the '{role}' role cannot make changes"
        )
    if operation_id == "patchExperiment":
        semantic_patch.reject_json_patch(request.get_data(cache=True))
    return Identity(token, role, version)


ROLES = ("reader", "writer", "admin")


def grant(body: Mapping[str, Any]) -> dict[str, Any]:
    """A key registration's LaunchDarkly part: the token's role (default admin)."""
    role = body.get("role", "admin")
    if role not in ROLES:
        raise Problem("bad_request", f"role must be one of: {', '.join(ROLES)}", attr="role")
    return {"role": role}
