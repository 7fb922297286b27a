"""PostHog's error envelope: {"type", "code", "detail", "attr"} as drf-exceptions-hog renders it."""

from __future__ import annotations

from typing import Any

from mockserver.errors import ApiError, Problem

# kind -> (status, type, code)
_ENVELOPE = {
    "validation": (400, "validation_error", "invalid_input"),
    "parse_error": (400, "invalid_request", "parse_error"),
    "unsupported_media_type": (415, "invalid_request", "unsupported_media_type"),
    "too_large": (413, "invalid_request", "request_too_large"),
    "not_authenticated": (401, "authentication_error", "not_authenticated"),
    "authentication_failed": (401, "authentication_error", "authentication_failed"),
    "permission_denied": (403, "authentication_error", "permission_denied"),
    "not_found": (404, "invalid_request", "not_found"),
    "method_not_allowed": (405, "invalid_request", "method_not_allowed"),
    "throttled": (429, "throttled_error", "throttled"),
    "contract_violation": (500, "server_error", "mock_contract_violation"),
    "server_error": (500, "server_error", "error"),
}


def envelope(type_: str, code: str, detail: str, attr: str | None = None) -> dict[str, Any]:
    return {"type": type_, "code": code, "detail": detail, "attr": attr}


def render(problem: Problem) -> tuple[int, dict[str, Any]]:
    status, type_, code = _ENVELOPE.get(problem.kind, _ENVELOPE["server_error"])
    if problem.kind == "validation" and problem.extra.get("location") == "path":
        # DRF answers an id that cannot be an id the same as a missing object.
        return 404, envelope("invalid_request", "not_found", "Not found.")
    if problem.kind == "validation":
        return status, envelope(type_, problem.code or code, problem.detail, problem.attr)
    return status, envelope(type_, code, problem.detail, None)


def invalid(detail: str, attr: str | None = None, code: str = "invalid_input") -> ApiError:
    """A 400 validation_error; lifecycle messages use code invalid_input and no attr."""
    return ApiError(400, envelope("validation_error", code, detail, attr))


def not_found(detail: str = "Not found.") -> ApiError:
    return ApiError(404, envelope("invalid_request", "not_found", detail))


def denied(detail: str) -> ApiError:
    return ApiError(403, envelope("authentication_error", "permission_denied", detail))


def detail_only(status: int, detail: str) -> ApiError:
    """Some PostHog actions answer a bare {"detail": ...} instead of the envelope."""
    return ApiError(status, {"detail": detail})
