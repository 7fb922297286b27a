"""LaunchDarkly authentication, one named step per check, in the order the service makes them.

token → SDK credentials refused → grant → rate budgets → API version → beta → role → custom role
→ patch format. Every step either passes or raises the vendor's Problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import g

from mockserver.core import auth
from mockserver.vendors.launchdarkly import errors, permissions, ratelimit, semantic_patch
from mockserver.vendors.launchdarkly.documented import documents
from mockserver.vendors.launchdarkly.models import millis

if TYPE_CHECKING:
    from flask import Request

    from mockserver.core.runtime import Runtime

NAME = "launchdarkly"
API_VERSION = re.compile(r"^(beta|\d{8})$")
WRITE_ROLES = ("writer", "admin")
HEADERS_KEY = "launchdarkly_rate_headers"
# Environment credentials the REST API refuses: server-side SDK keys and mobile keys.
SDK_PREFIXES = {"sdk-": "an SDK key", "mob-": "a mobile key"}
CLIENT_SIDE_ID = re.compile(r"^[0-9a-f]{24}$")
# The operations that were beta until experiments became GA, required only in the beta-era switch.
EXPERIMENT_ERA_BETA = frozenset(
    {
        "getExperiments",
        "getExperimentsAnyEnv",
        "createExperiment",
        "getExperiment",
        "patchExperiment",
        "createIteration",
        "getExperimentResults",
        "getExperimentResultsForMetricGroup",
        "getExperimentationSettings",
        "putExperimentationSettings",
        "getLegacyExperimentResults",
        "resetExperiment",
    }
)
# Resources LaunchDarkly still tags beta: always need LD-API-Version: beta.
BETA_OPERATIONS = frozenset(
    {"getMetricGroups", "createMetricGroup", "getMetricGroup", "patchMetricGroup", "deleteMetricGroup"}
)
# Writes a writer may not make: environment settings belong to admins.
ADMIN_OPERATIONS = frozenset({"patchEnvironment"})
SEMANTIC_PATCH_OPERATIONS = frozenset({"patchExperiment", "patchHoldout", "updateLayer"})


@dataclass(frozen=True)
class Identity:
    token: str
    role: str
    api_version: str | None
    policy: tuple[dict[str, Any], ...] | None = None
    service_token: bool = False


def authenticate(runtime: Runtime, request: Request, operation_id: str, path_args: Mapping[str, str]) -> Identity:
    """Each step passes or raises; writes are judged by the custom role when the token has one, else its role."""
    token = _token(request)
    _refuse_environment_credentials(runtime, token)
    grant, record = _grant(runtime, token)
    _charge(runtime, request, token, operation_id)
    version = _api_version(request, operation_id)
    _beta(runtime, operation_id, version)
    writes = request.method not in ("GET", "HEAD")
    policy = record.get("policy")
    if writes and policy:
        _custom_role(runtime, policy, request, operation_id, path_args)
    elif writes:
        _role(grant.role, operation_id)
    if operation_id in SEMANTIC_PATCH_OPERATIONS:
        semantic_patch.reject_json_patch(request.get_data(cache=True))
    return Identity(
        token, grant.role, version, tuple(policy) if policy else None, bool(record.get("service_token", False))
    )


def _token(request: Request) -> str:
    token = request.headers.get("Authorization", "").strip()
    if not token:
        raise errors.unauthorized("No access token: send it in the Authorization header")
    if token.lower().startswith("bearer "):
        raise errors.unauthorized("Invalid access token: send the token itself in Authorization, without Bearer")
    return token


def _refuse_environment_credentials(runtime: Runtime, token: str) -> None:
    """SDK keys, mobile keys and client-side IDs never open the REST API, whatever the auth mode."""
    for prefix, what in SDK_PREFIXES.items():
        if token.startswith(prefix):
            raise errors.unauthorized(
                f"Invalid access token: {what} ({prefix}...) cannot be used with the REST API; "
                "use a personal or service access token"
            )
    if CLIENT_SIDE_ID.match(token):
        with runtime.store.lock:
            projects = runtime.store.data[NAME]["projects"].values()
            if any(env["_id"] == token for p in projects for env in p["environments"].values()):
                raise errors.unauthorized(
                    "Invalid access token: a client-side ID cannot be used with the REST API; "
                    "use a personal or service access token"
                )


def _grant(runtime: Runtime, token: str) -> tuple[auth.ApiKey, dict[str, Any]]:
    """The key's grant, and the LaunchDarkly extras (policy, service token) it was registered with."""
    grant = auth.lookup(runtime.admin_state, NAME, token, runtime.settings.strict_auth)
    if grant is None:
        raise errors.unauthorized()
    return grant, auth.registry(runtime.admin_state).get(f"{NAME}:{token}", {})


def caller(request: Request, token: str, operation_id: str) -> ratelimit.Caller:
    return ratelimit.Caller(token, operation_id, request.remote_addr or "unknown")


def _charge(runtime: Runtime, request: Request, token: str, operation_id: str) -> None:
    """Count the request; every answer from here on carries the rate-limit headers."""
    who = caller(request, token, operation_id)
    now = millis(runtime.clock.now())
    with runtime.store.lock:
        state = runtime.store.data[NAME]
        try:
            ratelimit.charge(state, who, now)
        finally:
            setattr(g, HEADERS_KEY, ratelimit.headers(state, who, now))


def _api_version(request: Request, operation_id: str) -> str | None:
    """A malformed LD-API-Version is a 400 where the operation documents one; elsewhere it is ignored."""
    version = request.headers.get("LD-API-Version")
    if version is not None and not API_VERSION.match(version.strip()):
        if documents(operation_id, 400):
            raise errors.invalid(
                f"Unsupported LD-API-Version '{version}'; send beta or a version date such as 20240415"
            )
        return None
    return version.strip() if version is not None else None


def _beta(runtime: Runtime, operation_id: str, version: str | None) -> None:
    beta_era = runtime.settings.launchdarkly_require_beta and operation_id in EXPERIMENT_ERA_BETA
    if (beta_era or operation_id in BETA_OPERATIONS) and version != "beta":
        raise errors.forbidden(errors.BETA_REQUIRED)


def _role(role: str, operation_id: str) -> None:
    if role not in WRITE_ROLES:
        raise errors.denied(f"The '{role}' role cannot make changes.")
    if operation_id in ADMIN_OPERATIONS and role != "admin":
        raise errors.denied(f"The '{role}' role cannot change environment settings; an admin token can.")


def _custom_role(
    runtime: Runtime, policy: list[dict[str, Any]], request: Request, operation_id: str, path: Mapping[str, str]
) -> None:
    """A custom-role token may make a write only when its policy allows every action the write needs."""
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        body = None  # the contract check answers for a body it cannot read
    with runtime.store.lock:
        wanted = permissions.needs(runtime.store.data[NAME], operation_id, dict(path), body)
    refused = permissions.first_refused(policy, wanted)
    if refused is not None:
        action, resource = refused
        raise errors.denied(f"The token's custom role does not allow {action} on {resource}.")
