"""PostHog's error envelope: {"type", "code", "detail", "attr"} as drf-exceptions-hog renders it.

Rules raise Problems through the helpers below; ``render`` is the only place a PostHog error body
is shaped. A few PostHog views answer outside the envelope (a bare ``{"detail": …}`` or
``{"error": …}``): such Problems carry ``extra["form"]`` and are rendered that way here.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.problems import Problem, kind_for_status

# kind -> (type, code)
_ENVELOPE = {
    "validation": ("validation_error", "invalid_input"),
    "bad_request": ("validation_error", "invalid_input"),
    "parse_error": ("invalid_request", "parse_error"),
    "unsupported_media_type": ("invalid_request", "unsupported_media_type"),
    "too_large": ("invalid_request", "request_too_large"),
    "not_authenticated": ("authentication_error", "not_authenticated"),
    "authentication_failed": ("authentication_error", "authentication_failed"),
    "permission_denied": ("authentication_error", "permission_denied"),
    "not_found": ("invalid_request", "not_found"),
    "method_not_allowed": ("invalid_request", "method_not_allowed"),
    "not_acceptable": ("invalid_request", "not_acceptable"),
    "conflict": ("invalid_request", "conflict"),
    "unprocessable": ("validation_error", "invalid_input"),
    "throttled": ("throttled_error", "throttled"),
    "contract_violation": ("server_error", "mock_contract_violation"),
    "server_error": ("server_error", "error"),
    "unavailable": ("server_error", "error"),
}


def envelope(type_: str, code: str, detail: str, attr: str | None = None) -> dict[str, Any]:
    return {"type": type_, "code": code, "detail": detail, "attr": attr}


def render(problem: Problem) -> tuple[int, Any]:
    form = problem.extra.get("form")
    if form == "detail":
        return problem.status, {"detail": problem.detail}
    if form == "error":
        return problem.status, {"error": problem.detail}
    if form == "fields":  # a body of named facts (approval conflicts): code (and detail) first
        head = {"code": problem.code, "detail": problem.detail}
        if not problem.extra.get("detail", True):
            del head["detail"]
        return problem.status, {**head, **problem.extra["fields"]}
    if problem.kind == "validation" and problem.extra.get("location") == "path":
        # DRF answers an id that cannot be an id the same as a missing object.
        return 404, envelope("invalid_request", "not_found", "Not found.")
    type_, code = _ENVELOPE.get(problem.kind, _ENVELOPE["server_error"])
    # drf-exceptions-hog answers DRF's generic code "invalid" as "invalid_input", field errors included.
    code = problem.code or code
    code = "invalid_input" if code == "invalid" else code
    if problem.kind in ("validation", "bad_request", "unprocessable"):
        return problem.status, envelope(type_, code, problem.detail, problem.attr)
    return problem.status, envelope(type_, code, problem.detail, None)


def invalid(detail: str, attr: str | None = None, code: str = "invalid_input") -> Problem:
    """A 400 validation_error; lifecycle messages use code invalid_input and no attr."""
    return Problem("validation", detail, attr=attr, code=code)


def field_error(detail: str, attr: str, code: str) -> Problem:
    """A field the serializer cannot read (missing, wrong type or format): the request broke the
    API's contract, as a schema failure does, even though PostHog's own parser found it."""
    return Problem("validation", detail, attr=attr, code=code, extra={"request_shape": True})


def conflict(detail: str) -> Problem:
    """PostHog's ``Conflict`` (409, code ``conflict``)."""
    return Problem("conflict", detail)


def not_found(detail: str = "Not found.") -> Problem:
    return Problem("not_found", detail)


def denied(detail: str) -> Problem:
    return Problem("permission_denied", detail)


def detail_only(status: int, detail: str) -> Problem:
    """Some PostHog actions answer a bare {"detail": ...} instead of the envelope."""
    return Problem(kind_for_status(status), detail, status=status, extra={"form": "detail"})


def error_only(status: int, detail: str) -> Problem:
    """A few PostHog views answer {"error": ...} (eligible_feature_flags' paging check)."""
    return Problem(kind_for_status(status), detail, status=status, extra={"form": "error"})


def with_fields(
    kind: str, code: str, detail: str, fields: dict[str, Any], *, keep_writes: bool = False, with_detail: bool = True
) -> Problem:
    """A Problem whose body carries facts beside code and detail (approval conflicts); some of
    PostHog's bodies carry no ``detail`` (``with_detail=False``)."""
    extra = {"form": "fields", "fields": fields, "detail": with_detail}
    return Problem(kind, detail, code=code, extra=extra, keep_writes=keep_writes)
