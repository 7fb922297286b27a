"""The fixtures in each mode: in process, a local server, a server elsewhere (--mockserver-url)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mockserver.vendors.posthog.models  # noqa: F401 (loaded before inline runs, which forget what they import)
from mockserver.server import MockServer
from tests.conftest import make_settings

TOKEN = "modes-token"

APP_CODE = """
import httpx
import requests

H = {"Authorization": "Bearer phx_app"}

def count(base):
    return requests.get(base + "/api/projects/1/experiments/", headers=H).json()["count"]

def create(base, key):
    with httpx.Client(base_url=base) as client:
        return client.post("/api/projects/1/experiments/", headers=H, json={"name": key, "feature_flag_key": key})

async def fetch(base, experiment_id):
    async with httpx.AsyncClient(base_url=base) as client:
        return (await client.get(f"/api/projects/1/experiments/{experiment_id}/", headers=H)).json()
"""


@pytest.fixture
def remote() -> Iterator[MockServer]:
    """A server on a socket with a token, as --mockserver-url finds it (inline pytester runs share
    this process, so monkeypatching its modules reaches it)."""
    with MockServer(make_settings(admin_token=TOKEN)) as server:
        yield server


def test_a_server_elsewhere_keeps_its_own_seed_unless_one_is_configured(pytester: pytest.Pytester, monkeypatch):
    monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", TOKEN)
    pytester.makepyfile(
        "import os\n\ndef test_seed(mockserver):\n    assert mockserver.reset()['seed'] == int(os.environ['SEED'])\n"
    )
    with MockServer(make_settings(admin_token=TOKEN, seed=9)) as nine:
        monkeypatch.setenv("SEED", "9")
        pytester.runpytest("-p", "no:cacheprovider", "--mockserver-url", nine.url).assert_outcomes(passed=1)
        monkeypatch.setenv("SEED", "5")
        configured = pytester.runpytest(
            "-p", "no:cacheprovider", "--mockserver-url", nine.url, "--mockserver-seed", "5"
        )
        configured.assert_outcomes(passed=1)


def test_mockserver_app_routes_app_code_for_the_test_only(pytester: pytest.Pytester):
    pytester.makepyfile(app=APP_CODE)
    pytester.makepyfile(
        test_app="""
import asyncio
import pytest
import requests
from app import count, create, fetch

def test_in_process(mockserver_app):
    base = mockserver_app.url
    assert base == "http://mockserver.invalid"
    assert count(base) == 12
    assert create(base, "routed").status_code == 201
    assert asyncio.run(fetch(base, 4))["id"] == 4
    mockserver_app.requests.assert_called("POST", "experiments_create", status=201, json={"name": "routed"})
    assert count(base) == 13

def test_reset_between_and_routing_gone_after(mockserver_app):
    assert count(mockserver_app.url) == 12

def test_no_routing_without_the_fixture():
    with pytest.raises(requests.ConnectionError):
        requests.get("http://mockserver.invalid/__admin/health", timeout=2)
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_both_fixtures_in_one_test_share_one_world(pytester: pytest.Pytester):
    pytester.makepyfile(app=APP_CODE)
    pytester.makepyfile(
        test_both="""
from app import count, create

def test_both(mockserver, mockserver_app):
    assert mockserver.url.startswith("http://127.0.0.1:")
    assert create(mockserver.url, "over-http").status_code == 201
    assert count(mockserver_app.url) == 13  # the same server state
    assert create(mockserver_app.url, "in-process").status_code == 201
    assert count(mockserver.url) == 14
    mockserver.requests.assert_called("POST", "experiments_create", times=2)
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    # A fixture file next to the test is found through either fixture, as for one alone.
    sub = pytester.mkdir("sub")
    (sub / "mine.json").write_text('{"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}}')
    (sub / "test_relative.py").write_text(
        """
def test_relative(mockserver, mockserver_app):
    mockserver_app.load("mine.json")
    assert mockserver.state()["posthog"]["experiments"] == {}
"""
    )
    pytester.runpytest("-p", "no:cacheprovider", "-k", "relative").assert_outcomes(passed=1)
    pytester.makepyfile(
        test_both="""
def test_same_object(mockserver, mockserver_app):
    assert mockserver is mockserver_app and mockserver.url == "http://mockserver.invalid"
"""
    )
    # One object then; the file next to the test is still found.
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-in-process").assert_outcomes(passed=2)


def test_fixtures_asked_for_in_the_test_body_share_one_world_or_refuse(pytester: pytest.Pytester):
    """getfixturevalue in either order: what naming both as arguments does, or a clear refusal."""
    pytester.makepyfile(app=APP_CODE)
    pytester.makepyfile(
        test_late="""
from app import count, create

def test_server_first(mockserver, request):
    assert create(mockserver.url, "first").status_code == 201
    app = request.getfixturevalue("mockserver_app")
    assert count(app.url) == 13  # the same world, not reset again

def test_app_first(mockserver_app, request):
    assert create(mockserver_app.url, "first").status_code == 201
    server = request.getfixturevalue("mockserver")
    assert count(server.url) == 13
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rN")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*_ test_app_first _*", "*asked for mockserver after mockserver_app*two separate worlds*"]
    )
    # In process the two are one world: both orders pass, without a reset between.
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-in-process").assert_outcomes(passed=2)


def test_in_process_mode_runs_the_mockserver_fixture_without_a_socket(pytester: pytest.Pytester):
    pytester.makepyfile(app=APP_CODE)
    pytester.makepyfile(
        test_mode="""
import socket
from app import count, create

def test_no_socket(mockserver, monkeypatch):
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: 1 / 0)
    assert mockserver.url == "http://mockserver.invalid" and not hasattr(mockserver, "server")
    assert create(mockserver.url, "x").status_code == 201 and count(mockserver.url) == 13
"""
    )
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-in-process").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nmockserver_in_process = true\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fixture_paths_resolve_from_the_test_file_then_the_project_root(pytester: pytest.Pytester):
    empty = '{"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}}'
    pytester.mkdir("suite")
    pytester.path.joinpath("suite", "beside.json").write_text(empty)
    pytester.mkdir("data")
    pytester.path.joinpath("data", "at-root.json").write_text(empty)
    pytester.path.joinpath("suite", "test_paths.py").write_text(
        """
import pytest

def count(m):
    return len(m.state()["posthog"]["experiments"])

@pytest.mark.mockserver(fixture="beside.json")
def test_beside_the_test(mockserver_app):
    assert count(mockserver_app) == 0

@pytest.mark.mockserver(fixture="data/at-root.json")
def test_from_the_root(mockserver_app):
    assert count(mockserver_app) == 0

def test_load_paths_and_dicts(mockserver_app):
    mockserver_app.load("beside.json")
    assert count(mockserver_app) == 0
    mockserver_app.reset()
    mockserver_app.load({"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}})
    assert count(mockserver_app) == 0

@pytest.mark.mockserver(fixture="nowhere.json")
def test_missing(mockserver_app):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "suite")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*fixture file nowhere.json does not exist (looked in */suite, *)*"])


@pytest.mark.parametrize("order", [("a", "b"), ("b",)])
def test_session_set_up_resolves_fixture_paths_from_the_root_whatever_ran_before(pytester: pytest.Pytester, order):
    """A module-scoped fixture loads through ``mockserver_session``: not from the last test's folder."""
    empty = '{"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}}'
    for folder in ("a", "b"):
        pytester.mkdir(folder)
    pytester.path.joinpath("a", "only_a.json").write_text(empty)
    pytester.path.joinpath("a", "test_a.py").write_text("def test_a(mockserver):\n    mockserver.load('only_a.json')\n")
    pytester.path.joinpath("b", "test_b.py").write_text(
        """
import pytest
from mockserver.client import MockServerError

@pytest.fixture(scope="module")
def refused(mockserver_session):
    with pytest.raises(MockServerError) as caught:
        mockserver_session.load("only_a.json")
    return str(caught.value)

def test_b(refused):
    import pathlib
    root = pathlib.Path(__file__).parent.parent
    looked = refused.split("looked in ")[1].rstrip(")").split(", ")
    assert looked and str(root / "a") not in looked and str(root) in looked
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *order)
    result.assert_outcomes(passed=len(order))


def test_module_scoped_set_up_with_mockserver_session(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
import pytest
import requests

H = {"Authorization": "Bearer phx_module"}

@pytest.fixture(scope="module")
def catalogue(mockserver_session):
    mockserver_session.reset()
    for n in range(3):
        requests.post(mockserver_session.posthog_url + "/experiments/", headers=H,
                      json={"name": f"m{n}", "feature_flag_key": f"m{n}"}).raise_for_status()
    return mockserver_session.export()

def count(m):
    return requests.get(m.posthog_url + "/experiments/", headers=H).json()["count"]

@pytest.mark.parametrize("n", range(2))
def test_starts_from_the_module_state(mockserver, catalogue, n):
    mockserver.load(catalogue)
    assert count(mockserver) == 15
    listed = requests.get(mockserver.posthog_url + "/experiments/", headers=H).json()["results"]
    made = next(e["id"] for e in listed if e["name"] == "m0")
    requests.patch(mockserver.posthog_url + f"/experiments/{made}/", headers=H,
                   json={"archived": True}).raise_for_status()
    assert count(mockserver) == 14

def test_others_start_from_the_seed(mockserver):
    assert count(mockserver) == 12
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_against_a_running_server_with_a_token(pytester: pytest.Pytester, remote: MockServer, monkeypatch):
    pytester.makepyfile(app=APP_CODE)
    pytester.makepyfile(
        test_remote="""
import pytest
import requests
from app import count, create

@pytest.mark.parametrize("n", range(2))
def test_reset_per_test(mockserver, n):
    assert count(mockserver.url) == 12
    assert create(mockserver.url, f"r{n}").status_code == 201
    assert mockserver.app is None

@pytest.mark.mockserver(fixture="empty", seed=3)
def test_marker(mockserver):
    assert count(mockserver.url) == 0 and mockserver.state()["posthog"]["seed"] == 3

def test_error_inside_the_server_fails_the_test(mockserver):
    import mockserver.vendors.posthog.models as models
    original = models.project_or_404
    models.project_or_404 = lambda *a, **k: 1 / 0
    try:
        listed = requests.get(mockserver.posthog_url + "/experiments/", headers={"Authorization": "Bearer phx"})
        assert listed.status_code == 500
    finally:
        models.project_or_404 = original

def test_both_fixtures_refused(mockserver, mockserver_app):
    pass
"""
    )
    monkeypatch.delenv("MOCKSERVER_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("MOCKSERVER_URL", remote.url)
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-admin-token", TOKEN)
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*two separate worlds. Use one of them.*",
            "*MockServerError: 1 error(s) raised inside the mock server during this test (the client saw a 500); "
            "first: ZeroDivisionError('division by zero') inside the server at http://127.0.0.1:*",
        ]
    )
    assert remote.runtime.store.seed == 42  # the marker's seed lasted its test only


def test_a_missing_token_is_named(pytester: pytest.Pytester, remote: MockServer, monkeypatch):
    monkeypatch.delenv("MOCKSERVER_ADMIN_TOKEN", raising=False)
    pytester.makepyfile("def test_x(mockserver):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-url", remote.url)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs the admin token*pass its token with --mockserver-admin-token*"])
    monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", TOKEN)
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-url", remote.url).assert_outcomes(passed=1)


def test_xdist_workers_need_one_server_each(pytester: pytest.Pytester, remote: MockServer):
    pytester.makepyfile(
        """
import os
import pytest

@pytest.mark.parametrize("n", range(4))
def test_x(mockserver, n):
    assert mockserver.url == os.environ["EXPECTED_" + os.environ["PYTEST_XDIST_WORKER"]]
"""
    )
    shared = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--mockserver-url", remote.url)
    assert shared.ret == pytest.ExitCode.USAGE_ERROR  # said once, before any worker starts
    shared.stderr.fnmatch_lines(["*2 xdist workers would share 1 server(s)*one URL per worker*"])
    alias = remote.url.replace("127.0.0.1", "localhost")
    twice = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--mockserver-url", f"{remote.url},{alias}"
    )
    assert twice.ret == pytest.ExitCode.USAGE_ERROR
    twice.stderr.fnmatch_lines(["*--mockserver-url names one server twice*"])
    with MockServer(make_settings(admin_token=TOKEN)) as second:
        import os

        env = {"EXPECTED_gw0": remote.url, "EXPECTED_gw1": second.url, "MOCKSERVER_ADMIN_TOKEN": TOKEN}
        os.environ.update(env)
        try:
            both = pytester.runpytest_subprocess(
                "-p", "no:cacheprovider", "-n", "2", "--mockserver-url", f"{remote.url},{second.url}"
            )
        finally:
            for key in env:
                os.environ.pop(key, None)
        both.assert_outcomes(passed=4)


def test_the_command_line_beats_the_environment(pytester: pytest.Pytester, monkeypatch):
    """A CI-wide MOCKSERVER_URL does not override --mockserver-in-process given for one run."""
    pytester.makepyfile("def test_x(mockserver):\n    assert mockserver.url == 'http://mockserver.invalid'\n")
    monkeypatch.setenv("MOCKSERVER_URL", "http://127.0.0.1:1")
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-in-process").assert_outcomes(passed=1)
    monkeypatch.delenv("MOCKSERVER_URL")
    monkeypatch.setenv("MOCKSERVER_IN_PROCESS", "1")
    both = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-in-process", "--mockserver-url", "http://x:1")
    assert both.ret == pytest.ExitCode.USAGE_ERROR  # said once, before any test runs
    both.stderr.fnmatch_lines(["*--mockserver-url and --mockserver-in-process ask for two different servers*"])


def test_a_server_that_does_not_answer_is_said_once_per_test_without_plugin_frames(pytester: pytest.Pytester):
    pytester.makepyfile("def test_a(mockserver):\n    pass\n\ndef test_b(mockserver):\n    pass\n")
    # -rN: the short summary repeats the message or not depending on the terminal's width.
    result = pytester.runpytest("-p", "no:cacheprovider", "-rN", "--mockserver-url", "http://127.0.0.1:1")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert out.count("--mockserver-url http://127.0.0.1:1: GET /__admin/health: the mock server") == 2
    assert "During handling" not in out and "pytest_plugin.py" not in out


def test_a_session_gives_a_server_elsewhere_its_own_seed_back(pytester: pytest.Pytester, remote: MockServer):
    """The last test's marker seed (or --mockserver-seed) must not become the next session's "own seed"."""
    pytester.makepyfile(
        """
import pytest

@pytest.mark.mockserver(seed=7)
def test_last(mockserver):
    assert mockserver.health()["seed"] == 7
"""
    )
    args = ("-p", "no:cacheprovider", "--mockserver-url", remote.url, "--mockserver-admin-token", TOKEN)
    pytester.runpytest(*args).assert_outcomes(passed=1)
    assert remote.runtime.store.seed == 42
    pytester.runpytest(*args, "--mockserver-seed", "9").assert_outcomes(passed=1)  # the marker wins in its test
    assert remote.runtime.store.seed == 42


def test_marker_values_of_the_wrong_type_are_a_usage_error_naming_the_test(pytester: pytest.Pytester):
    for option, said in (
        ('seed="7"', "seed='7': a seed is an int between 0 and 9223372036854775807"),
        ("seed=True", "seed=True: a seed is an int between 0 and 9223372036854775807"),
        ("seed=-1", "seed=-1: a seed is an int between 0 and 9223372036854775807"),
        ("seed=2**63", "seed=9223372036854775808: a seed is an int between 0 and 9223372036854775807"),
        ("fixture=3", "fixture=3: a fixture is a name, a path or a state document (dict)"),
        ('fixture=""', "fixture='': name a fixture (or leave fixture out for the seeded world)"),
        ('strict_requests="no"', "strict_requests='no': True or False"),
    ):
        pytester.makepyfile(f"import pytest\n\n@pytest.mark.mockserver({option})\ndef test_x(mockserver):\n    pass\n")
        result = pytester.runpytest("-p", "no:cacheprovider")
        assert result.ret != 0
        assert f"test_x: @pytest.mark.mockserver({said})" in result.stdout.str() + result.stderr.str()


def test_an_unknown_marker_option_is_a_usage_error_naming_the_test(pytester: pytest.Pytester):
    pytester.makepyfile('import pytest\n\n@pytest.mark.mockserver(fixtur="empty")\ndef test_x(mockserver):\n    pass\n')
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    said = "test_x: @pytest.mark.mockserver got unknown option(s): fixtur (it takes fixture, seed, strict_requests)"
    assert said in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("args", "ini", "env", "said"),
    [
        (["--mockserver-seed", "-1"], "", {}, "--mockserver-seed: a seed is between 0 and 9223372036854775807, not -1"),
        ([], "mockserver_seed = abc", {}, "ini mockserver_seed: expected an integer seed, got 'abc'"),
        ([], "mockserver_seed = 18446744073709551616", {}, "ini mockserver_seed: a seed is between 0 and"),
        ([], "", {"MOCKSERVER_IN_PROCESS": "maybe"}, "MOCKSERVER_IN_PROCESS='maybe': use one of 1, true, yes, on"),
        ([], "", {"MOCKSERVER_STRICT_REQUESTS": "sure"}, "MOCKSERVER_STRICT_REQUESTS='sure': use one of"),
    ],
)
def test_a_bad_seed_or_switch_is_one_usage_error_before_any_test(pytester, monkeypatch, args, ini, env, said):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x(mockserver):\n    pass\n\ndef test_y(mockserver):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert said in result.stderr.str(), result.stderr.str()[-1000:]


def test_a_marker_on_a_test_without_the_fixture_warns(pytester: pytest.Pytester):
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.mockserver(seed=7)\ndef test_forgot():\n    pass\n\n"
        "@pytest.mark.mockserver(seed=7)\ndef test_took(mockserver_app):\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*test_forgot*", "*@pytest.mark.mockserver has no effect*"])
    # A test that takes the fixture but whose set-up failed is not told it took none.
    pytester.makepyfile(
        test_unreachable="import pytest\n\n@pytest.mark.mockserver(seed=7)\ndef test_u(mockserver):\n    pass\n"
    )
    failed = pytester.runpytest(
        "-p", "no:cacheprovider", "test_unreachable.py", "--mockserver-url", "http://127.0.0.1:1"
    )
    failed.assert_outcomes(errors=1)
    assert "has no effect" not in failed.stdout.str()


SETTINGS_CONFTEST = """
import pytest
from mockserver.core.settings import Settings

@pytest.fixture(scope="session")
def mockserver_settings():
    return Settings(port=0, no_auth=True)
"""


def test_the_command_line_seed_beats_an_overridden_settings_fixture(pytester: pytest.Pytester):
    pytester.makeconftest(SETTINGS_CONFTEST)
    pytester.makepyfile("def test_seed(mockserver):\n    assert mockserver.health()['seed'] == 7\n")
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-seed", "7").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider", "--mockserver-in-process", "--mockserver-seed", "7").assert_outcomes(
        passed=1
    )


def test_overridden_settings_with_a_server_elsewhere_warn(pytester: pytest.Pytester, remote: MockServer):
    pytester.makeconftest(SETTINGS_CONFTEST)
    pytester.makepyfile("def test_x(mockserver):\n    pass\n")
    args = ("-p", "no:cacheprovider", "--mockserver-url", remote.url, "--mockserver-admin-token", TOKEN)
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*mockserver_settings is overridden, but the tests use the server at*"])


def test_mockserver_in_process_0_in_the_environment_beats_the_ini(pytester: pytest.Pytester, monkeypatch):
    pytester.makeini("[pytest]\nmockserver_in_process = true\n")
    pytester.makepyfile("def test_x(mockserver):\n    print('URL', mockserver.url)\n")
    monkeypatch.setenv("MOCKSERVER_IN_PROCESS", "0")
    result = pytester.runpytest("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*URL http://127.0.0.1:*"])
    monkeypatch.delenv("MOCKSERVER_IN_PROCESS")
    pytester.runpytest("-p", "no:cacheprovider", "-s").stdout.fnmatch_lines(["*URL http://mockserver.invalid*"])


def test_the_worker_check_counts_the_workers_xdist_starts():
    from mockserver.pytest_plugin import _server_urls

    assert _server_urls("http://gw:8080/mock-a,http://gw:8080/mock-b") == [
        "http://gw:8080/mock-a",
        "http://gw:8080/mock-b",
    ]  # one host, two servers behind their paths
    with pytest.raises(pytest.UsageError, match="names one server twice"):
        _server_urls("http://gw:8080/mock-a/,http://GW:8080/mock-a")


def test_collect_only_and_maxprocesses_are_no_worker_shortage(pytester: pytest.Pytester, remote: MockServer):
    pytester.makepyfile("def test_x(mockserver):\n    pass\n")
    collect = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--collect-only", "-n", "2", "--mockserver-url", remote.url
    )
    assert collect.ret == pytest.ExitCode.OK, collect.stderr.str()
    capped = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--maxprocesses", "1", "--mockserver-url", remote.url,
        "--mockserver-admin-token", TOKEN,
    )  # fmt: skip
    capped.assert_outcomes(passed=1)
