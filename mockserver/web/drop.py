"""A fault that drops the connection: close the socket without sending a byte (WSGI wrapper)."""

from __future__ import annotations

import contextlib
import errno
import socket
from typing import Any

REQUEST_KEY = "mockserver.cheroot_request"  # set by mockserver.web.cheroot_bodies (HTTPS)
DROP_KEY = "mockserver.drop_connection"  # set in the WSGI environ by the pipeline's fault stage


class DropConnection:
    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def guarded(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if environ.get(DROP_KEY):
                return lambda _data: None
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, guarded)
        if environ.get(DROP_KEY):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            drop(environ)
        return result


def drop(environ: dict[str, Any]) -> None:
    """Each server hides its socket differently; without one (the test client) the caller gets the error.

    The error carries ECONNRESET as its number: cheroot (HTTPS) then closes the connection without
    an answer, as for a client that went away (any other OSError it answers with a 500)."""
    if "waitress.client_disconnected" in environ:
        from waitress.channel import ClientDisconnected

        raise ClientDisconnected("mockserver fault: connection dropped")
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    request = environ.get(REQUEST_KEY)
    if request is not None:  # cheroot
        sock = request.conn.socket
        request.close_connection = True
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError(errno.ECONNRESET, "mockserver fault: connection dropped")
