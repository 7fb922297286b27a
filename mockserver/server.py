"""MockServer: the app on a real socket in a background thread, for tests and embedding."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mockserver.app import create_app
from mockserver.core.settings import Settings, build
from mockserver.tls import files_for, server_context

# How often the serving thread looks for a stop request: ``stop()`` waits up to this long (the
# socketserver default, 0.5 s, was half a second added to every pytest session's end).
POLL_S = 0.05


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the journal (/__admin/requests) records them instead."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class MockServer:
    """``with MockServer(seed=1) as server: requests.get(server.url + "/__admin/health")``.

    Binds 127.0.0.1 on a free port unless told otherwise; ``tls="self-signed"`` (or ``tls_cert`` and
    ``tls_key``) serves HTTPS, with ``server.tls.ca`` the CA file a client verifies against.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        # A copy: the caller's Settings stay as they were. Overrides are parsed as Settings parses
        # them (strings as the CLI takes them; vendor options by name).
        values = dataclasses.asdict(settings) if settings is not None else {"port": 0}
        values["options"] = dict(values.get("options") or {})
        try:
            base = build({**values, **overrides})
        except TypeError as exc:
            raise TypeError(f"MockServer() got an {exc}") from None
        self.settings = base
        # One state file, one server: the app holds it from before it is read until stop().
        self.app = create_app(base)
        try:
            self.tls = files_for(base)  # HTTPS when the settings ask for it (tls, or tls_cert and tls_key)
        except BaseException:
            if self.runtime.state_file is not None:  # let the file go now, not when the app is collected
                self.runtime.state_file.close()
            raise
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def runtime(self):
        return self.app.extensions["mockserver"]

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server is not running")
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"{self.settings.scheme}://{self.settings.host}:{self.port}"

    def start(self) -> MockServer:
        if self._server is None:
            if self.runtime.state_file is not None:  # started again after stop(): hold it again
                self.runtime.state_file.acquire()
            context = None
            if self.tls is not None:
                context = server_context(self.tls.cert, self.tls.key)
            self._server = make_server(
                self.settings.host,
                self.settings.port,
                self.app,
                threaded=True,
                request_handler=_QuietHandler,
                ssl_context=context,
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": POLL_S},
                name="mockserver",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; the state file is folded whole (as a clean stop of ``serve`` does) and let go."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None
        if self.runtime.state_file is not None:
            self.runtime.state_file.close()  # folded whole and let go; a later write takes it again

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
