"""LaunchDarkly's error body: {"code", "message"}, one code per HTTP status."""

from __future__ import annotations

from typing import Any

from mockserver.errors import ApiError, Problem

# Problem kind -> (status, code); codes are the ones LaunchDarkly documents.
_BY_KIND = {
    "validation": (400, "invalid_request"),
    "parse_error": (400, "invalid_request"),
    "unsupported_media_type": (415, "invalid_request"),
    "too_large": (413, "invalid_request"),
    "not_authenticated": (401, "unauthorized"),
    "authentication_failed": (401, "unauthorized"),
    "permission_denied": (403, "forbidden"),
    "not_found": (404, "not_found"),
    "method_not_allowed": (405, "method_not_allowed"),
    "throttled": (429, "rate_limited"),
    "contract_violation": (500, "mock_contract_violation"),
    "server_error": (500, "internal_server_error"),
}
NOT_FOUND = "Invalid resource identifier"
CONFLICT = "Conflict. Optimistic lock error. Try again later."
RATE_LIMITED = "You've exceeded the API rate limit. Try again later."
BETA_REQUIRED = "This API is in beta. To use it, your request must include the header `LD-API-Version: beta`."


def envelope(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def render(problem: Problem) -> tuple[int, dict[str, Any]]:
    status, code = _BY_KIND.get(problem.kind, _BY_KIND["server_error"])
    message = problem.detail
    if problem.kind == "validation" and problem.attr and problem.attr not in message:
        message = f"{problem.attr.replace('__', '.')}: {message}"
    elif problem.kind == "parse_error":
        message = f"Invalid request body: {problem.detail}"
    elif problem.kind == "not_found":
        message = NOT_FOUND
    return status, envelope(code, message)


def invalid(message: str) -> ApiError:
    return ApiError(400, envelope("invalid_request", message))


def unauthorized(message: str = "Invalid access token") -> ApiError:
    return ApiError(401, envelope("unauthorized", message))


def forbidden(message: str) -> ApiError:
    return ApiError(403, envelope("forbidden", message))


def not_found(message: str = NOT_FOUND) -> ApiError:
    return ApiError(404, envelope("not_found", message))


def conflict(message: str = CONFLICT) -> ApiError:
    return ApiError(409, envelope("optimistic_locking_error", message))


def patch_failed(message: str) -> ApiError:
    return ApiError(422, envelope("patch_failed", message))


def rate_limited(headers: dict[str, str]) -> ApiError:
    return ApiError(429, envelope("rate_limited", RATE_LIMITED), headers)
