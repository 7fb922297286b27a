"""Bodies waitress refuses before reading them, answered by the app in the vendor's envelope.

``mockserver serve`` gives waitress the largest body any route takes, so a client announcing more
is refused before a byte of it is read; and its parser here knows each path's own cap, so a body
declared past it, or a chunked body whose next chunk would pass it, is refused as soon as the
headers or that chunk's size line arrive (waitress alone would read up to the largest cap, and
answer ``Expect: 100-continue`` first). Waitress words that refusal itself, as ``text/plain``; a
client of the control API or of a vendor expects the JSON error of that API. Here the request,
minus its body, goes through the pipeline with a length past every cap: the route's own body
check refuses it as a body over the limit would be anywhere else (the vendor's or the control
API's 413, CORS headers, the journal), and the connection closes after the answer, since the
rest of the body is never read. Other errors waitress finds (a malformed request line or header)
keep its own answer: there is no route to word them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import RequestEntityTooLarge


class _CappedParser(HTTPRequestParser):
    """waitress's parser, refusing a body past its path's cap (``cap_of``) before reading it.

    It also reads an absolute-form target (``GET http://name/path``) as RFC 9112 asks an origin
    server to: its authority is the request's host, whatever Host says, so the host guard judges
    the name the client asked for (waitress kept the Host header and dropped the authority).
    """

    cap_of: Callable[[str], int]

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        authority = getattr(self, "proxy_netloc", None)  # unset when the request line could not be read
        if self.headers_finished and authority:
            self.headers["HOST"] = authority
        if self.error is None and self.headers_finished and getattr(self, "path", ""):
            cap = self.cap_of(self.path)
            body = self.body_rcv
            chunked = self.chunked and body is not None  # then: what is held plus the rest of this chunk
            announced = len(body) + body.chunk_remainder if chunked else self.content_length
            if announced > cap:
                self.error = RequestEntityTooLarge(f"exceeds the cap of {cap} bytes for {self.path}")
                self.completed = True
        if self.error is not None:
            self.expect_continue = False  # a refused body is not invited
        return consumed


class _RefusalTask(WSGITask):
    def execute(self) -> None:
        self.set_close_on_finish()  # the body is left unread on the connection
        super().execute()

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ["wsgi.input"] = io.BytesIO()
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        declared = environ.get("CONTENT_LENGTH") or ""
        past_every_cap = self.channel.server.adj.max_request_body_size + 1
        environ["CONTENT_LENGTH"] = str(max(int(declared) if declared.isdigit() else 0, past_every_cap))
        return environ


def _error_task(channel: Any, request: Any) -> Any:
    """The app words a body refused for its size; waitress keeps its own answer to the rest."""
    if getattr(request.error, "code", None) == 413 and request.path:
        return _RefusalTask(channel, request)
    return ErrorTask(channel, request)


class RefusingChannel(HTTPChannel):
    """waitress's channel, with refused bodies answered by the app."""

    error_task_class = staticmethod(_error_task)


def install(server: Any, cap_of: Callable[[str], int]) -> None:
    """Make ``server`` (from ``waitress.create_server``) refuse a body past ``cap_of(path)`` before
    reading it, and answer refused bodies through the app."""
    parser = type("CappedParser", (_CappedParser,), {"cap_of": staticmethod(cap_of)})
    server.channel_class = type("CappedChannel", (RefusingChannel,), {"parser_class": parser})
