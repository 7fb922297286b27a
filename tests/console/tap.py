"""Every HTTP exchange the browser has with the server, captured below Flask and checked by openapi-core.

The console is a client like any other: its requests must satisfy the bundled specs and the
server's answers must too. The tap records the raw WSGI exchange; ``problems()`` re-checks each
request with openapi-core's ``validate_request`` and each response with the suite's plain
openapi-core response check (``tests.speccheck``).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, PathsNotFound
from openapi_core.testing import MockRequest

from tests.speccheck import SpecViolation, canonical, check, contract_for

FINISH_S = 10.0


@dataclass
class Exchange:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    content_type: str | None = None
    response: bytes = b""
    error: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def from_browser(self) -> bool:
        """Sent by Chromium: not the test's own setup calls, nor the server replaying an approved change."""
        return "Chrome" in self.headers.get("User-Agent", "")


class Tap:
    """WSGI middleware that records each exchange (the body is read once and handed on)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        exchange = Exchange(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), headers, body
        )

        def recording_start(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            exchange.status = int(status.split()[0])
            exchange.response_headers = {k.lower(): v for k, v in response_headers}
            exchange.content_type = exchange.response_headers.get("content-type")
            return start_response(status, response_headers, exc_info)

        with self._lock:
            self.exchanges.append(exchange)
        try:
            chunks = list(self.app(environ, recording_start))
            exchange.response = b"".join(chunks)
        except BaseException as exc:  # a dropped connection (fault) ends here
            exchange.error = type(exc).__name__
            raise
        finally:
            exchange.finished.set()
        return chunks

    def problems(self) -> list[str]:
        """What breaks the specs among the browser's exchanges (dropped connections have no response).

        A test may end while the page still has a request in flight (a reload, say): each exchange is
        given a few seconds to finish before it is judged, so a half-recorded one is never checked.
        """
        out = []
        for ex in list(self.exchanges):
            if not ex.finished.wait(FINISH_S):
                out.append(f"{ex.method} {ex.path}: no answer within {FINISH_S} s")
                continue
            if ex.error is not None or not ex.from_browser:
                continue
            mimetype = (ex.content_type or "").split(";")[0] or None
            try:
                _check_request(ex)
                if "x-mock-fault" not in ex.response_headers:  # an injected fault may answer outside the contract
                    check(ex.method, ex.path, ex.query, ex.status, mimetype, ex.response)
            except SpecViolation as exc:
                out.append(str(exc))
        return out


def _check_request(ex: Exchange) -> None:
    contract = contract_for(ex.path)
    if contract is None or (ex.status in (404, 405) and not ex.path.startswith("/__admin")):
        return
    request = MockRequest(
        "http://localhost",
        ex.method.lower(),
        canonical(ex.path, contract),
        args=dict(parse_qsl(ex.query, keep_blank_values=True)),
        headers=ex.headers,
        data=ex.body or None,
        content_type=ex.headers.get("Content-Type", ""),
    )
    try:
        contract.openapi.validate_request(request)
    except (PathNotFound, PathsNotFound, OperationNotFound):
        if ex.status not in (404, 405):
            raise SpecViolation(f"{ex.method} {ex.path}: no documented operation, yet {ex.status}") from None
    except OpenAPIError as exc:
        cause = exc.__cause__
        detail = getattr(cause, "schema_errors", None)
        message = "; ".join(str(e.message) for e in detail) if detail else repr(cause or exc)
        raise SpecViolation(f"request {ex.method} {ex.path} breaks {contract.name}.yaml: {message}") from None
