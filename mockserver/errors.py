"""Vendor-neutral client errors; each vendor renders them in its own envelope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Problem:
    """What went wrong, before a vendor decides how to say it.

    ``kind`` is one of: validation, parse_error, unsupported_media_type, too_large,
    not_authenticated, authentication_failed, permission_denied, not_found,
    method_not_allowed, throttled, contract_violation, server_error.
    ``code`` is the field-level code (required, invalid, max_length…) for validation.
    """

    kind: str
    detail: str
    attr: str | None = None
    code: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class ApiError(Exception):
    """A finished HTTP answer raised from anywhere below the route."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class ProblemError(Exception):
    """A Problem raised from shared code; the active vendor renders it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


class MockContractViolation(Exception):
    """The mock's own answer broke its contract: a bug in the mock, reported to the test that caused it."""

    def __init__(self, detail: str, violations: list[str]) -> None:
        super().__init__(detail)
        self.violations = violations


class ErrorRenderer(Protocol):
    def __call__(self, problem: Problem) -> tuple[int, dict[str, Any]]: ...
