"""In-process transports: code that calls the mock with ``requests`` or ``httpx`` reaches the app
object directly, with no socket, through the same pipeline (auth, contract checks, faults, journal).

Explicitly, for one session or client::

    session.mount("http://mockserver.invalid", RequestsAdapter(app))
    httpx.Client(transport=WSGITransport(app)) / httpx.AsyncClient(transport=AsyncWSGITransport(app))

Or for all code, unchanged (what the ``mockserver_app`` fixture does)::

    with route_to_app(app, "http://mockserver.invalid"):
        my_app.run(base_url="http://mockserver.invalid")  # its own requests/httpx calls land in the app

``route_to_app`` sends requests for that host to the app and leaves every other host alone. The
``.invalid`` top-level domain never resolves, so a request that escapes the routing fails loudly
instead of reaching a real service.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import threading
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

DEFAULT_URL = "http://mockserver.invalid"
DROPPED = "the mock dropped the connection (a drop_connection fault)"

Wsgi = Any  # a WSGI application: (environ, start_response) -> iterable of bytes


class Dropped(ConnectionError):
    """The app dropped the connection (a fault); each transport raises its library's own error."""


class TimedOut(TimeoutError):
    """No answer within the client's read timeout; each transport raises its library's own error."""


def may_be_slow(app: Wsgi) -> bool:
    """Whether this app may take long to answer: a mock with ``--latency`` or a fault rule set (a
    delay is the only way it is slow), or an app that is not a mock."""
    extensions = getattr(app, "extensions", None)
    runtime = extensions.get("mockserver") if isinstance(extensions, dict) else None
    if runtime is None:
        return True
    return runtime.settings.latency is not None or bool(runtime.faults)


def call_in_time(
    app: Wsgi, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes, timeout: float | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """``call_wsgi`` that gives up after ``timeout`` seconds, as a client's read timeout does.

    The app goes on in its thread and finishes the request, as a server does when its client has
    gone: a write it makes still lands, and the journal records it. Without a timeout, or when the
    app cannot be slow, the app is called directly (no thread).
    """
    if timeout is None or not may_be_slow(app):
        return call_wsgi(app, method, url, headers, body)
    headers = list(headers)
    outcome: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(call_wsgi(app, method, url, headers, body))
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="mockserver-in-process-call", daemon=True).start()
    if not done.wait(timeout):
        raise TimedOut(f"no answer from the mock within the read timeout of {timeout:g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _read_timeout(timeout: Any) -> float | None:
    """The read part of a ``requests`` timeout: a number, a (connect, read) pair, or urllib3's ``Timeout``."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) > 1 else None
    if hasattr(timeout, "total"):  # urllib3's Timeout: its read_timeout raises before a connection starts
        read = timeout._read if isinstance(getattr(timeout, "_read", None), int | float) else timeout.total
    else:
        read = timeout
    return float(read) if isinstance(read, int | float) else None


def call_wsgi(
    app: Wsgi, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through a WSGI app: status, headers and body, as a server would send them."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    host = None
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # the body arrives whole: its length is set below
        else:
            if key == "HOST":
                host = value
            key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["HTTP_HOST"] = host or parts.netloc
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    answer: list[Any] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer[:] = [int(status.split(" ", 1)[0]), response_headers]
        return lambda _data: None

    try:
        result = app(environ, start_response)
    except ConnectionResetError:
        raise Dropped(DROPPED) from None
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    # What the server adds to every answer over HTTP (waitress: the real time, its ident).
    sent = {name.lower() for name, _value in answer[1]}
    extra = [(n, v) for n, v in (("Date", formatdate(usegmt=True)), ("Server", "mockserver")) if n.lower() not in sent]
    return answer[0], [*answer[1], *extra], content


# ---------------------------------------------------------------------------------------------
# requests


def _requests_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in body)


class _Sent:
    """What ``requests`` reads of ``http.client``'s response beside urllib3's: the headers as an
    ``HTTPMessage`` (its cookie jar takes ``Set-Cookie`` from there), and whether it was a HEAD."""

    def __init__(self, method: str, headers: list[tuple[str, str]]) -> None:
        from http.client import HTTPMessage

        self.msg = HTTPMessage()
        for name, value in headers:
            self.msg[name] = value  # adds: repeated headers stay separate
        self._method = method
        self._closed = False

    def close(self) -> None:
        self._closed = True

    def isclosed(self) -> bool:
        return self._closed


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, the port only when it is not the scheme's own."""
    scheme, host, port = _Router.key(url)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" if port == (443 if scheme == "https" else 80) else f"{scheme}://{shown}:{port}"


@functools.cache
def _app_pool_class() -> type:
    """urllib3's connection pool with the socket replaced by the app.

    Everything around the exchange stays urllib3's and ``requests``': an adapter's ``Retry`` (on
    statuses, dropped connections, timeouts), cookies, repeated headers, ``response.raw`` as a
    urllib3 response, redirects, chunked (streamed) request bodies.
    """
    from http.client import RemoteDisconnected

    import urllib3
    from urllib3 import HTTPConnectionPool, HTTPResponse
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    if int(urllib3.__version__.split(".")[0]) < 2:
        raise RuntimeError(f"in-process requests need urllib3 2 or newer; this is urllib3 {urllib3.__version__}")

    class InProcessApp(HTTPConnectionPool):  # named in urllib3 errors: "InProcessApp(host=…)"
        def __init__(self, app: Wsgi, origin: str) -> None:
            parts = urlsplit(origin)
            super().__init__(parts.hostname or "localhost", parts.port, maxsize=10)
            self.scheme = parts.scheme
            self.app = app
            self.origin = origin

        def _make_request(  # type: ignore[override]
            self,
            conn: Any,
            method: str,
            url: str,
            body: Any = None,
            headers: Any = None,
            retries: Any = None,
            timeout: Any = None,
            chunked: bool = False,
            response_conn: Any = None,
            preload_content: bool = True,
            decode_content: bool = True,
            enforce_content_length: bool = True,
        ) -> Any:
            timeout_obj = self._get_timeout(timeout)
            timeout_obj.start_connect()
            read = timeout_obj.read_timeout
            read = float(read) if isinstance(read, int | float) and not isinstance(read, bool) else None
            target = url if "://" in url else self.origin + url
            items = list(headers.items()) if headers else []
            if not any(name.lower() == "host" for name, _value in items):
                items.insert(0, ("Host", self.origin.split("://", 1)[1]))  # as http.client sends it
            try:
                status, answer, content = call_in_time(self.app, method, target, items, _requests_body(body), read)
            except Dropped:
                lost = RemoteDisconnected(f"Remote end closed connection without response: {DROPPED}")
                raise ProtocolError("Connection aborted.", lost) from None
            except TimedOut:
                raise ReadTimeoutError(self, url, f"Read timed out. (read timeout={read:g})") from None
            return HTTPResponse(
                body=io.BytesIO(content),
                headers=answer,
                status=status,
                version=11,
                version_string="HTTP/1.1",
                reason=_REASONS.get(status, ""),
                preload_content=preload_content,
                decode_content=decode_content,
                original_response=_Sent(method, answer),
                pool=self,
                connection=response_conn,
                retries=retries,
                enforce_content_length=enforce_content_length,
                request_method=method,
                request_url=url,
            )

    return InProcessApp


def app_pool(app: Wsgi, url: str, pools: dict[str, Any]) -> Any:
    """The pool that answers ``url``'s origin from ``app``, made once per origin in ``pools``."""
    origin = _origin(url)
    found = pools.get(origin)
    if found is None or found.app is not app:
        allow_host(app, origin)
        found = pools[origin] = _app_pool_class()(app, origin)
    return found


@functools.cache
def _requests_adapter_class() -> type:
    from requests.adapters import HTTPAdapter

    class RequestsAdapter(HTTPAdapter):
        """A ``requests`` transport adapter whose connections are a WSGI app: ``HTTPAdapter`` in
        every other respect, so ``max_retries=Retry(...)`` and the rest work as over HTTP."""

        def __init__(self, app: Wsgi, **kwargs: Any) -> None:
            self.app = app
            self._pools: dict[str, Any] = {}
            super().__init__(**kwargs)

        def get_connection_with_tls_context(
            self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
        ) -> Any:
            return app_pool(self.app, request.url, self._pools)

        def request_url(self, request: Any, proxies: Any) -> str:
            return request.path_url  # never through a proxy: the app is in this process

    return RequestsAdapter


_REASONS = {status.value: status.phrase for status in HTTPStatus}


# ---------------------------------------------------------------------------------------------
# httpx


@functools.cache
def _httpx_transport_classes() -> tuple[type, type]:
    import anyio.to_thread
    import httpx

    def _httpx_read_timeout(request: httpx.Request) -> float | None:
        read = (request.extensions.get("timeout") or {}).get("read")
        return float(read) if isinstance(read, int | float) else None

    def _allow_once(transport: Any, request: httpx.Request) -> None:
        """A transport given an app means to reach it under whatever host its client names."""
        host = request.url.host
        if host not in transport._hosts:
            allow_host(transport.app, str(request.url))
            transport._hosts.add(host)

    def _response(request: httpx.Request, status: int, headers: list[tuple[str, str]], content: bytes) -> Any:
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), request=request)

    class WSGITransport(httpx.BaseTransport):
        """An ``httpx`` transport that hands each request to a WSGI app (sync clients)."""

        def __init__(self, app: Wsgi) -> None:
            self.app = app
            self._hosts: set[str] = set()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            _allow_once(self, request)
            body = request.read()
            items = request.headers.multi_items()
            try:
                status, headers, content = call_in_time(
                    self.app, request.method, str(request.url), items, body, _httpx_read_timeout(request)
                )
            except Dropped as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            except TimedOut as exc:
                raise httpx.ReadTimeout(str(exc), request=request) from None
            return _response(request, status, headers, content)

    class AsyncWSGITransport(httpx.AsyncBaseTransport):
        """The same for ``httpx.AsyncClient``: the app runs in a worker thread, so a slow answer
        (``--latency``, a fault's delay) does not stall the event loop."""

        def __init__(self, app: Wsgi) -> None:
            self.app = app
            self._hosts: set[str] = set()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            _allow_once(self, request)
            body = await request.aread()
            items = request.headers.multi_items()
            timeout = _httpx_read_timeout(request)
            try:
                # Past the timeout the worker thread is left to finish the request, as a server would.
                with anyio.fail_after(timeout):
                    status, headers, content = await anyio.to_thread.run_sync(
                        call_wsgi, self.app, request.method, str(request.url), items, body, abandon_on_cancel=True
                    )
            except Dropped as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            except TimeoutError:
                message = f"no answer from the mock within the read timeout of {timeout:g} s"
                raise httpx.ReadTimeout(message, request=request) from None
            return _response(request, status, headers, content)

    return WSGITransport, AsyncWSGITransport


def __getattr__(name: str) -> Any:
    """The classes are built on first use, so importing this module imports neither library."""
    if name == "RequestsAdapter":
        return _requests_adapter_class()
    if name in ("WSGITransport", "AsyncWSGITransport"):
        sync, asynchronous = _httpx_transport_classes()
        return sync if name == "WSGITransport" else asynchronous
    raise AttributeError(name)


# ---------------------------------------------------------------------------------------------
# Routing a host to an app for all code in the process


class _Router:
    """Which apps answer which hosts, and the patches that send those hosts' requests to them.

    The patches wrap the connection look-up of ``requests``' ``HTTPAdapter`` (so an adapter the
    code mounts itself keeps its retries) and the send methods of httpx's own transports (sync and
    async), so sessions and clients made before or after, by any code, are covered; a request for
    any other host goes through untouched.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.routes: dict[tuple[str, str, int], Wsgi] = {}
        self._uses: dict[tuple[str, str, int], int] = {}  # a route stays until its last user leaves
        self._undo: list[Any] = []
        self._pools: dict[str, Any] = {}  # origin -> the urllib3 pool that is its app
        self._httpx: dict[int, tuple[Any, Any]] = {}
        self._holds = 0  # while held, the patches stay in place with no route (a pytest session)

    @staticmethod
    def key(url: str) -> tuple[str, str, int]:
        parts = urlsplit(url)
        scheme = parts.scheme or "http"
        return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)

    def app_for(self, url: str) -> Wsgi | None:
        if not self.routes:
            return None
        return self.routes.get(self.key(url))

    def pool(self, app: Wsgi, url: str) -> Any:
        return app_pool(app, url, self._pools)

    def transports(self, app: Wsgi) -> tuple[Any, Any]:
        found = self._httpx.get(id(app))
        if found is None or found[0].app is not app:
            sync, asynchronous = _httpx_transport_classes()
            found = self._httpx[id(app)] = (sync(app), asynchronous(app))
        return found

    def add(self, url: str, app: Wsgi) -> tuple[str, str, int]:
        key = self.key(url)
        with self.lock:
            if key in self.routes and self.routes[key] is not app:
                raise RuntimeError(f"{url} is already routed to another app in this process")
            if not self._undo:
                self._patch()
            self.routes[key] = app
            self._uses[key] = self._uses.get(key, 0) + 1
        return key

    def remove(self, key: tuple[str, str, int]) -> None:
        with self.lock:
            self._uses[key] = self._uses.get(key, 1) - 1
            if self._uses[key] <= 0:
                self._uses.pop(key, None)
                self.routes.pop(key, None)
            self._tidy()

    def hold(self) -> None:
        """Keep the patches installed between routes (each test adds and removes one)."""
        with self.lock:
            self._holds += 1

    def release(self) -> None:
        with self.lock:
            self._holds = max(0, self._holds - 1)
            self._tidy()

    def _tidy(self) -> None:
        if not self.routes and not self._holds:
            self._unpatch()
            self._pools.clear()
            self._httpx.clear()

    def _patch(self) -> None:
        router = self
        with contextlib.suppress(ImportError):
            import requests
            from requests.adapters import HTTPAdapter

            original_connection = HTTPAdapter.get_connection_with_tls_context
            original_request_url = HTTPAdapter.request_url

            # Any HTTPAdapter, the default or one the code mounted (with its own Retry), gets the
            # app as its connection: everything else about the request stays the adapter's.
            def get_connection_with_tls_context(
                adapter: Any, request: Any, verify: Any, proxies: Any = None, cert: Any = None
            ) -> Any:
                app = router.app_for(request.url)
                if app is None:
                    return original_connection(adapter, request, verify, proxies=proxies, cert=cert)
                return router.pool(app, request.url)

            def request_url(adapter: Any, request: Any, proxies: Any) -> str:
                if router.app_for(request.url) is None:
                    return original_request_url(adapter, request, proxies)
                return request.path_url

            original_merge = requests.Session.merge_environment_settings

            def merge_environment_settings(
                session: Any, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
            ) -> dict[str, Any]:
                # No proxy, CA bundle or client certificate applies to an app in this process: skip
                # reading them from the environment on every request (most of requests' own cost).
                if router.app_for(url) is None:
                    return original_merge(session, url, proxies, stream, verify, cert)
                return {
                    "proxies": {},
                    "stream": session.stream if stream is None else stream,
                    "verify": True,
                    "cert": None,
                }

            HTTPAdapter.get_connection_with_tls_context = get_connection_with_tls_context  # type: ignore[method-assign]
            HTTPAdapter.request_url = request_url  # type: ignore[method-assign]
            requests.Session.merge_environment_settings = merge_environment_settings  # type: ignore[method-assign]
            self._undo.append(lambda: setattr(HTTPAdapter, "get_connection_with_tls_context", original_connection))
            self._undo.append(lambda: setattr(HTTPAdapter, "request_url", original_request_url))
            self._undo.append(lambda: setattr(requests.Session, "merge_environment_settings", original_merge))
        with contextlib.suppress(ImportError):
            import httpx

            original_sync = httpx.HTTPTransport.handle_request
            original_async = httpx.AsyncHTTPTransport.handle_async_request

            def handle_request(transport: Any, request: httpx.Request) -> httpx.Response:
                app = router.app_for(str(request.url))
                if app is None:
                    return original_sync(transport, request)
                return router.transports(app)[0].handle_request(request)

            async def handle_async_request(transport: Any, request: httpx.Request) -> httpx.Response:
                app = router.app_for(str(request.url))
                if app is None:
                    return await original_async(transport, request)
                return await router.transports(app)[1].handle_async_request(request)

            httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
            httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]
            self._undo.append(lambda: setattr(httpx.HTTPTransport, "handle_request", original_sync))
            self._undo.append(lambda: setattr(httpx.AsyncHTTPTransport, "handle_async_request", original_async))

    def _unpatch(self) -> None:
        while self._undo:
            self._undo.pop()()


ROUTER = _Router()


def allow_host(app: Any, url: str) -> None:
    """Let a mockserver app answer requests whose Host is ``url``'s (its DNS-rebinding guard
    refuses names it was not told about); other WSGI apps are left as they are."""
    pipeline = getattr(app, "pipeline", None)
    hosts = getattr(pipeline, "hosts", None)
    if hosts is None:
        return
    import dataclasses

    name = (urlsplit(url).hostname or "").lower()
    if name and hosts.why_refused(name) is not None:
        pipeline.hosts = dataclasses.replace(hosts, extra=hosts.extra | {name})


@contextlib.contextmanager
def route_to_app(app: Wsgi, url: str = DEFAULT_URL) -> Iterator[str]:
    """Send every ``requests``/``httpx`` request for ``url``'s scheme, host and port to ``app``."""
    allow_host(app, url)
    key = ROUTER.add(url, app)
    try:
        yield url.rstrip("/")
    finally:
        ROUTER.remove(key)
