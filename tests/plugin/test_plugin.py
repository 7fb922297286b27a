"""The pytest plugin as a user meets it: test files run by pytester (in process, and under xdist)."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "readme_examples"

HELPERS = """
import requests
H = {"Authorization": "Bearer phx_test"}

def count(server):
    return requests.get(server.posthog_url() + "/experiments/", headers=H).json()["count"]
"""


def test_the_plugin_is_registered_by_its_entry_point():
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="pytest11") if e.name == "mockserver"]
    assert entry.value == "mockserver.pytest_plugin"


def test_readme_example_passes(pytester: pytest.Pytester):
    pytester.makepyfile(test_example=(EXAMPLES / "example_pytest.py").read_text())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_each_test_starts_from_the_seeded_state(pytester: pytest.Pytester):
    pytester.makepyfile(
        HELPERS
        + """
import pytest

SEEN = []

@pytest.mark.parametrize("n", range(3))
def test_create(mockserver, n):
    SEEN.append(mockserver.url)
    before = count(mockserver)
    r = requests.post(mockserver.posthog_url() + "/experiments/", headers=H,
                      json={"name": f"x{n}", "feature_flag_key": f"x{n}"})
    assert r.status_code == 201
    assert count(mockserver) == before + 1 == 13
    mockserver.add_fault(path="/api/projects/1/experiments/", status=500)
    mockserver.freeze_time("2030-01-01T00:00:00Z")
    assert len(mockserver.requests) == 3

def test_one_server_per_session(mockserver):
    assert len(set(SEEN)) == 1 and SEEN[0] == mockserver.url
    assert mockserver.url.startswith("http://127.0.0.1:")
    assert mockserver.launchdarkly_url == mockserver.url + "/api/v2"
    assert mockserver.posthog_url(2) == mockserver.url + "/api/projects/2"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_control_methods(pytester: pytest.Pytester):
    pytester.makepyfile(
        HELPERS
        + """
import pytest
from datetime import timedelta
from mockserver.pytest_plugin import MockServerError

def test_keys_policies_state_and_journal(mockserver):
    mockserver.api_key("phx_reader", scopes=["experiment:read"])
    denied = requests.post(mockserver.posthog_url() + "/experiments/", headers={"Authorization": "Bearer phx_reader"},
                           json={"name": "n", "feature_flag_key": "n"})
    assert denied.status_code == 403
    ld = mockserver.api_key("api-reader", vendor="launchdarkly", role="reader")
    assert ld["role"] == "reader"
    policy = mockserver.approval_policy("experiment.launch")
    assert policy["action_key"] == "experiment.launch"
    state = mockserver.state()
    assert set(state) == {"admin", "posthog", "launchdarkly"}
    assert "1" in state["posthog"]["approval_policies"]
    mockserver.requests.assert_called("POST", "experiments_create", times=1)
    mockserver.requests.assert_not_called("GET", "/api/projects/*")
    assert mockserver.requests[0]["status"] == 403
    with pytest.raises(AssertionError, match="called 1 time"):
        mockserver.requests.assert_called("POST", "experiments_create", times=2)
    mockserver.requests.clear()
    assert list(mockserver.requests) == []

def test_load_and_reset(mockserver, tmp_path):
    mockserver.load("empty")
    assert count(mockserver) == 0
    mockserver.reset()
    assert count(mockserver) == 12
    path = tmp_path / "mine.json"
    path.write_text('{"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}}')
    mockserver.load(path)
    assert count(mockserver) == 0
    path.write_text('{"format": "mockserver/state@1", "patch": {"posthog": {"experiments": {"4": {"team_id": "x"}}}}}')
    with pytest.raises(MockServerError, match="field patch.posthog.experiments.4.team_id"):
        mockserver.load(path)
    with pytest.raises(MockServerError, match="no fixture named"):
        mockserver.load("nope")

def test_clock(mockserver):
    assert mockserver.freeze_time("2030-01-01T00:00:00Z").isoformat() == "2030-01-01T00:00:00+00:00"
    assert mockserver.advance_time(timedelta(hours=1)).hour == 1
    assert mockserver.advance_time(60).minute == 1
    assert mockserver.advance_time("1d").day == 2
    mockserver.unfreeze_time()

def test_faults(mockserver):
    rule = mockserver.add_fault(operation_id="experiments_list", status=429, times=2)
    assert requests.get(mockserver.posthog_url() + "/experiments/", headers=H).status_code == 429
    assert mockserver.faults()[0]["fired"] == 1
    mockserver.clear_faults()
    assert mockserver.faults() == []
    with pytest.raises(MockServerError, match="field path"):
        mockserver.add_fault(status=500)
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_marker_option_and_ini_pick_fixture_and_seed(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nmockserver_seed = 7\n")
    pytester.makepyfile(
        HELPERS
        + """
import pytest

def users(server):
    return server.state()["posthog"]["users"]

def test_ini_seed(mockserver):
    assert mockserver.state()["posthog"]["seed"] == 7

@pytest.mark.mockserver(seed=3)
def test_marker_seed(mockserver):
    assert mockserver.state()["posthog"]["seed"] == 3

@pytest.mark.mockserver(fixture="empty")
def test_marker_fixture(mockserver):
    assert count(mockserver) == 0

@pytest.mark.mockserver(fixture="running-experiments", seed=5)
def test_marker_both(mockserver):
    rows = requests.get(mockserver.posthog_url() + "/experiments/?limit=100", headers=H).json()["results"]
    assert "draft" not in {r["status"] for r in rows}
    assert mockserver.state()["posthog"]["seed"] == 5

def test_back_to_default_after_markers(mockserver):
    assert mockserver.state()["posthog"]["seed"] == 7 and count(mockserver) == 12

@pytest.mark.mockserver(colour="red")
def test_bad_marker(mockserver):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(["*unknown option(s): colour*"])
    override = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-seed", "3", "-k", "ini_seed")
    override.assert_outcomes(failed=1)
    override.stdout.fnmatch_lines(["*assert 3 == 7*"])


def test_a_server_side_error_fails_the_test_that_caused_it(pytester: pytest.Pytester):
    pytester.makepyfile(
        HELPERS
        + """
import mockserver.vendors.posthog.models as models

def boom(*args, **kwargs):
    raise RuntimeError("kaboom inside the mock")

def test_causes_error(mockserver, monkeypatch):
    monkeypatch.setattr(models, "project_or_404", boom)
    r = requests.get(mockserver.posthog_url() + "/experiments/", headers=H)
    assert r.status_code == 500

def test_fails_anyway(mockserver, monkeypatch):
    monkeypatch.setattr(models, "project_or_404", boom)
    requests.get(mockserver.posthog_url() + "/experiments/", headers=H)
    assert False, "own failure"

def test_next_test_is_clean(mockserver):
    assert count(mockserver) == 12

def test_in_process_too(mockserver_app, monkeypatch):
    monkeypatch.setattr(models, "project_or_404", boom)
    assert mockserver_app.client.get("/api/projects/1/experiments/", headers=H).status_code == 500
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: kaboom inside the mock*",
            "*MockServerError: 1 error(s) raised inside the mock server during this test*",
        ]
    )
    result.stdout.fnmatch_lines(["*mock server error during this test: RuntimeError('kaboom inside the mock')*"])


def test_mockserver_app_runs_in_process(pytester: pytest.Pytester):
    pytester.makepyfile("""
H = {"Authorization": "Bearer phx_test"}

def test_in_process(mockserver_app):
    assert mockserver_app.url == "http://mockserver.invalid"
    mockserver_app.add_fault(operation_id="experiments_retrieve", status=503, times=1)
    assert mockserver_app.client.get("/api/projects/1/experiments/4/", headers=H).status_code == 503
    assert mockserver_app.client.get("/api/projects/1/experiments/4/", headers=H).status_code == 200
    mockserver_app.requests.assert_called("GET", "experiments_retrieve", times=2)

def test_reset_between(mockserver_app):
    assert len(mockserver_app.requests) == 0 and mockserver_app.faults() == []
""")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_runs_under_xdist_with_one_server_per_worker(pytester: pytest.Pytester):
    pytester.makepyfile(
        HELPERS
        + """
import os
import pytest

@pytest.mark.parametrize("n", range(8))
def test_isolated(mockserver, n, tmp_path_factory):
    assert count(mockserver) == 12
    requests.post(mockserver.posthog_url() + "/experiments/", headers=H,
                  json={"name": f"w{n}", "feature_flag_key": f"w{n}"})
    assert count(mockserver) == 13
    marker = tmp_path_factory.getbasetemp().parent / f"{os.environ['PYTEST_XDIST_WORKER']}-{mockserver.url[-5:]}"
    marker.write_text(mockserver.url)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*2 workers*"])
