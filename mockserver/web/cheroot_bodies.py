"""Request bodies on cheroot (``serve`` over HTTPS), bounded as waitress bounds them over HTTP.

cheroot refuses a body over its cap in its own text/plain; a client of a vendor or of the control
API expects that API's JSON 413. So cheroot's own cap is off and these take its place: a declared
length past every cap is not read at all (the app sees the request with an empty body and the
declared length, its route refuses it in its own envelope, and the connection closes after the
answer); a length cheroot's ``int()`` reads but an HTTP length is not (``+5``, ``1_0``, ``-1``) is
a 400 that closes the connection; a chunked body is read through cheroot's chunk reader capped one
byte past the largest cap, which refuses a chunk before reading it. That refusal reaches
``LengthenedBodies`` as ``BodyTooLarge``, so it too is the route's 413. Caps are the path's own
(``Settings.body_cap``), as over HTTP.

Headers are held to what waitress enforces over HTTP: at most 256 KiB of them, no second Host or
Content-Length (RFC 9112 answers that with 400: cheroot kept the last), no whitespace before a
colon and no NUL in a value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from cheroot import errors, server, wsgi

from mockserver.web.drop import REQUEST_KEY  # a dropped connection needs the request's socket
from mockserver.web.streamed import UNREAD_BODY, BodyTooLarge

MAX_HEADER_BYTES = 262_144  # waitress's default, which plain HTTP answers past with 431
_ONCE = (b"Host", b"Content-Length")


class _Headers(dict):
    """Header fields as cheroot collects them, refusing what HTTP forbids instead of keeping the last."""

    def __setitem__(self, key: bytes, value: bytes) -> None:
        if key in _ONCE and key in self:
            raise ValueError(f"More than one {key.decode()} header.")
        if b"\0" in value:
            raise ValueError("A header value holds a NUL byte.")
        super().__setitem__(key, value)


class _HeaderReader(server.HeaderReader):
    def __call__(self, rfile: Any, hdict: dict[bytes, bytes] | None = None) -> dict[bytes, bytes]:
        read = super().__call__(rfile, _Headers())
        if hdict is None:
            return read
        hdict.update(read)
        return hdict

    def _transform_key(self, key_name: bytes) -> bytes:
        if key_name != key_name.rstrip():
            raise ValueError("Whitespace between a header name and its colon.")
        return super()._transform_key(key_name)


class _CappedRequest(server.HTTPRequest):
    header_reader = _HeaderReader()

    def respond(self) -> None:
        if not self.chunked_read:
            declared = self.inheaders.get(b"Content-Length", b"0").strip()
            if not declared.isdigit():
                self.simple_response("400 Bad Request", "Content-Length must be a number of bytes.")
                self.close_connection = True
                return
            if int(declared) > self.cap:
                self.inheaders[b"Content-Length"] = b"0"  # cheroot reads none of it
                self.declared_over = declared.decode()
                self.close_connection = True
        super().respond()

    @property
    def cap(self) -> int:
        """The cap of this request's path (decoded as WSGI's PATH_INFO is)."""
        path = unquote_to_bytes(self.path or b"/").decode("latin-1")
        return self.server.mockserver_cap_of(path)


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
        env[REQUEST_KEY] = self.req
        declared = getattr(self.req, "declared_over", None)
        if declared is not None:
            env["CONTENT_LENGTH"], env[UNREAD_BODY] = declared, True
        elif self.req.chunked_read:
            env["wsgi.input"].maxlen = self.req.cap + 1  # checked before each chunk
            env["wsgi.input"] = _ChunkedInput(env["wsgi.input"])
        return env

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: object = None) -> object:
        if self.env.get(UNREAD_BODY):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


def install(http_server: wsgi.Server, cap_of: Callable[[str], int]) -> None:
    """Bound ``http_server``'s bodies by ``cap_of(path)``, refused in the app's words, and its headers."""
    http_server.max_request_body_size = 0  # cheroot's own check would answer in text/plain
    http_server.max_request_header_size = MAX_HEADER_BYTES
    http_server.mockserver_cap_of = cap_of
    http_server.ConnectionClass = _Connection
    http_server.gateway = Gateway
