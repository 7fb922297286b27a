"""``mockserver.Client``: the control API of a running mock server, from Python.

The same object serves a server in this process (no socket), a sidecar, or one across the
network, and it is what the pytest fixtures hand each test::

    from mockserver import Client

    mock = Client("http://127.0.0.1:8010", admin_token=os.environ.get("MOCKSERVER_ADMIN_TOKEN"))
    mock.reset()
    mock.load("approval-required")              # a named fixture, a file, or a state document
    mock.add_fault(operation_id="experiments_list", status=503, times=1)
    mock.freeze_time("2030-01-01T00:00:00Z")
    ...
    mock.requests.assert_called("POST", "experiments_create", status=201, json={"name": "Pricing"})
    mock.posthog.approve(mock.posthog.change_requests("pending")[0]["id"])

Every refusal raises ``MockServerError`` with the server's own explanation, naming the field at
fault. Vendor helpers live on the vendor (``mock.posthog``, ``mock.launchdarkly``: each installed
vendor brings its own, see ``VendorPlugin.control``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from mockserver.calls import RequestLog
from mockserver.errors import (
    MockServerError,
    RemoteServerError,
    UsageError,
    check_arg,
    int_id,
    path_segment,
    url_text,
)

# pytest leaves this module's frames out of a failing test's traceback (--full-trace shows them):
# a refusal points at the test's own line.
__tracebackhide__ = True

__all__ = ["Client", "MockServerError", "RemoteServerError", "UsageError"]

if TYPE_CHECKING:
    import httpx

TOKEN_HEADER = "X-Mockserver-Admin-Token"
IN_PROCESS_URL = "http://mockserver.invalid"
# A fixture name (served from the server's fixtures/); anything else given to load() is a file.
FIXTURE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
MAX_TIMEOUT_S = 1_000_000  # past this a time-out stops being one (and the clock library overflows)
TIME_UNITS = ("weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds")


def _base_url(url: Any) -> str:
    """Refuse what cannot be a server's base URL now, rather than as a connection error later."""
    __tracebackhide__ = True
    check_arg("url", url, str, "the server's base URL (str)")
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        url.encode("utf-8")
        extra = parts.query or parts.fragment
    except (ValueError, UnicodeEncodeError):  # an unclosed "[", a port that is no number, a lone surrogate
        scheme, host, extra = "", None, ""
    if scheme not in ("http", "https") or not host or url != url.strip() or extra:
        raise UsageError("url", f"expected the server's base URL, such as http://127.0.0.1:8010, got {url!r:.80}")
    return url.rstrip("/")


def _timeout(timeout: Any) -> float | None:
    __tracebackhide__ = True
    if timeout is None:
        return None
    check_arg("timeout", timeout, (int, float), "seconds (a number) or None")
    if not 0 < timeout <= MAX_TIMEOUT_S:  # NaN fails every comparison; a huge int is never converted
        said = f"expected a positive number of seconds up to {MAX_TIMEOUT_S:,}, or None for no timeout"
        raise UsageError("timeout", f"{said}, got {timeout!r:.40}")
    return float(timeout)


def _admin_token(token: Any) -> str | None:
    """A token sent as a header value: printable ASCII, spaces inside it allowed (anything else
    cannot be sent, and spaces at either end would be cut off on the way)."""
    __tracebackhide__ = True
    if token is None:
        return None
    check_arg("admin_token", token, str, "the admin token (str) or None")
    if not token or token != token.strip(" ") or not all(" " <= ch <= "~" for ch in token):
        raise UsageError("admin_token", "expected printable ASCII, with no space at either end")
    return token


def _fixture_dirs(dirs: Any) -> list[Path]:
    __tracebackhide__ = True
    if dirs is None:
        return []
    if isinstance(dirs, str | os.PathLike):
        return [Path(dirs)]  # one directory, not a string's characters
    try:
        listed = list(dirs)
    except TypeError:
        raise UsageError(
            "fixture_dirs", f"expected directories (a path or a list of paths), got {dirs!r:.80}"
        ) from None
    for item in listed:
        check_arg("fixture_dirs", item, (str, os.PathLike), "directories (a path or a list of paths)")
    return [Path(d) for d in listed]


class Client:
    """The control API (``/__admin``) of one mock server.

    ``url`` is the server's base URL; ``admin_token`` the token a server bound beyond loopback
    demands (``MOCKSERVER_ADMIN_TOKEN``). ``Client.in_process(app)`` talks to an app object in
    this process by calling it as a WSGI app, with no socket. Relative fixture paths given to
    ``load`` are looked up in ``fixture_dirs``, then the working directory.
    """

    def __init__(
        self,
        url: str,
        admin_token: str | None = None,
        *,
        timeout: float | None = 10.0,
        transport: httpx.BaseTransport | None = None,
        fixture_dirs: Sequence[str | os.PathLike[str]] = (),
        app: Any = None,
    ) -> None:
        self.url = _base_url(url)
        timeout = _timeout(timeout)
        admin_token = _admin_token(admin_token)
        self.app: Any = app  # the app object, when the server runs in this process
        self.fixture_dirs: list[Path] = _fixture_dirs(fixture_dirs)
        self._flask_client: Any = None
        self._token = admin_token
        if app is not None and transport is None:
            # Control calls go straight to the app (see ``_call_app``): no HTTP library to import.
            self._http: Any = None
            return
        import httpx

        self._http = httpx.Client(
            base_url=self.url + "/",
            timeout=timeout,
            transport=transport,
            trust_env=transport is None,  # no proxy may capture the in-process host
        )
        self._headers = httpx.Headers({TOKEN_HEADER: admin_token} if admin_token else {})
        self._json_headers = httpx.Headers({**self._headers, "Content-Type": "application/json"})
        self._urls: dict[str, httpx.URL] = {}
        self._extensions = {"timeout": self._http.timeout.as_dict()}

    @classmethod
    def in_process(cls, app: Any, url: str = IN_PROCESS_URL, admin_token: str | None = None, **kwargs: Any) -> Client:
        """A client of ``app`` (``mockserver.app.create_app(...)``) with no socket: requests go to
        the app object through the same pipeline (token, checks, journal) as over HTTP."""
        from mockserver.transports import allow_host

        if app is None or not callable(app):
            raise UsageError("app", f"expected a WSGI app (mockserver.app.create_app(...)), got {app!r:.80}")
        allow_host(app, url)
        runtime = app.extensions.get("mockserver") if hasattr(app, "extensions") else None
        token = admin_token if admin_token is not None else getattr(runtime, "admin_token", None)
        return cls(url, token, app=app, **kwargs)

    # -- plumbing ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        __tracebackhide__ = True
        if self._http is None:
            return self._call_app(method, path, json, params)
        import httpx

        # The request is built here rather than by Client.request: the URLs of the control API are
        # few and parsed once, and the body is encoded once, so a call costs what the server does.
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._http.base_url.join(path.lstrip("/"))
        if params:
            url = url.copy_merge_params({k: _query_text(k, v) for k, v in params.items() if v is not None})
        headers = self._headers
        content = None
        if json is not None:
            content = _encode(json)
            headers = self._json_headers
        request = httpx.Request(method, url, headers=headers, content=content, extensions=self._extensions)
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            raise MockServerError(f"{method} {path}: the mock server at {self.url} did not answer ({exc})") from None
        if response.status_code >= 400:
            raise _refused(method, path, response)
        return response.json() if response.content else None

    def _call_app(self, method: str, path: str, json: Any, params: Mapping[str, Any] | None) -> Any:
        """A control call handed to the app in this process, through the same pipeline as HTTP."""
        __tracebackhide__ = True
        from mockserver.transports import Dropped, call_wsgi

        url = f"{self.url}/{path.lstrip('/')}"
        if params:
            url += "?" + urlencode([(k, _query_text(k, v)) for k, v in params.items() if v is not None])
        headers = [(TOKEN_HEADER, self._token)] if self._token else []
        body = b""
        if json is not None:
            body = _encode(json)
            headers.append(("Content-Type", "application/json"))
        try:
            status, _headers, content = call_wsgi(self.app, method, url, headers, body)
        except Dropped as exc:
            raise MockServerError(f"{method} {path}: the mock server at {self.url} did not answer ({exc})") from None
        answer = _Answer(status, content)
        if status >= 400:
            raise _refused(method, path, answer)
        return answer.json() if content else None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "in process" if self.app is not None else "over HTTP"
        return f"<mockserver.Client {self.url} {where}>"

    @property
    def runtime(self) -> Any:
        """The server's ``Runtime`` (state, clock, journal objects); only for a server in this process."""
        if self.app is None:
            raise MockServerError(f"the mock server at {self.url} does not run in this process")
        return self.app.extensions["mockserver"]

    @property
    def client(self) -> Any:
        """Flask's test client on the app (in process only); code under test can use ``url``."""
        if self.app is None:
            raise MockServerError(f"the mock server at {self.url} does not run in this process: use its url")
        if self._flask_client is None:
            self._flask_client = self.app.test_client()
        return self._flask_client

    # -- vendors ------------------------------------------------------------------------------------

    def _controls(self) -> dict[str, Any]:
        found = self.__dict__.get("_vendor_controls")
        if found is None:
            from mockserver.core.registry import discover

            found = {plugin.name: plugin.control(self) for plugin in discover() if plugin.control is not None}
            self.__dict__["_vendor_controls"] = found
        return found

    def vendor(self, name: str) -> Any:
        """The helpers of vendor ``name`` (also reachable as ``client.<name>``)."""
        check_arg("name", name, str, "a vendor's name (str)")
        controls = self._controls()
        if name not in controls:
            raise MockServerError(f"no installed vendor is called {name!r}; known: {', '.join(controls)}")
        return controls[name]

    def __getattr__(self, name: str) -> Any:
        """``client.posthog``; ``client.posthog_url`` (its ``url``); a vendor's ``shortcuts``."""
        if name.startswith("_") or "_http" not in self.__dict__:
            raise AttributeError(name)
        controls = self._controls()
        if name in controls:
            return controls[name]
        if name.endswith("_url") and name[: -len("_url")] in controls:
            return controls[name[: -len("_url")]].url
        for control in controls.values():
            if name in getattr(control, "shortcuts", ()):
                return getattr(control, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        for vendor, control in self._controls().items():
            names.update({vendor, f"{vendor}_url", *getattr(control, "shortcuts", ())})
        return sorted(names)

    # -- server and state ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/__admin/health")

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """State, clock, faults and journal back to the start (``seed`` switches the seed)."""
        return self._call("POST", "/__admin/reset", {} if seed is None else {"seed": seed})

    def load(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
        """Replace the state with a named fixture (``"approval-required"``), a fixture file (a
        relative path is looked up in ``fixture_dirs``, then the working directory), or a state
        document (a dict, e.g. an earlier ``export()``)."""
        __tracebackhide__ = True
        if isinstance(source, Mapping):
            return self._call("PUT", "/__admin/state", dict(source))
        check_arg("source", source, (str, os.PathLike), "a fixture name, a file path or a state document (dict)")
        text = os.fspath(source)
        if not text.strip():
            raise UsageError("source", "empty: give a fixture name, a file path or a state document (dict)")
        if isinstance(source, str) and FIXTURE_NAME.match(text):
            return self._call("POST", f"/__admin/fixtures/{path_segment('source', text)}/load")
        path = self._find_file(text)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MockServerError(f"fixture {path} could not be read: {exc}") from None
        except RecursionError:
            raise MockServerError(f"fixture {path} could not be read: nested too deeply") from None
        try:
            return self._call("PUT", "/__admin/state", doc)
        except MockServerError as exc:
            raise MockServerError(
                f"{exc} (in fixture {path})", status=exc.status, error=exc.error, field=exc.field
            ) from None

    def _find_file(self, text: str) -> Path:
        __tracebackhide__ = True
        path = Path(text).expanduser()
        bases = [Path("/")] if path.is_absolute() else list(dict.fromkeys([*self.fixture_dirs, Path.cwd()]))
        candidates = [base / path for base in bases]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        looked = ", ".join(str(c.parent) for c in candidates)
        if any(candidate.is_dir() for candidate in candidates):
            raise MockServerError(f"fixture {text} is a directory, not a file (looked in {looked})")
        raise MockServerError(f"fixture file {text} does not exist (looked in {looked})")

    def state(self) -> dict[str, Any]:
        """A copy of the whole state: ``{"admin": …, "posthog": …, "launchdarkly": …}``."""
        return self._call("GET", "/__admin/state")["data"]

    def export(self) -> dict[str, Any]:
        """The state document (what a fixture file holds; ``load()`` takes it back)."""
        return self._call("GET", "/__admin/state")

    def fixtures(self) -> list[dict[str, Any]]:
        """The named fixtures the server ships: ``[{"name", "description"}]``."""
        return self._call("GET", "/__admin/fixtures")["fixtures"]

    # -- journal ------------------------------------------------------------------------------------

    @property
    def requests(self) -> RequestLog:
        """The request journal: ``all(…)``, ``assert_called(…)``, ``assert_not_called(…)``, ``clear()``."""
        return RequestLog(self)

    # -- faults -------------------------------------------------------------------------------------

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """``add_fault(method="GET", path="/api/projects/1/experiments/*", status=503, times=1)``;
        also ``operation_id=``, ``body=``, ``latency_ms=``, ``drop_connection=``, ``probability=``."""
        return self._call("POST", "/__admin/faults", rule)

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/__admin/faults")["faults"]

    def delete_fault(self, fault_id: int | str) -> None:
        fault_id = int_id("fault_id", fault_id, "a fault rule's id (int)")
        self._call("DELETE", f"/__admin/faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "/__admin/faults")

    # -- API keys -----------------------------------------------------------------------------------

    def api_key(self, key: str, vendor: str = "posthog", **grant: Any) -> dict[str, Any]:
        """Register a key with its vendor's grant: PostHog ``scopes=["experiment:read"]``,
        LaunchDarkly ``role="reader"``."""
        body = {"vendor": vendor, "key": key, **{k: v for k, v in grant.items() if v is not None}}
        return self._call("POST", "/__admin/api-keys", body)

    def api_keys(self) -> list[dict[str, Any]]:
        return self._call("GET", "/__admin/api-keys")["keys"]

    def clear_api_keys(self) -> None:
        self._call("DELETE", "/__admin/api-keys")

    # -- clock --------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The mock's current time."""
        return datetime.fromisoformat(self._call("GET", "/__admin/clock")["now"].replace("Z", "+00:00"))

    def freeze_time(self, at: datetime | str | None = None) -> datetime:
        """Stop the mock's clock at ``at`` (default: the current mock time)."""
        value = at.isoformat() if isinstance(at, datetime) else at
        self._call("POST", "/__admin/clock/freeze", {"at": value})
        return self.now()

    def advance_time(self, delta: timedelta | float | str | None = None, **units: float) -> datetime:
        """``advance_time(timedelta(days=2))``, ``advance_time(90)`` (seconds), ``advance_time("1h30m")``
        or ``advance_time(days=2)``; a frozen clock stays frozen."""
        __tracebackhide__ = True
        if units:
            for unit, amount in units.items():
                if unit not in TIME_UNITS:
                    raise UsageError(unit, f"not a unit of time; use {', '.join(TIME_UNITS)}")
                check_arg(unit, amount, (int, float), "a number")
            if (delta is not None and not isinstance(delta, timedelta | int | float)) or isinstance(delta, bool):
                raise UsageError("delta", "with units, give the rest as a timedelta or seconds (or in units)")
            try:
                delta = timedelta(**units) + (delta if isinstance(delta, timedelta) else timedelta(seconds=delta or 0))
            except (OverflowError, ValueError) as exc:
                raise UsageError(next(iter(units)), f"out of range for the clock ({exc})") from None
        if isinstance(delta, float) and not math.isfinite(delta):
            raise UsageError("delta", f"expected a finite number of seconds, got {delta}")
        if isinstance(delta, timedelta):
            body: dict[str, Any] = {"seconds": delta.total_seconds()}
        elif isinstance(delta, str):
            body = {"duration": delta}
        elif isinstance(delta, int | float) and not isinstance(delta, bool):
            body = {"seconds": delta}
        else:
            raise UsageError("delta", f"expected a timedelta, seconds, a duration string or units, got {delta!r:.80}")
        self._call("POST", "/__admin/clock/advance", body)
        return self.now()

    def unfreeze_time(self) -> None:
        """Back to real time."""
        self._call("POST", "/__admin/clock/unfreeze")

    # -- runtime settings ---------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """The server's settings that can change while it runs (``/__admin/settings``)."""
        return self._settings_call("GET", None)

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change settings while the server runs: ``update_settings(latency_ms=[50, 200])`` (a number,
        ``[MIN, MAX]`` or ``None``), ``update_settings(no_auth=True)``."""
        return self._settings_call("PATCH", changes)

    def _settings_call(self, method: str, body: Any) -> dict[str, Any]:
        __tracebackhide__ = True
        try:
            return self._call(method, "/__admin/settings", body)
        except MockServerError as exc:
            if exc.status in (404, 405) and exc.field is None:
                raise MockServerError(
                    f"the mock server at {self.url} has no runtime settings (/__admin/settings): {exc}",
                    status=exc.status,
                    error=exc.error,
                ) from None
            raise

    # -- contract coverage ---------------------------------------------------------------------------

    def coverage(self) -> dict[str, Any]:
        """Per vendor: which operations were called since start (or ``clear_coverage``), with which
        documented statuses, and which never (``GET /__admin/coverage``)."""
        return self._call("GET", "/__admin/coverage")

    def clear_coverage(self) -> None:
        self._call("DELETE", "/__admin/coverage")

    # -- errors raised inside the server -------------------------------------------------------------

    def server_errors(self, after: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """How many errors the server raised since it started, and those numbered above ``after``
        (``{"number", "type", "message"}``): each answered a 500."""
        found = self._call("GET", "/__admin/errors", params={"after": after})
        return found["count"], found["errors"]


def _encode(value: Any) -> bytes:
    __tracebackhide__ = True
    try:
        return _encode_json(value)
    except RecursionError:
        raise UsageError("body", "nested too deeply to send as JSON (the server reads at most 100 levels)") from None


def _encode_json(value: Any) -> bytes:
    __tracebackhide__ = True
    try:
        import orjson

        encoded = orjson.dumps(value)
    except (ImportError, TypeError):
        pass
    else:
        # orjson writes NaN and infinities as null, which would change a value's meaning (a NaN
        # probability read as "always"); only a body with a null can hold one, so only it is searched.
        where = _non_finite(value) if b"null" in encoded else None
        if where is not None:
            raise UsageError(where, "not JSON data (NaN and infinities are not JSON numbers)")
        return encoded
    try:
        return json.dumps(value, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        said = "NaN and infinities are not JSON numbers" if isinstance(exc, ValueError) else str(exc)
        raise UsageError(_unencodable(value) or "body", f"not JSON data ({said})") from None


def _non_finite(value: Any) -> str | None:
    """Where in ``value`` the first NaN or infinite float sits (``probability``, ``body.a[1]``)."""
    return _first(value, lambda item: isinstance(item, float) and not math.isfinite(item))


def _unencodable(value: Any) -> str | None:
    """Where in ``value`` the first value JSON cannot hold sits (``status``, ``body.items[2]``):
    anything but dicts, lists, strings, numbers and None, or a float that is NaN or infinite."""

    def bad(item: Any) -> bool:
        if isinstance(item, float):
            return not math.isfinite(item)
        return not (item is None or isinstance(item, str | int))

    return _first(value, bad)


def _first(value: Any, bad: Callable[[Any], bool], at: str = "") -> str | None:
    """The path of the first leaf of ``value`` (walking dicts, lists and tuples) that ``bad`` names."""
    if isinstance(value, Mapping):
        members: Any = ((f"{at}.{key}" if at else str(key), item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        members = ((f"{at}[{index}]", item) for index, item in enumerate(value))
    else:
        return (at or "body") if bad(value) else None
    for where, item in members:
        found = _first(item, bad, where)
        if found is not None:
            return found
    return None


def _query_text(name: str, value: Any) -> str:
    """A query parameter as httpx writes one (booleans in lower case), refused when it cannot be sent."""
    __tracebackhide__ = True
    if isinstance(value, bool):
        return "true" if value else "false"
    return url_text(name, str(value))


class _Answer:
    """What ``_refused`` reads of a response, for answers of the app in this process."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status_code = status
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def reason_phrase(self) -> str:
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""


def _refused(method: str, path: str, response: Any) -> MockServerError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "detail" in payload:
        detail, field, error = payload.get("detail"), payload.get("field"), payload.get("error")
    else:
        detail, field, error = response.text[:500] or response.reason_phrase, None, None
    message = f"{method} {path} answered {response.status_code}: {detail}"
    if field:
        message += f" (field {field})"
    return MockServerError(message, status=response.status_code, error=error, field=field)
