"""What the control client raises: refusals of the server, and slips in the arguments a test gives it.

Kept apart from the client so the journal's assertion helpers (``mockserver.calls``) and the
vendors' control helpers raise the same errors without importing the client.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID


class MockServerError(AssertionError):
    """The mock refused a control call (``field`` names the culprit), could not be reached, or
    raised an error inside while serving a test."""

    def __init__(
        self, message: str, *, status: int | None = None, error: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.field = field


class UsageError(MockServerError, TypeError):
    """A helper was given an argument it cannot use (``field`` names it): a slip in the test, not
    a refusal of the server. Also a ``TypeError``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.detail = message

    def __reduce__(self) -> tuple[Any, ...]:  # pytest-xdist and multiprocessing pickle errors
        return (type(self), (self.field, self.detail), self.__dict__)


def check_arg(field: str, value: Any, kinds: type | tuple[type, ...], what: str) -> None:
    """Refuse ``value`` unless it is one of ``kinds`` (a bool is never taken for a number)."""
    __tracebackhide__ = True
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        raise UsageError(field, f"expected {what}, got {type(value).__name__} {value!r:.80}")


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def int_id(field: str, value: Any, what: str) -> int:
    """A numeric id, given as an int or as the digits of one (``"3"``, as read from a response)."""
    __tracebackhide__ = True
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    check_arg(field, value, int, what)
    return value


MAX_URL_TEXT = 4096  # a value sent in a URL: past this no server takes the request line


def url_text(field: str, value: str) -> str:
    """A string a call sends in a URL (a path segment, a query value): text that UTF-8 can encode
    (no lone surrogate) and short enough for a request line."""
    __tracebackhide__ = True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(field, f"not text that can be sent (a lone surrogate): {value!r:.80}") from None
    if len(value) > MAX_URL_TEXT:
        raise UsageError(field, f"{len(value)} characters: too long to send in a URL (at most {MAX_URL_TEXT})")
    return value


def path_segment(field: str, value: Any) -> str:
    """An id placed in a control API path: an integer, a UUID or a plain token, quoted, never
    ``..`` or ``/``."""
    __tracebackhide__ = True
    check_arg(field, value, (int, str, UUID), "an id (int, str or UUID)")
    text = url_text(field, str(value))
    if not text or text in (".", ".."):
        raise UsageError(field, f"not an id: {text!r}")
    return quote(text, safe="")


class RemoteServerError(MockServerError):
    """An error raised inside a mock server in another process: its type and message, no traceback."""

    def __repr__(self) -> str:
        return str(self)
