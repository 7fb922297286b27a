"""pytest plugin (registered through the ``pytest11`` entry point): the ``mockserver`` fixtures.

One server per session (per xdist worker) on 127.0.0.1 and a free port; every test gets it back
in its seeded state. ``mockserver_app`` is the same control surface over Flask's test client,
with no socket. Errors raised inside the server during a test fail that test.

    def test_launch(mockserver):
        mockserver.add_fault(method="GET", path="/api/projects/1/experiments/*", status=503, times=1)
        ...
        mockserver.requests.assert_called("GET", "experiments_retrieve", times=2)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

    from mockserver.core.settings import Settings
    from mockserver.server import MockServer

DEFAULT_SEED = 42
MARKER_ARGS = ("fixture", "seed")


class MockServerError(AssertionError):
    """Something went wrong inside the mock server, or a control call was refused."""


# ---------------------------------------------------------------------------------------------
# The journal as tests see it


class RequestLog:
    """The request journal of the current test (it is cleared before every test)."""

    def __init__(self, control: MockServerControl) -> None:
        self._control = control

    def all(self, **filters: Any) -> list[dict[str, Any]]:
        """Entries, oldest first; filters: method, path (glob), operation_id, status."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._control._admin("GET", "/__admin/requests", params=params)["requests"]

    def calls(self, method: str | None, path_or_operation_id: str) -> list[dict[str, Any]]:
        key = "path" if path_or_operation_id.startswith("/") else "operation_id"
        return self.all(method=method.upper() if method else None, **{key: path_or_operation_id})

    def assert_called(self, method: str | None, path_or_operation_id: str, times: int | None = None) -> list[dict]:
        """At least once (or exactly ``times``); a leading ``/`` means a path glob, else an operationId."""
        found = self.calls(method, path_or_operation_id)
        if (times is None and not found) or (times is not None and len(found) != times):
            from mockserver.core.journal import describe

            wanted = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {method or 'any method'} {path_or_operation_id} to be called {wanted}, "
                f"it was called {len(found)} time(s). Requests seen:\n{describe(self.all())}"
            )
        return found

    def assert_not_called(self, method: str | None, path_or_operation_id: str) -> None:
        self.assert_called(method, path_or_operation_id, times=0)

    def clear(self) -> None:
        self._control._admin("DELETE", "/__admin/requests")

    def __len__(self) -> int:
        return len(self.all())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.all())

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.all()[index]


# ---------------------------------------------------------------------------------------------
# The control surface


class MockServerControl:
    """What the ``mockserver`` and ``mockserver_app`` fixtures give a test.

    Control calls go through the server's own /__admin API (in process), so they are checked
    against specs/admin.yaml like any other client's.
    """

    def __init__(self, app: Flask, url: str) -> None:
        self.app = app
        self.url = url.rstrip("/")
        self._client = app.test_client()
        self.client = app.test_client()  # Flask's test client on the same app, for in-process requests
        self._errors_seen = self.runtime.server_error_count

    # -- addresses ------------------------------------------------------------------------------

    @property
    def runtime(self) -> Any:
        return self.app.extensions["mockserver"]

    def posthog_url(self, project_id: int | str = 1) -> str:
        return f"{self.url}/api/projects/{project_id}"

    @property
    def launchdarkly_url(self) -> str:
        """The REST API root (``…/api/v2``); LaunchDarkly clients that want a host take ``url``."""
        return f"{self.url}/api/v2"

    # -- admin plumbing -------------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._client.open(
            path,
            method=method,
            query_string=params,
            data=None if body is None else json.dumps(body),
            content_type="application/json" if body is not None else None,
        )
        payload = response.get_json(silent=True) if response.data else None
        if response.status_code >= 400:
            detail = payload.get("detail") if isinstance(payload, dict) else response.get_data(as_text=True)
            field = payload.get("field") if isinstance(payload, dict) else None
            raise MockServerError(
                f"{method} {path} answered {response.status_code}: {detail}" + (f" (field {field})" if field else "")
            )
        return payload

    # -- state ----------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Back to the seeded world (state, clock, faults and journal)."""
        self._admin("POST", "/__admin/reset", {} if seed is None else {"seed": seed})

    def load(self, fixture_name_or_path: str | Path) -> dict[str, Any]:
        """Load a named fixture (``"approval-required"``) or a fixture file."""
        from mockserver.core.documents import SnapshotError
        from mockserver.core.fixtures import read_fixture

        try:
            doc = read_fixture(fixture_name_or_path)
        except SnapshotError as exc:
            raise MockServerError(str(exc)) from None
        try:
            return self._admin("PUT", "/__admin/state", doc)
        except MockServerError as exc:
            raise MockServerError(f"{exc} (in fixture {fixture_name_or_path})") from None

    def state(self) -> dict[str, Any]:
        """A copy of the whole state: ``{"admin": …, "posthog": …, "launchdarkly": …}``."""
        return self._admin("GET", "/__admin/state")["data"]

    def export(self) -> dict[str, Any]:
        """The state document (what a fixture file holds)."""
        return self._admin("GET", "/__admin/state")

    # -- journal, faults, keys, approvals ---------------------------------------------------------

    @property
    def requests(self) -> RequestLog:
        return RequestLog(self)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """``add_fault(method="GET", path="/api/projects/1/experiments/*", status=503, times=1)``."""
        return self._admin("POST", "/__admin/faults", rule)

    def faults(self) -> list[dict[str, Any]]:
        return self._admin("GET", "/__admin/faults")["faults"]

    def clear_faults(self) -> None:
        self._admin("DELETE", "/__admin/faults")

    def api_key(
        self, key: str, vendor: str = "posthog", *, scopes: list[str] | None = None, role: str | None = None
    ) -> dict[str, Any]:
        """Register a key: PostHog ``scopes`` (``["experiment:read"]``) or a LaunchDarkly ``role``."""
        body: dict[str, Any] = {"vendor": vendor, "key": key}
        if scopes is not None:
            body["scopes"] = scopes
        if role is not None:
            body["role"] = role
        return self._admin("POST", "/__admin/api-keys", body)

    def approval_policy(
        self,
        action_key: str = "experiment.launch",
        *,
        quorum: int = 1,
        project_id: int = 1,
        users: list[int] | None = None,
        roles: list[str] | None = None,
    ) -> dict[str, Any]:
        """Gate a PostHog action; matching changes then answer 409 with a change request."""
        return self._admin(
            "POST",
            "/__admin/posthog/approval-policies",
            {
                "action_key": action_key,
                "quorum": quorum,
                "project_id": project_id,
                "users": users or [],
                "roles": roles or [],
            },
        )

    def change_requests(self, state: str | None = None) -> list[dict[str, Any]]:
        return self._admin("GET", "/__admin/posthog/change-requests", params={"state": state} if state else None)[
            "change_requests"
        ]

    def approve(self, change_request_id: str, user_id: int = 2) -> dict[str, Any]:
        return self._admin(
            "POST", f"/__admin/posthog/change-requests/{change_request_id}/approve", {"user_id": user_id}
        )

    def reject(self, change_request_id: str, user_id: int = 2, reason: str = "") -> dict[str, Any]:
        return self._admin(
            "POST",
            f"/__admin/posthog/change-requests/{change_request_id}/reject",
            {"user_id": user_id, "reason": reason},
        )

    # -- clock ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        from mockserver.core.clock import parse_instant

        return parse_instant(self._admin("GET", "/__admin/clock")["now"].replace("Z", "+00:00"))

    def freeze_time(self, at: datetime | str | None = None) -> datetime:
        """Stop the mock's clock at ``at`` (default: now)."""
        value = at.isoformat() if isinstance(at, datetime) else at
        self._admin("POST", "/__admin/clock/freeze", {"at": value})
        return self.now()

    def advance_time(self, delta: timedelta | float | str | None = None, **units: float) -> datetime:
        """``advance_time(timedelta(days=2))``, ``advance_time(90)`` (seconds), ``advance_time("1h30m")``
        or ``advance_time(days=2)``."""
        if units:
            delta = timedelta(**units) + (delta if isinstance(delta, timedelta) else timedelta())
        if isinstance(delta, timedelta):
            body: dict[str, Any] = {"seconds": delta.total_seconds()}
        elif isinstance(delta, str):
            body = {"duration": delta}
        elif isinstance(delta, int | float):
            body = {"seconds": delta}
        else:
            raise TypeError("advance_time needs a timedelta, seconds, a duration string or units")
        self._admin("POST", "/__admin/clock/advance", body)
        return self.now()

    def unfreeze_time(self) -> None:
        self._admin("POST", "/__admin/clock/unfreeze")

    # -- errors raised inside the server ----------------------------------------------------------

    def take_server_errors(self) -> list[BaseException]:
        """Errors the server recorded since the test started (or since the last call)."""
        runtime = self.runtime
        with runtime._errors_lock:
            new = runtime.server_error_count - self._errors_seen
            self._errors_seen = runtime.server_error_count
            errors = list(runtime.server_errors)[-new:] if new > 0 else []
        return errors

    def _prepare(self, seed: int, fixture: str | None) -> None:
        self.reset(seed)
        if fixture:
            self.load(fixture)
        self._errors_seen = self.runtime.server_error_count


# ---------------------------------------------------------------------------------------------
# pytest wiring


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "mockserver (PostHog / LaunchDarkly mock)")
    group.addoption(
        "--mockserver-seed",
        type=int,
        default=None,
        help=f"seed of the mock's generated data (default: ini mockserver_seed, else {DEFAULT_SEED})",
    )
    parser.addini("mockserver_seed", help=f"seed of the mock's generated data (default {DEFAULT_SEED})", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockserver(fixture=None, seed=None): start this test's mock server from a fixture and/or seed"
    )


def _default_seed(config: pytest.Config) -> int:
    given = config.getoption("--mockserver-seed")
    if given is not None:
        return int(given)
    ini = config.getini("mockserver_seed")
    return int(ini) if ini not in (None, "") else DEFAULT_SEED


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("mockserver"))):  # closest marker wins
        if marker.args:
            raise pytest.UsageError("@pytest.mark.mockserver takes keywords only: fixture=..., seed=...")
        unknown = set(marker.kwargs) - set(MARKER_ARGS)
        if unknown:
            raise pytest.UsageError(f"@pytest.mark.mockserver got unknown option(s): {', '.join(sorted(unknown))}")
        options.update(marker.kwargs)
    return options


@pytest.fixture(scope="session")
def mockserver_settings(pytestconfig: pytest.Config) -> Settings:
    """Settings of the session's server; override this fixture to change host, port or flags."""
    from mockserver.core.settings import Settings

    return Settings(port=0, seed=_default_seed(pytestconfig))


@pytest.fixture(scope="session")
def mockserver_session(mockserver_settings: Settings) -> Iterator[MockServer]:
    """The live server behind ``mockserver``: one per session (per xdist worker)."""
    from mockserver.server import MockServer

    with MockServer(mockserver_settings) as server:
        yield server


@pytest.fixture(scope="session")
def mockserver_session_app(mockserver_settings: Settings) -> Flask:
    from mockserver.app import create_app

    return create_app(mockserver_settings)


def _control(request: pytest.FixtureRequest, app: Flask, url: str, settings: Settings) -> MockServerControl:
    options = _marker_options(request)
    control = MockServerControl(app, url)
    control._prepare(options.get("seed", settings.seed), options.get("fixture"))
    return control


@pytest.fixture
def mockserver(
    request: pytest.FixtureRequest, mockserver_session: MockServer, mockserver_settings: Settings
) -> MockServerControl:
    """The live mock server, reset to its seeded state (or the marker's fixture/seed) for this test."""
    return _control(request, mockserver_session.app, mockserver_session.url, mockserver_settings)


@pytest.fixture
def mockserver_app(
    request: pytest.FixtureRequest, mockserver_session_app: Flask, mockserver_settings: Settings
) -> MockServerControl:
    """The same as ``mockserver`` in process: send requests with ``mockserver_app.client`` (Flask's test client)."""
    return _control(request, mockserver_session_app, "http://localhost", mockserver_settings)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fail the test that caused a server-side error, with the server's traceback chained."""
    funcargs = getattr(item, "funcargs", {})
    controls = [
        funcargs[name] for name in ("mockserver", "mockserver_app") if isinstance(funcargs.get(name), MockServerControl)
    ]
    try:
        result = yield
    except BaseException as exc:
        for control in controls:
            for error in control.take_server_errors():
                exc.add_note(f"mock server error during this test: {error!r}")
        raise
    for control in controls:
        errors = control.take_server_errors()
        if errors:
            raise MockServerError(
                f"{len(errors)} error(s) raised inside the mock server during this test "
                f"(the client saw a 500); first: {errors[0]!r}"
            ) from errors[0]
    return result
