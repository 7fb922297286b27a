"""LaunchDarkly authentication: access tokens, roles, rate budgets and the API-version header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import g

from mockserver.core import auth
from mockserver.vendors.launchdarkly import errors, ratelimit, semantic_patch
from mockserver.vendors.launchdarkly.models import millis

if TYPE_CHECKING:
    from flask import Request

    from mockserver.core.runtime import Runtime

NAME = "launchdarkly"
API_VERSION = re.compile(r"^(beta|\d{8})$")
WRITE_ROLES = ("writer", "admin")
HEADERS_KEY = "launchdarkly_rate_headers"


@dataclass(frozen=True)
class Identity:
    token: str
    role: str
    api_version: str | None


# The feature-flag API itself never was beta: only the experiment endpoints needed the header.
FLAG_OPERATIONS = frozenset({"getFeatureFlag", "patchFeatureFlag"})


def authenticate(runtime: Runtime, request: Request, operation_id: str, path_args: Mapping[str, str]) -> Identity:
    """Token, rate budget, API version, beta switch and role, in the order the service checks them."""
    token = request.headers.get("Authorization", "").strip()
    if not token:
        raise errors.unauthorized("No access token: send it in the Authorization header")
    if token.lower().startswith("bearer "):
        raise errors.unauthorized("Invalid access token: send the token itself in Authorization, without Bearer")
    grant = auth.lookup(runtime.admin_state, NAME, token, runtime.settings.strict_auth)
    if grant is None:
        raise errors.unauthorized()
    with runtime.store.lock:
        headers = ratelimit.charge(runtime.store.data[NAME], token, millis(runtime.clock.now()))
    setattr(g, HEADERS_KEY, headers)
    version = request.headers.get("LD-API-Version")
    if version is not None and not API_VERSION.match(version.strip()):
        raise errors.invalid(f"Unsupported LD-API-Version '{version}'; send beta or a version date such as 20240415")
    beta_era = runtime.settings.launchdarkly_require_beta and operation_id not in FLAG_OPERATIONS
    if beta_era and (version or "").strip() != "beta":
        raise errors.forbidden(errors.BETA_REQUIRED)
    if request.method not in ("GET", "HEAD") and grant.role not in WRITE_ROLES:
        raise errors.forbidden(
            f"Forbidden. Access to the requested resource was denied: the '{grant.role}' role cannot make changes"
        )
    if operation_id == "patchExperiment":
        semantic_patch.reject_json_patch(request.get_data(cache=True))
    return Identity(token, grant.role, version)
