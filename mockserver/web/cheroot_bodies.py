"""Request bodies on cheroot (``serve`` over HTTPS), bounded as waitress bounds them over HTTP.

cheroot refuses a body over its cap in its own text/plain; a client of a vendor or of the control
API expects that API's JSON 413. So cheroot's own cap is off and these take its place: a declared
length past every cap is not read at all (the app sees the request with an empty body and the
declared length, its route refuses it in its own envelope, and the connection closes after the
answer); a length cheroot's ``int()`` reads but an HTTP length is not (``+5``, ``1_0``, ``-1``) is
a 400 that closes the connection; a chunked body is read through cheroot's chunk reader capped one
byte past the largest cap, which refuses a chunk before reading it. That refusal reaches
``LengthenedBodies`` as ``BodyTooLarge``, so it too is the route's 413.
"""

from __future__ import annotations

from typing import Any

from cheroot import errors, server, wsgi

from mockserver.web.streamed import UNREAD_BODY, BodyTooLarge


class _CappedRequest(server.HTTPRequest):
    def respond(self) -> None:
        if not self.chunked_read:
            declared = self.inheaders.get(b"Content-Length", b"0").strip()
            if not declared.isdigit():
                self.simple_response("400 Bad Request", "Content-Length must be a number of bytes.")
                self.close_connection = True
                return
            if int(declared) > self.server.mockserver_largest_cap:
                self.inheaders[b"Content-Length"] = b"0"  # cheroot reads none of it
                self.declared_over = declared.decode()
                self.close_connection = True
        super().respond()


class _Connection(server.HTTPConnection):
    RequestHandlerClass = _CappedRequest


class _ChunkedInput:
    """cheroot's chunked reader, its cap refusals said as ``BodyTooLarge``."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except errors.MaxSizeExceeded as exc:
            raise BodyTooLarge(str(exc)) from None
        except OSError as exc:
            if exc.args == ("Request Entity Too Large",):  # a chunk announced past the cap
                raise BodyTooLarge(str(exc)) from None
            raise


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway: a body refused unread is declared to the app, and closes the connection."""

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        declared = getattr(self.req, "declared_over", None)
        if declared is not None:
            env["CONTENT_LENGTH"], env[UNREAD_BODY] = declared, True
        elif self.req.chunked_read:
            env["wsgi.input"].maxlen = self.req.server.mockserver_largest_cap + 1  # checked before each chunk
            env["wsgi.input"] = _ChunkedInput(env["wsgi.input"])
        return env

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: object = None) -> object:
        if self.env.get(UNREAD_BODY):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


def install(http_server: wsgi.Server, largest_cap: int) -> None:
    """Bound ``http_server``'s bodies by ``largest_cap``, refused in the app's words."""
    http_server.max_request_body_size = 0  # cheroot's own check would answer in text/plain
    http_server.mockserver_largest_cap = largest_cap
    http_server.ConnectionClass = _Connection
    http_server.gateway = Gateway
