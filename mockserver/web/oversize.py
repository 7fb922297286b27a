"""Bodies waitress refuses before reading them, answered by the app in the vendor's envelope.

``mockserver serve`` gives waitress the largest body any route takes, so a client announcing more
is refused before a byte of it is read. Waitress words that refusal itself, as ``text/plain``; a
client of the control API or of a vendor expects the JSON error of that API. Here the request,
minus its body, goes through the pipeline with a length past every cap: the route's own body
check refuses it as a body over the limit would be anywhere else (the vendor's or the control
API's 413, CORS headers, the journal), and the connection closes after the answer, since the
rest of the body is never read. Other errors waitress finds (a malformed request line or header)
keep its own answer: there is no route to word them.
"""

from __future__ import annotations

import io
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask, WSGITask


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


def install(server: Any) -> None:
    """Make ``server`` (from ``waitress.create_server``) answer refused bodies through the app."""
    server.channel_class = RefusingChannel
