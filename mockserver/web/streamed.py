"""Request bodies with no declared length (chunked), read to a length before the app sees them.

waitress reads a chunked body itself and hands the app a Content-Length. werkzeug's server
(``MockServer``) and cheroot (``serve`` over HTTPS) hand it a stream instead, and werkzeug reads
such a stream only up to the route's cap and returns what it has: a body over the cap arrived cut
short (a JSON parse error, or a shorter document accepted) instead of being refused. Read here up
to the largest cap any route takes, every body has a length, so the route's own check refuses one
over its cap with the API's 413 on every server. A body over the largest cap is not read on (its
stand-in length is past every cap) and the connection closes after the answer, so what was not
read is never taken for the next request.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

_CHUNK = 64 * 1024


class _Unreadable(io.RawIOBase):
    """The body could not be read (a malformed chunk, the client gone): reading says so again,
    where werkzeug turns it into its usual 400."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer: Any) -> int:
        raise OSError(str(self._error))


UNREAD_BODY = "mockserver.unread_body"  # environ key: close the connection after the answer


class LengthenedBodies:
    """WSGI middleware: every request the app sees declares its body's length."""

    def __init__(self, app: Callable[..., Iterable[bytes]], largest_cap: int) -> None:
        self.app = app
        self.largest_cap = largest_cap

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        cap = self.largest_cap
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared:
            if declared.isdigit() and int(declared) > cap:
                environ["wsgi.input"], environ[UNREAD_BODY] = io.BytesIO(), True
        elif environ.get("wsgi.input_terminated"):
            # werkzeug reads the stream whenever the key is there, and no length beside chunked.
            del environ["wsgi.input_terminated"]
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            try:
                body = _read_at_most(environ["wsgi.input"], cap + 1)
            except (OSError, ValueError) as exc:  # werkzeug's ClientDisconnected is a ValueError too
                environ["wsgi.input"], environ["CONTENT_LENGTH"], environ[UNREAD_BODY] = _Unreadable(exc), "1", True
                return self.app(environ, start_response)
            over = len(body) > cap
            environ["wsgi.input"] = io.BytesIO(b"" if over else body)
            environ["CONTENT_LENGTH"] = str(len(body))
            if over:
                environ[UNREAD_BODY] = True
        return self.app(environ, start_response)


def _read_at_most(stream: Any, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = stream.read(min(_CHUNK, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)
