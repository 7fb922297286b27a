"""pytest plugin (registered through the ``pytest11`` entry point): the ``mockserver`` fixtures.

Every fixture hands the test a ``mockserver.Client`` put back in its seeded state (or the marker's
fixture and seed): the same object and the same methods wherever the server runs.

* ``mockserver``: by default a server on 127.0.0.1 and a free port, one per session (per xdist
  worker), started on first use; with ``--mockserver-url`` (``MOCKSERVER_URL``) the server already
  running there, e.g. a Docker sidecar in CI; with ``--mockserver-in-process`` the app in this
  process, as ``mockserver_app`` (its URL then routed for the whole session, so session- and
  module-scoped fixtures can use it too).
* ``mockserver_app``: the app in this process with no socket. Its ``url``
  (``http://mockserver.invalid``) reaches the app from ``requests`` and ``httpx`` (sync and async)
  for the test's duration, so code under test runs unchanged; other hosts are untouched.
* ``mockserver_session``: the session's client, for module- or session-scoped set-up.

An error raised inside the server during a test fails that test. With ``--mockserver-strict-requests``
so does a request the vendor contract refuses (schema, unknown path or method, credentials), even
when the code under test swallowed the 400. ``--mockserver-coverage[=PATH]`` reports at the end
which operations the suite called, with which documented statuses.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask

    from mockserver.client import Client
    from mockserver.core.settings import Settings

DEFAULT_SEED = 42
MAX_SEED = 2**63 - 1  # what the control API's reset takes (mockserver.core.settings is imported late)
MARKER_ARGS = ("fixture", "seed", "strict_requests")
DEFAULT_COVERAGE_PATH = "mockserver-coverage.json"
IN_PROCESS_URL = "http://mockserver.invalid"
_USED = pytest.StashKey[list]()
_APP_WORLD = pytest.StashKey[Any]()  # the client mockserver_app set up for this test on its own
_SESSION = pytest.StashKey["_Backends"]()
_COVERAGE = pytest.StashKey[list]()  # reports of this process's servers, or of every xdist worker
_COVERAGE_DONE = pytest.StashKey[tuple]()


def __getattr__(name: str) -> Any:
    """Names older tests import from here, without importing httpx when pytest loads the plugin."""
    if name == "MockServerError":
        from mockserver.client import MockServerError

        return MockServerError
    if name == "MockServerControl":
        from mockserver.client import Client

        return Client
    if name == "RequestLog":
        from mockserver.calls import RequestLog

        return RequestLog
    raise AttributeError(name)


# ---------------------------------------------------------------------------------------------
# Options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "mockserver (PostHog / LaunchDarkly mock)")
    group.addoption(
        "--mockserver-seed",
        type=int,
        default=None,
        help=f"seed of the mock's generated data (default: ini mockserver_seed, else {DEFAULT_SEED})",
    )
    group.addoption(
        "--mockserver-url",
        default=None,
        help="use the mock server already running at this URL (e.g. a Docker sidecar) instead of starting one; "
        "under xdist give one URL per worker, comma-separated (default: $MOCKSERVER_URL)",
    )
    group.addoption(
        "--mockserver-admin-token",
        default=None,
        help="the control-API token of the server at --mockserver-url (default: $MOCKSERVER_ADMIN_TOKEN)",
    )
    group.addoption(
        "--mockserver-in-process",
        action="store_true",
        default=None,
        help="run the mockserver fixture in this process with no socket, like mockserver_app "
        "(default: ini mockserver_in_process, $MOCKSERVER_IN_PROCESS)",
    )
    group.addoption(
        "--mockserver-strict-requests",
        action="store_true",
        default=None,
        help="fail a test that sent a request the vendor contract refuses (schema, unknown path or method, "
        "credentials), even if the code under test swallowed the error; opt a test out with "
        "@pytest.mark.mockserver(strict_requests=False) (default: ini mockserver_strict_requests, "
        "$MOCKSERVER_STRICT_REQUESTS)",
    )
    group.addoption(
        "--mockserver-coverage",
        nargs="?",
        const=DEFAULT_COVERAGE_PATH,
        default=None,
        metavar="PATH",
        help="at the end, print which vendor operations the suite called with which documented statuses, "
        f"and write it as JSON to PATH (default {DEFAULT_COVERAGE_PATH}) and HTML beside it",
    )
    parser.addini("mockserver_strict_requests", help="see --mockserver-strict-requests", type="bool", default=False)
    parser.addini("mockserver_seed", help=f"seed of the mock's generated data (default {DEFAULT_SEED})", default=None)
    parser.addini("mockserver_url", help="URL of an already running mock server (see --mockserver-url)", default=None)
    parser.addini("mockserver_in_process", help="run the mockserver fixture in process", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockserver(fixture=None, seed=None, strict_requests=None): start this test's mock server from a fixture "
        "and/or seed; strict_requests=False lets this test send requests the contract refuses (True: the reverse)",
    )
    config.stash[_COVERAGE] = []
    _configured_seed(config)  # a seed the server would refuse is a usage error now, not one per test
    _env_flag("MOCKSERVER_STRICT_REQUESTS")  # likewise a word that is neither on nor off
    _check_workers(config)
    _check_coverage_path(config)


def _check_coverage_path(config: pytest.Config) -> None:
    """The report is written at the end of the session: a path that cannot take it is said now
    (it failed the run after every test had passed)."""
    target = config.getoption("--mockserver-coverage")
    if not target:
        return
    path = config.invocation_params.dir / target
    for written in (path, path.with_suffix(".html")):
        if written.is_dir():
            example = path / DEFAULT_COVERAGE_PATH
            said = f"{written} is a directory; give a file path such as {example}"
            raise pytest.UsageError(f"--mockserver-coverage: {said}")
    existing = next(parent for parent in path.parents if parent.exists())  # the rest is made at the end
    if not existing.is_dir():
        raise pytest.UsageError(f"--mockserver-coverage: {existing} is not a directory")


def _configured_seed(config: pytest.Config) -> int | None:
    given = config.getoption("--mockserver-seed")
    name = "--mockserver-seed"
    if given is None:
        given, name = config.getini("mockserver_seed"), "ini mockserver_seed"
        if given in (None, ""):
            return None
    try:
        seed = int(str(given).strip())
    except ValueError:
        raise pytest.UsageError(f"{name}: expected an integer seed, got {given!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise pytest.UsageError(f"{name}: a seed is between 0 and {MAX_SEED}, not {seed}")
    return seed


def _default_seed(config: pytest.Config) -> int:
    seed = _configured_seed(config)
    return DEFAULT_SEED if seed is None else seed


def _backend(config: pytest.Config) -> tuple[str | None, bool]:
    """The server to use: a URL, or in process (else a local server). The command line beats the
    environment, which beats the ini file; one of them naming both is a contradiction."""
    env_flag = _env_flag("MOCKSERVER_IN_PROCESS")  # "0" decides too: a local server
    levels = (
        ("--mockserver-url", config.getoption("--mockserver-url"), "--mockserver-in-process",
         config.getoption("--mockserver-in-process")),
        ("MOCKSERVER_URL", os.environ.get("MOCKSERVER_URL"), "MOCKSERVER_IN_PROCESS", env_flag),
        ("ini mockserver_url", config.getini("mockserver_url"), "ini mockserver_in_process",
         config.getini("mockserver_in_process")),
    )  # fmt: skip
    for url_name, url, flag_name, in_process in levels:
        if url and in_process:
            raise pytest.UsageError(f"{url_name} and {flag_name} ask for two different servers: give one")
        if url:
            return str(url), False
        if in_process is not None:
            return None, bool(in_process)
    return None, False


def _server_urls(given: str) -> list[str]:
    """The comma-separated URLs, refusing one server named twice (as itself or as localhost and
    127.0.0.1): two workers resetting one server make each other's tests fail at random."""
    from urllib.parse import urlsplit

    urls = [u.strip() for u in str(given).split(",") if u.strip()]
    seen: dict[tuple[str, str, int | None, str], str] = {}
    for url in urls:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            host = "127.0.0.1" if host in ("localhost", "::1") else host
            where = (parts.scheme.lower(), host, parts.port, parts.path.rstrip("/"))  # a path: another server
        except ValueError:
            continue  # the client says what is wrong with it
        if where in seen:
            raise pytest.UsageError(
                f"--mockserver-url names one server twice ({seen[where]} and {url}); each test resets the whole "
                "server, so every xdist worker needs a server of its own"
            )
        seen[where] = url
    return urls


def _check_workers(config: pytest.Config) -> None:
    """Before xdist starts its workers: enough servers for them, said once as a usage error."""
    given, _ = _backend(config)
    workers = getattr(config.option, "numprocesses", None)
    if not given or hasattr(config, "workerinput") or config.option.collectonly:
        return
    most = getattr(config.option, "maxprocesses", None)
    if isinstance(workers, int) and isinstance(most, int) and most > 0:
        workers = min(workers, most)  # xdist starts no more than --maxprocesses
    if isinstance(workers, int):
        _enough_servers(workers, _server_urls(given))


def _enough_servers(workers: int, urls: list[str]) -> None:
    if workers > len(urls):
        raise pytest.UsageError(
            f"--mockserver-url: {workers} xdist workers would share {len(urls)} server(s), and each test resets the "
            "whole server; give one URL per worker (comma-separated), or run without -n"
        )


def _remote_url(config: pytest.Config, given: str | None) -> str | None:
    """The URL this worker uses, or None to start a server here."""
    if not given:
        return None
    urls = _server_urls(given)
    worker = getattr(config, "workerinput", None)
    if worker is None:
        return urls[0]
    index, count = int(worker["workerid"].removeprefix("gw")), int(worker["workercount"])
    _enough_servers(count, urls)  # -n auto: the count was only known now
    return urls[index]


def _switch(config: pytest.Config, name: str) -> bool:
    """An on/off option: ``--mockserver-<name>``, else ``$MOCKSERVER_<NAME>``, else ini ``mockserver_<name>``."""
    given = config.getoption(f"--mockserver-{name.replace('_', '-')}")
    if given is not None:
        return bool(given)
    env = _env_flag(f"MOCKSERVER_{name.upper()}")
    if env is not None:
        return env
    return bool(config.getini(f"mockserver_{name}"))


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _env_flag(name: str) -> bool | None:
    """An on/off environment variable; unset or empty is None, a word that is neither is refused."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return None
    if raw not in _ON + _OFF:
        raise pytest.UsageError(f"{name}={os.environ[name]!r}: use one of {', '.join(_ON + _OFF)}")
    return raw in _ON


def _strict_requests(item: pytest.Item) -> bool:
    option = _marker_options(item).get("strict_requests")
    return bool(option) if option is not None else _switch(item.config, "strict_requests")


def _marker_options(node: pytest.Item | pytest.FixtureRequest) -> dict[str, Any]:
    if isinstance(node, pytest.FixtureRequest):
        node = node.node  # type: ignore[assignment]
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers("mockserver"))):  # closest marker wins
        where = node.nodeid
        if marker.args:
            raise pytest.UsageError(f"{where}: @pytest.mark.mockserver takes keywords only: fixture=..., seed=...")
        unknown = set(marker.kwargs) - set(MARKER_ARGS)
        if unknown:
            raise pytest.UsageError(
                f"{where}: @pytest.mark.mockserver got unknown option(s): {', '.join(sorted(unknown))} "
                f"(it takes {', '.join(MARKER_ARGS)})"
            )
        _check_marker_values(node, marker.kwargs)
        options.update(marker.kwargs)
    return options


def _check_marker_values(node: Any, kwargs: dict[str, Any]) -> None:
    """A wrong type is the test's mistake: said with the test's name, not as a refusal of the server."""
    seed, fixture, strict = kwargs.get("seed"), kwargs.get("fixture"), kwargs.get("strict_requests")
    problem = None
    if seed is not None and (type(seed) is not int or not 0 <= seed <= MAX_SEED):
        problem = f"seed={seed!r}: a seed is an int between 0 and {MAX_SEED}"
    elif fixture is not None and not isinstance(fixture, str | os.PathLike | dict):
        problem = f"fixture={fixture!r}: a fixture is a name, a path or a state document (dict)"
    elif isinstance(fixture, str) and not fixture.strip():
        problem = "fixture='': name a fixture (or leave fixture out for the seeded world)"
    elif strict is not None and type(strict) is not bool:
        problem = f"strict_requests={strict!r}: True or False"
    if problem:
        raise pytest.UsageError(f"{node.nodeid}: @pytest.mark.mockserver({problem})")


# ---------------------------------------------------------------------------------------------
# The session's servers, made on first use


class _Backends:
    """The servers of this session (per xdist worker) and a client for each."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        given, self.in_process = _backend(config)
        self.remote_url = _remote_url(config, given)
        self._refused: str | None = None  # why the server at remote_url cannot be used (said once per test)
        self._app: Any = None
        self._app_client: Client | None = None
        self._live: Any = None
        self._live_client: Client | None = None
        self._remote: Client | None = None
        self._session_route: Any = None
        self.errors_seen: dict[int, int] = {}
        self.configured_seed = _configured_seed(config)  # read once: seed_for runs for every test
        self.remote_seed = settings.seed  # a server elsewhere resets to its own seed, unless one is configured
        self.remote_own_seed = settings.seed

    # the in-process app (mockserver_app; mockserver with --mockserver-in-process)
    def app(self) -> Flask:
        if self._app is None:
            from mockserver.app import create_app

            self._app = create_app(self.settings)
        return self._app

    def app_client(self) -> Client:
        if self._app_client is None:
            from mockserver.client import Client

            self._app_client = Client.in_process(self.app(), IN_PROCESS_URL, fixture_dirs=self.session_dirs())
        return self._app_client

    # a server on a socket in this process (mockserver by default)
    def live_client(self) -> Client:
        if self._live_client is None:
            from mockserver.client import Client
            from mockserver.server import MockServer

            self._live = MockServer(self.settings).start()
            # Control calls skip the socket: the app is right here.
            client = Client.in_process(self._live.app, self._live.url, fixture_dirs=self.session_dirs())
            client.server = self._live  # type: ignore[attr-defined]
            self._live_client = client
        return self._live_client

    # a server somewhere else (--mockserver-url)
    def remote_client(self) -> Client:
        __tracebackhide__ = True
        if self._refused is not None:  # asked once: every later test fails at once, the same way
            pytest.fail(self._refused, pytrace=False)
        if self._remote is None:
            from mockserver.client import Client, MockServerError

            assert self.remote_url is not None
            token = self.config.getoption("--mockserver-admin-token") or os.environ.get("MOCKSERVER_ADMIN_TOKEN")
            try:
                client = Client(self.remote_url, token or None, fixture_dirs=self.session_dirs())
                health = client.health()
                count, _ = client.server_errors()
            except MockServerError as exc:
                hint = ""
                if exc.status == 401:
                    hint = "; pass its token with --mockserver-admin-token or MOCKSERVER_ADMIN_TOKEN"
                self._refused = f"--mockserver-url {self.remote_url}: {exc}{hint}"
            if self._refused is not None:
                pytest.fail(self._refused, pytrace=False)  # outside the except: no chained traceback
            self.errors_seen[id(client)] = count
            if self.config.getoption("--mockserver-coverage"):
                client.clear_coverage()  # the report covers this session's calls, not the server's earlier ones
            configured = self.configured_seed
            self.remote_seed = health["seed"] if configured is None else configured
            self.remote_own_seed = health["seed"]  # given back when the session ends
            self._remote = client
        return self._remote

    def main_client(self) -> Client:
        """What ``mockserver`` uses."""
        if self.remote_url is not None:
            return self.remote_client()
        if self.in_process:
            client = self.app_client()
            if self._session_route is None:
                # The session's server is this app: its URL works in session- and module-scoped
                # fixtures too, not only inside tests.
                from mockserver.transports import ROUTER, allow_host

                allow_host(client.app, client.url)
                self._session_route = ROUTER.add(client.url, client.app)
            return client
        return self.live_client()

    def session_dirs(self) -> list[Path]:
        """Where relative fixture paths are looked up outside a test: the project root (then the
        working directory). A test looks beside its own file first, and gives this back after."""
        return [self.config.rootpath]

    def seed_for(self, client: Client) -> int:
        """The seed tests reset to: --mockserver-seed (or the ini's) wins over an overridden
        ``mockserver_settings``, whose seed is the default's otherwise."""
        if client is self._remote:
            return self.remote_seed
        return self.settings.seed if self.configured_seed is None else self.configured_seed

    def coverage_reports(self) -> list[dict[str, Any]]:
        """The coverage of every server this session started or used (the live server's app and the
        in-process app are two servers)."""
        reports = []
        for client in (self._app_client, self._live_client, self._remote):
            if client is not None:
                try:
                    reports.append(client.coverage())
                except Exception as exc:  # a stopped sidecar must not turn a green session red
                    reports.append({"vendors": {}, "error": f"{client.url}: {exc}"})
        return reports

    def _give_back_seed(self, client: Client) -> None:
        """A server elsewhere outlives the session: a seed this session switched it to (a marker's, or
        --mockserver-seed) would become the next session's "own seed". Reset it to the one it had."""
        from mockserver.client import MockServerError

        try:
            if client.health()["seed"] != self.remote_own_seed:
                client.reset(seed=self.remote_own_seed)
        except MockServerError:
            pass  # the server is gone or refuses: nothing to give back

    def close(self) -> None:
        if self.config.getoption("--mockserver-coverage"):
            self.config.stash[_COVERAGE].extend(self.coverage_reports())
        if self._session_route is not None:
            from mockserver.transports import ROUTER

            ROUTER.remove(self._session_route)
        if self._remote is not None:
            self._give_back_seed(self._remote)
        for client in (self._app_client, self._live_client, self._remote):
            if client is not None:
                client.close()
        if self._live is not None:
            self._live.stop()


def _backends(config: pytest.Config) -> _Backends:
    found = config.stash.get(_SESSION, None)
    if found is None:
        raise RuntimeError("the mockserver session is not set up")
    return found


@pytest.fixture(scope="session")
def mockserver_settings(pytestconfig: pytest.Config) -> Settings:
    """Settings of the session's server; override this fixture to change flags (not with --mockserver-url)."""
    from mockserver.core.settings import Settings

    return Settings(port=0, seed=_default_seed(pytestconfig))


@pytest.fixture(scope="session")
def _mockserver_backends(pytestconfig: pytest.Config, mockserver_settings: Settings) -> Iterator[_Backends]:
    from mockserver.core.settings import Settings
    from mockserver.transports import ROUTER

    backends = _Backends(pytestconfig, mockserver_settings)
    if backends.remote_url is not None and mockserver_settings != Settings(port=0, seed=mockserver_settings.seed):
        warnings.warn(
            pytest.PytestWarning(
                f"mockserver_settings is overridden, but the tests use the server at {backends.remote_url} "
                "(--mockserver-url): its own settings apply, not these (start it with the flags you need)"
            ),
            stacklevel=1,
        )
    pytestconfig.stash[_SESSION] = backends
    ROUTER.hold()  # tests route and unroute the in-process URL; the patches stay for the session
    try:
        yield backends
    finally:
        ROUTER.release()
        backends.close()
        del pytestconfig.stash[_SESSION]


@pytest.fixture(scope="session")
def mockserver_session(_mockserver_backends: _Backends) -> Client:
    """The session's client of the server behind ``mockserver``, not reset between tests: use it in
    module- or session-scoped fixtures (build a state once, ``export()`` it, ``load()`` it per test).
    ``.server`` is the ``MockServer`` when the plugin started one."""
    return _mockserver_backends.main_client()


@pytest.fixture(scope="session")
def mockserver_session_app(_mockserver_backends: _Backends) -> Flask:
    """The app object behind ``mockserver_app``."""
    return _mockserver_backends.app()


# ---------------------------------------------------------------------------------------------
# Per test


def _prepare(request: pytest.FixtureRequest, backends: _Backends, client: Client) -> Client:
    """Back to the seeded world (or the marker's), fixture paths relative to the test file."""
    options = _marker_options(request)
    client.fixture_dirs = [request.path.parent, request.config.rootpath]
    try:
        client.reset(options.get("seed", backends.seed_for(client)))
        if options.get("fixture"):
            client.load(options["fixture"])
    except BaseException:
        client.fixture_dirs = backends.session_dirs()  # a failed set-up leaves no test's folder behind
        raise
    if client.app is not None:
        backends.errors_seen[id(client)] = client.runtime.server_error_count
    used = request.node.stash.setdefault(_USED, [])
    if all(c is not client for c in used):
        used.append(client)
    return client


@pytest.fixture
def mockserver(request: pytest.FixtureRequest, _mockserver_backends: _Backends) -> Iterator[Client]:
    """The mock server, reset to its seeded state (or the marker's fixture and seed) for this test."""
    backends = _mockserver_backends
    app_world = request.node.stash.get(_APP_WORLD, None)
    if app_world is not None:  # asked for after mockserver_app (getfixturevalue in the test's body)
        if app_world is backends.main_client():
            yield app_world  # one world already, prepared for this test: no second reset
            return
        pytest.fail(
            "this test asked for mockserver after mockserver_app had set up a server in this process: two "
            "separate worlds. Name both as arguments (they then share one world) or use one of them.",
            pytrace=False,
        )
    client = _prepare(request, backends, backends.main_client())
    yield client
    client.fixture_dirs = _mockserver_backends.session_dirs()  # the session's client again


@pytest.fixture
def mockserver_app(request: pytest.FixtureRequest, _mockserver_backends: _Backends) -> Iterator[Client]:
    """The mock in this process with no socket: ``requests``/``httpx`` calls to its ``url`` reach it."""
    from mockserver.transports import route_to_app

    backends = _mockserver_backends
    if "mockserver" in request.fixturenames:
        shared: Client = request.getfixturevalue("mockserver")
        if shared.app is None:
            pytest.fail(
                f"this test uses both mockserver (the server at {shared.url}, --mockserver-url) and mockserver_app "
                "(a server in this process): two separate worlds. Use one of them.",
                pytrace=False,
            )
        if backends.in_process:
            yield shared  # the same object: its url is already routed
            return
        from mockserver.client import Client

        # One world: the live server's app; relative fixture paths resolve as for the test's mockserver.
        client = Client.in_process(shared.app, IN_PROCESS_URL, fixture_dirs=list(shared.fixture_dirs))
        try:
            with route_to_app(client.app, client.url):
                yield client
        finally:
            client.close()
        return
    client = _prepare(request, backends, backends.app_client())
    request.node.stash[_APP_WORLD] = client
    try:
        with route_to_app(client.app, client.url):
            yield client
    finally:
        del request.node.stash[_APP_WORLD]
        client.fixture_dirs = backends.session_dirs()


def _take_errors(backends: _Backends, client: Client) -> list[Any]:
    """Errors raised inside the server since the test started: exceptions in process, else rows."""
    seen = backends.errors_seen.get(id(client), 0)
    if client.app is not None:
        runtime = client.runtime
        with runtime._errors_lock:
            new = runtime.server_error_count - seen
            backends.errors_seen[id(client)] = runtime.server_error_count
            return list(runtime.server_errors)[-new:] if new > 0 else []
    from mockserver.client import MockServerError, RemoteServerError

    try:
        count, rows = client.server_errors(after=seen)
    except MockServerError:
        return []  # the test's own failure (a stopped server…) says more
    backends.errors_seen[id(client)] = count
    return [RemoteServerError(f"{row['type']}({row['message']!r}) inside the server at {client.url}") for row in rows]


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """A marker on a test that never took a mockserver fixture does nothing: say so."""
    takes = {"mockserver", "mockserver_app"} & set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("mockserver") is not None and not takes and not item.stash.get(_USED, []):
        item.warn(
            pytest.PytestWarning(
                "@pytest.mark.mockserver has no effect: this test takes neither mockserver nor mockserver_app"
            )
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fail the test that caused a server-side error, with the server's traceback chained."""
    __tracebackhide__ = True
    clients = item.stash.get(_USED, [])
    if not clients:
        return (yield)
    backends = _backends(item.config)
    strict = _strict_requests(item)
    try:
        result = yield
    except BaseException as exc:
        for client in clients:
            for error in _take_errors(backends, client):
                exc.add_note(f"mock server error during this test: {error!r}")
            refused = _refusals(client) if strict else []
            if refused:
                from mockserver.calls import refusal_report

                exc.add_note(refusal_report(refused))
        raise
    for client in clients:
        errors = _take_errors(backends, client)
        if errors:
            from mockserver.client import MockServerError

            raise MockServerError(
                f"{len(errors)} error(s) raised inside the mock server during this test "
                f"(the client saw a 500); first: {errors[0]!r}"
            ) from errors[0]
    if strict:
        from mockserver.calls import ContractRefused, refusal_report

        refused = [entry for client in clients for entry in _refusals(client)]
        if refused:
            raise ContractRefused(
                refusal_report(refused) + "\n(for a request meant to break the contract: "
                "@pytest.mark.mockserver(strict_requests=False))"
            )
    return result


def _refusals(client: Client) -> list[dict[str, Any]]:
    """The contract refusals since this test's reset (which emptied the journal)."""
    from mockserver.client import MockServerError

    try:
        return client.requests.contract_refusals()
    except MockServerError:
        return []  # a stopped server: the test's own failure says more


# ---------------------------------------------------------------------------------------------
# Contract coverage at the end of the session


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker's coverage reports."""
    reports = getattr(node, "workeroutput", {}).get("mockserver_coverage")
    if reports:
        node.config.stash[_COVERAGE].extend(reports)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    target = config.getoption("--mockserver-coverage")
    if not target:
        return
    reports = config.stash.get(_COVERAGE, [])
    if hasattr(config, "workerinput"):
        config.workeroutput["mockserver_coverage"] = reports  # type: ignore[attr-defined]
        return
    from mockserver.core.coverage import combine
    from mockserver.coverage_report import write

    path = config.invocation_params.dir / target
    report = combine(r for r in reports if r.get("vendors"))
    html = write(report, path)
    config.stash[_COVERAGE_DONE] = (report, path, html, [r["error"] for r in reports if r.get("error")])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    done = config.stash.get(_COVERAGE_DONE, None)
    if done is None:
        return
    from mockserver.coverage_report import summary_lines

    report, path, html, errors = done
    terminalreporter.section("mockserver contract coverage")
    if not report["vendors"]:
        terminalreporter.write_line("no mock server was used in this session")
    for text in summary_lines(report):
        terminalreporter.write_line(text)
    for error in errors:
        terminalreporter.write_line(f"coverage not collected from {error}")
    terminalreporter.write_line(f"written: {path} and {html}")
