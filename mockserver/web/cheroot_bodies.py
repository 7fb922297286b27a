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
Content-Length (RFC 9112 answers that with 400: cheroot kept the last), no obsolete line folding
(cheroot answered a fold before the first header with a 500), no whitespace before a colon and
no NUL. ``Expect: 100-continue`` is answered only for a body the route will read, and a chunked
body's trailer is read with it (cheroot left it to be parsed as the next request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cheroot import errors, server, wsgi

from mockserver.web.drop import REQUEST_KEY  # a dropped connection needs the request's socket
from mockserver.web.streamed import UNREAD_BODY, BodyTooLarge

MAX_HEADER_BYTES = 262_144  # waitress's default, which plain HTTP answers past with 431
_ONCE = (b"Host", b"Content-Length")
_CRLF = b"\r\n"


class _HeaderReader(server.HeaderReader):
    """cheroot's header reading, refusing (400) what HTTP forbids rather than keeping the last."""

    def __call__(self, rfile: Any, hdict: dict[bytes, bytes] | None = None) -> dict[bytes, bytes]:
        hdict = {} if hdict is None else hdict
        while True:
            line = rfile.readline()
            if not line:
                raise ValueError("Illegal end of headers.")
            if line == _CRLF:
                return hdict
            if not line.endswith(_CRLF):
                raise ValueError("HTTP requires CRLF terminators")
            if line[:1] in (b" ", b"\t"):
                raise ValueError("Obsolete line folding is not accepted (a header line starts with whitespace).")
            name, colon, value = line[:-2].partition(b":")
            if not colon or not name:
                raise ValueError("Illegal header line.")
            if name != name.rstrip():
                raise ValueError("Whitespace between a header name and its colon.")
            if b"\0" in line:
                raise ValueError("A header holds a NUL byte.")
            key, value = name.title(), value.strip()
            if key in _ONCE and key in hdict:
                raise ValueError(f"More than one {key.decode()} header.")
            if key in server.comma_separated_headers and hdict.get(key):
                value = hdict[key] + b", " + value
            hdict[key] = value


class _CappedRequest(server.HTTPRequest):
    header_reader = _HeaderReader()

    def read_request_headers(self) -> bool:
        """cheroot's, but ``100 Continue`` only invites a body the route would read."""
        expect: bytes | None = None
        read = self.header_reader

        def withholding(rfile: Any, hdict: dict[bytes, bytes]) -> dict[bytes, bytes]:
            nonlocal expect
            read(rfile, hdict)
            expect = hdict.pop(b"Expect", None)  # cheroot would answer it before the body is judged
            return hdict

        self.header_reader = withholding  # type: ignore[assignment]
        try:
            if not super().read_request_headers():
                return False
        finally:
            del self.header_reader
        if expect is not None:
            self.inheaders[b"Expect"] = expect
            if expect.lower() == b"100-continue" and self._body_wanted():
                try:
                    self.conn.wfile.write(self.server.protocol.encode("ascii") + b" 100 Continue\r\n\r\n")
                except OSError as exc:
                    if exc.args[0] not in errors.socket_errors_to_ignore:
                        raise
        return True

    def _body_wanted(self) -> bool:
        if self.chunked_read:
            return True
        declared = self.inheaders.get(b"Content-Length", b"0").strip()
        return declared.isdigit() and int(declared) <= self.cap

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
        """The cap of this request's path, read as the gateway writes PATH_INFO (cheroot has decoded it)."""
        return self.server.mockserver_cap_of((self.path or b"/").decode("ISO-8859-1"))


class _Connection(server.HTTPConnection):
    RequestHandlerClass = _CappedRequest


class _ChunkedInput:
    """cheroot's chunked reader, its cap refusals said as ``BodyTooLarge``."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._trailer_read = False

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
            if self._stream.closed and not self._trailer_read:  # the last chunk: its trailer follows
                self._trailer_read = True
                for _line in self._stream.read_trailer_lines():
                    pass
            return data
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
