"""LaunchDarkly's error body: {"code", "message", "id"}; rules raise Problems through the helpers below.

LaunchDarkly documents no 413 or 415 on its operations: a body that is not JSON, or too large to
read, is a request it "cannot understand", which it answers 400 ``invalid_request``.
"""

from __future__ import annotations

import uuid
from typing import Any

from mockserver.core.problems import Problem

# Problem kind -> code; codes are the ones LaunchDarkly documents. A rule may name another code.
_CODE_BY_KIND = {
    "validation": "invalid_request",
    "bad_request": "invalid_request",
    "parse_error": "invalid_request",
    "unsupported_media_type": "invalid_request",
    "too_large": "invalid_request",
    "not_authenticated": "unauthorized",
    "authentication_failed": "unauthorized",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "invalid_request",
    "conflict": "conflict",
    "unprocessable": "patch_failed",
    "throttled": "rate_limited",
    "contract_violation": "mock_contract_violation",
    "server_error": "internal_server_error",
    "unavailable": "service_unavailable",
}
# Kinds LaunchDarkly answers with another status than the core's default for the kind.
_STATUS_BY_KIND = {"unsupported_media_type": 400, "too_large": 400}
# Codes a LaunchDarkly rule may name; a schema error's field-level code (min_value…) is not one of them.
CODES = frozenset(_CODE_BY_KIND.values()) | {"optimistic_locking_error"}
NOT_FOUND = "Invalid resource identifier"
CONFLICT = "Conflict. Optimistic lock error. Try again later."
FORBIDDEN = "Forbidden. Access to the requested resource was denied."
RATE_LIMITED = "You've exceeded the API rate limit. Try again later."
BETA_REQUIRED = "This API is in beta. To use it, your request must include the header `LD-API-Version: beta`."
# Error ids are stable for a given answer, so the same request against the same state answers the same bytes.
_ID_SPACE = uuid.UUID("6f1d9b52-0c5e-4d39-9a57-2f7c1e0b8a44")


def envelope(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "id": str(uuid.uuid5(_ID_SPACE, f"{code}\n{message}"))}


def render(problem: Problem) -> tuple[int, dict[str, Any]]:
    code = problem.code if problem.code in CODES else _CODE_BY_KIND.get(problem.kind, "internal_server_error")
    message = problem.detail
    if problem.kind == "validation" and problem.attr and problem.attr not in message:
        message = f"{problem.attr.replace('__', '.')}: {message}"
    elif problem.kind == "parse_error":
        message = f"Invalid request body: {problem.detail}"
    elif problem.kind == "unsupported_media_type":
        message = f"Invalid request body: send JSON with Content-Type: application/json ({problem.detail})"
    elif problem.kind == "not_found" and problem.code is None:  # an unmatched path, a bad id
        message = NOT_FOUND
    return _STATUS_BY_KIND.get(problem.kind, problem.status), envelope(code, message)


def invalid(message: str) -> Problem:
    return Problem("validation", message, code="invalid_request")


def unauthorized(message: str = "Invalid access token") -> Problem:
    return Problem("authentication_failed", message, code="unauthorized")


def forbidden(message: str) -> Problem:
    return Problem("permission_denied", message, code="forbidden")


def denied(reason: str) -> Problem:
    """LaunchDarkly's 403 for a role or custom role that does not allow the action; the reason follows."""
    return forbidden(f"{FORBIDDEN} {reason}")


def not_found(message: str = NOT_FOUND) -> Problem:
    return Problem("not_found", message, code="not_found")


def conflict(message: str = CONFLICT) -> Problem:
    return Problem("conflict", message, code="optimistic_locking_error")


def patch_failed(message: str) -> Problem:
    return Problem("unprocessable", message, code="patch_failed")


def rate_limited(headers: dict[str, str]) -> Problem:
    return Problem("throttled", RATE_LIMITED, code="rate_limited", headers=headers)


def already_exists(message: str) -> Problem:
    """409 with code conflict: a create whose key is taken (not an optimistic-locking failure)."""
    return Problem("conflict", message, code="conflict")


def in_use(message: str) -> Problem:
    """409 with code conflict: a deletion refused because something still depends on the resource."""
    return Problem("conflict", message, code="conflict")
