"""One error model: a Problem says what went wrong and with which status; vendors only render it.

Rules, the contract check, auth, faults and the control API all raise ``Problem``. Each surface
(PostHog, LaunchDarkly, the control API) turns it into its own envelope, and the request journal
records the Problem itself, so nothing downstream guesses a reason from a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# kind -> HTTP status: the only table of its kind.
STATUS_BY_KIND: dict[str, int] = {
    "validation": 400,
    "parse_error": 400,
    "bad_request": 400,
    "not_authenticated": 401,
    "authentication_failed": 401,
    "permission_denied": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "unprocessable": 422,
    "throttled": 429,
    "server_error": 500,
    "contract_violation": 500,
    "unavailable": 503,
}
# The kind an injected status (a fault rule's) stands for; statuses outside the table get a generic kind.
KIND_BY_STATUS: dict[int, str] = {}
for _kind, _status in STATUS_BY_KIND.items():
    KIND_BY_STATUS.setdefault(_status, _kind)


def kind_for_status(status: int) -> str:
    return KIND_BY_STATUS.get(status) or ("server_error" if status >= 500 else "bad_request")


class Problem(Exception):
    """What went wrong, before a surface decides how to say it.

    ``kind`` names the failure (see ``STATUS_BY_KIND``) and sets the status unless ``status`` is
    given. ``code`` is the vendor-level code where a rule has one (``invalid_input``,
    ``optimistic_locking_error``…); ``attr`` the field at fault. ``extra`` carries facts a vendor
    may render (a change request, the nearest path, the location of a schema error; and
    ``request_shape``: the request broke the API's contract though a vendor parser found it) and
    ``headers`` what must go out with the answer (``Retry-After``).
    """

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        attr: str | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        keep_writes: bool = False,
    ) -> None:
        if kind not in STATUS_BY_KIND and status is None:
            raise ValueError(f"unknown problem kind {kind!r}")
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.attr = attr
        self.code = code
        self.status = status if status is not None else STATUS_BY_KIND[kind]
        self.extra: Mapping[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})
        # A refusal that is itself a change (an approval gate opening a change request): the
        # request's writes are committed although the answer is an error. Everything else rolls back.
        self.keep_writes = keep_writes

    @property
    def is_client_error(self) -> bool:
        return self.status < 500

    def summary(self) -> str:
        """One line for the journal and the access log: the field (when named) and why."""
        named = self.attr and not self.detail.startswith(str(self.attr))
        return f"{self.attr}: {self.detail}" if named else self.detail

    def to_json(self) -> dict[str, Any]:
        """What the journal keeps of a Problem."""
        return {"kind": self.kind, "status": self.status, "code": self.code, "detail": self.detail, "attr": self.attr}

    def __repr__(self) -> str:
        return f"Problem({self.kind!r}, {self.detail!r}, status={self.status})"


class MockContractViolation(Exception):
    """The mock's own answer broke its contract: a bug in the mock, reported to the test that caused it."""

    def __init__(self, detail: str, violations: list[str]) -> None:
        super().__init__(detail)
        self.violations = violations
