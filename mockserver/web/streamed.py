"""Request bodies with no declared length (chunked), read to a length before the app sees them.

waitress reads a chunked body itself and hands the app a Content-Length. werkzeug's server
(``MockServer``) and cheroot (``serve`` over HTTPS) hand it a stream instead, and werkzeug reads
such a stream only up to the route's cap and returns what it has: a body over the cap arrived cut
short (a JSON parse error, or a shorter document accepted) instead of being refused. Read here up
to the cap of the path's routes (as waitress reads up to its own), every body has a length, so the
route's own check refuses one over its cap with the API's 413 on every server. Chunked framing wins
over a Content-Length sent beside it (RFC 9112 §6.3), as the servers decode it.

A body over the cap is not read on (its stand-in length is past the cap) and the request is
marked ``UNREAD_BODY``: the server closes the connection after the answer (werkzeug's always
does; cheroot's gateway is told), so what was not read is never taken for the next request.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

_CHUNK = 64 * 1024
UNREAD_BODY = "mockserver.unread_body"  # environ key: close the connection after the answer


class BodyTooLarge(OSError):
    """Raised by a server's body stream that refuses to read past its own cap (cheroot's)."""


class _Unreadable(io.RawIOBase):
    """The body could not be read (a malformed chunk, the client gone): reading says so again,
    where werkzeug turns it into its usual 400."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer: Any) -> int:
        raise OSError(str(self._error))


class LengthenedBodies:
    """WSGI middleware: every request the app sees declares its body's length.

    ``cap_for(path)`` is the most any route of that path reads. A declared length past it needs
    nothing here: the route refuses it unread, and each server closes such a connection itself."""

    def __init__(self, app: Callable[..., Iterable[bytes]], cap_for: Callable[[str], int]) -> None:
        self.app = app
        self.cap_for = cap_for

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # Only a chunked request streams a body of unknown length: without Transfer-Encoding or
        # Content-Length a request has none (so a body-less GET costs one lookup here).
        transfer = environ.get("HTTP_TRANSFER_ENCODING")
        if transfer and "chunked" in transfer.lower() and environ.get("wsgi.input_terminated"):
            self._read_stream(environ)
        return self.app(environ, start_response)

    def _read_stream(self, environ: dict[str, Any]) -> None:
        cap = self.cap_for(environ.get("PATH_INFO") or "/")
        # werkzeug reads the stream whenever the key is there, and no length beside chunked.
        del environ["wsgi.input_terminated"]
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            body = _read_at_most(environ["wsgi.input"], cap + 1)
        except BodyTooLarge:
            environ["CONTENT_LENGTH"] = str(cap + 1)
            environ["wsgi.input"], environ[UNREAD_BODY] = io.BytesIO(), True
            return
        except (OSError, ValueError) as exc:  # werkzeug's ClientDisconnected is a ValueError too
            environ["wsgi.input"], environ["CONTENT_LENGTH"], environ[UNREAD_BODY] = _Unreadable(exc), "1", True
            return
        environ["CONTENT_LENGTH"] = str(len(body))
        if len(body) > cap:
            environ["wsgi.input"], environ[UNREAD_BODY] = io.BytesIO(), True
        else:
            environ["wsgi.input"] = io.BytesIO(body)


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
