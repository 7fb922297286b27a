"""LaunchDarkly authentication, one named step per check, in the order the service makes them.

token → SDK credentials refused → grant → rate budgets → API version → beta → role → custom role
→ patch format. Every step either passes or raises the vendor's Problem. The rate-limit headers
are put on ``ctx.response_headers`` as soon as the request is counted, so every answer from then
on carries them, refusals included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockserver.core import auth
from mockserver.core.problems import Problem
from mockserver.core.vendor import AuthRequest, HttpRequest
from mockserver.vendors.launchdarkly import errors, permissions, ratelimit, semantic_patch
from mockserver.vendors.launchdarkly.documented import documents
from mockserver.vendors.launchdarkly.models import millis

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

NAME = "launchdarkly"
API_VERSION = re.compile(r"^(beta|\d{8})$")
ROLES = ("reader", "writer", "admin")
WRITE_ROLES = ("writer", "admin")
# Environment credentials the REST API refuses: server-side SDK keys and mobile keys.
SDK_PREFIXES = {"sdk-": "an SDK key", "mob-": "a mobile key"}
CLIENT_SIDE_ID = re.compile(r"^[0-9a-f]{24}$")
# The feature-flag API never was beta: --launchdarkly-require-beta leaves every flag operation alone.
FLAG_OPERATIONS = frozenset(
    {
        "getFeatureFlags",
        "postFeatureFlag",
        "getFeatureFlag",
        "patchFeatureFlag",
        "deleteFeatureFlag",
        "getFeatureFlagStatusAcrossEnvironments",
        "getFeatureFlagStatuses",
        "getFeatureFlagStatus",
    }
)
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


def authenticate(ctx: AuthRequest) -> Identity:
    """Each step passes or raises; writes are judged by the custom role when the token has one, else its role."""
    runtime, request, operation_id = ctx.runtime, ctx.request, ctx.operation_id or ""
    token = _token(request)
    _refuse_environment_credentials(runtime, token)
    record = _grant(runtime, token)
    _charge(ctx, token, operation_id)
    version = _api_version(request, operation_id)
    _beta(runtime, operation_id, version)
    role = record.get("role", "admin")
    policy = record.get("policy")
    writes = request.method not in ("GET", "HEAD")
    if writes and policy:
        _custom_role(runtime, policy, request, operation_id, ctx.path_args)
    elif writes:
        _role(role, operation_id)
    if operation_id in SEMANTIC_PATCH_OPERATIONS:
        semantic_patch.reject_json_patch(request.get_data(cache=True))
    return Identity(token, role, version, tuple(policy) if policy else None, bool(record.get("service_token", False)))


def _token(request: HttpRequest) -> str:
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


def _grant(runtime: Runtime, token: str) -> dict[str, Any]:
    """The key's record: its role and the LaunchDarkly extras (policy, service token) it was registered with."""
    record = auth.lookup(runtime.admin_state, NAME, token, runtime.settings.strict_auth)
    if record is None:
        raise errors.unauthorized()
    return record


def caller(request: HttpRequest, token: str, operation_id: str) -> ratelimit.Caller:
    return ratelimit.Caller(token, operation_id, getattr(request, "remote_addr", None) or "unknown")


WINDOWS_ROW = (NAME, "@", "rate_windows")  # the store row the rate windows live in


def _charge(ctx: AuthRequest, token: str, operation_id: str) -> None:
    """Count the request; every answer from here on carries the rate-limit headers (a 429 too)."""
    runtime = ctx.runtime
    who = caller(ctx.request, token, operation_id)
    now = millis(runtime.clock.now())
    with runtime.store.lock:
        state = runtime.store.data[NAME]
        try:
            reported = ratelimit.charge(state, who, now)
        except BaseException:
            ctx.response_headers.update(ratelimit.headers(state, who, now))
            raise
        runtime.store.changed_outside([WINDOWS_ROW])
        ctx.response_headers.update(reported)


def _api_version(request: HttpRequest, operation_id: str) -> str | None:
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
    """Metric groups always need ``beta``; under the beta-era switch the experiment operations do too."""
    if operation_id in FLAG_OPERATIONS:
        return
    beta_era = runtime.settings.option("launchdarkly_require_beta") and operation_id in EXPERIMENT_ERA_BETA
    if (beta_era or operation_id in BETA_OPERATIONS) and version != "beta":
        raise errors.forbidden(errors.BETA_REQUIRED)


def _role(role: str, operation_id: str) -> None:
    if role not in WRITE_ROLES:
        raise errors.denied(f"The '{role}' role cannot make changes.")
    if operation_id in ADMIN_OPERATIONS and role != "admin":
        raise errors.denied(f"The '{role}' role cannot change environment settings; an admin token can.")


def _custom_role(
    runtime: Runtime, policy: list[dict[str, Any]], request: HttpRequest, operation_id: str, path: Mapping[str, str]
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


# -- key registration -------------------------------------------------------------------------


GRANT_FIELDS = ("vendor", "key", "role", "policy", "service_token")


def grant(body: Mapping[str, Any]) -> dict[str, Any]:
    """A key registration's LaunchDarkly part: its role (default admin), optionally a custom-role
    ``policy`` (its writes need an allowed action) and whether it is a ``service_token``."""
    for name in body:
        if name not in GRANT_FIELDS:  # PostHog scopes here would leave the default role, admin
            fields = ", ".join(GRANT_FIELDS[2:])
            raise Problem("bad_request", f"Unexpected field: {name!r}. A LaunchDarkly key takes {fields}.", attr=name)
    key = body.get("key")
    for prefix, what in SDK_PREFIXES.items():
        if isinstance(key, str) and key.startswith(prefix):  # it would be registered and still answer 401
            raise Problem(
                "bad_request",
                f"{what} ({prefix}...) never opens LaunchDarkly's REST API, registered or not; register a "
                "personal or service access token (api-...)",
                attr="key",
            )
    role = body.get("role", "admin")
    if role not in ROLES:
        raise Problem("bad_request", f"role must be one of: {', '.join(ROLES)}", attr="role")
    out: dict[str, Any] = {"role": role}
    policy = body.get("policy")
    if policy is not None:
        message = permissions.check_policy(policy)
        if message:
            raise Problem("bad_request", message, attr="policy")
        out["policy"] = policy
    service_token = body.get("service_token")
    if service_token is not None:
        if not isinstance(service_token, bool):
            raise Problem("bad_request", "service_token must be true or false", attr="service_token")
        out["service_token"] = service_token
    return out
