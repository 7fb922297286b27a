"""Strict consumer mode (a request the contract refuses fails its test, even when the app swallowed
the 400) and the contract-coverage report written at the end of a session."""

from __future__ import annotations

import json

import pytest

import mockserver.vendors.posthog.models  # noqa: F401 (loaded before inline runs, which forget what they import)
from mockserver.app import create_app
from mockserver.server import MockServer
from tests.conftest import make_settings

APP_CODE = """
import requests

H = {"Authorization": "Bearer phx_app"}

def quietly(method, url, **kwargs):
    # The code under test swallows every error: only strict mode can notice.
    try:
        return requests.request(method, url, headers=kwargs.pop("headers", H), **kwargs).status_code
    except Exception:
        return None
"""

TESTS = """
import pytest
from app import quietly

@pytest.fixture(params=["mockserver", "mockserver_app"])
def mock(request):
    return request.getfixturevalue(request.param)

def test_schema_break(mock):
    assert quietly("POST", mock.url + "/api/projects/1/experiments/", json={"name": 123}) == 400

def test_unknown_path(mock):
    assert quietly("GET", mock.url + "/api/projects/1/experimentz/") == 404

def test_missing_credentials(mock):
    assert quietly("GET", mock.url + "/api/projects/1/experiments/", headers={}) == 401

def test_lifecycle_refusal_is_behaviour(mock):
    assert quietly("POST", mock.url + "/api/projects/1/experiments/4/launch/") == 400

def test_good_calls(mock):
    assert quietly("GET", mock.url + "/api/projects/1/experiments/") == 200

@pytest.mark.mockserver(strict_requests=False)
def test_opted_out(mock):
    assert quietly("POST", mock.url + "/api/projects/1/experiments/", json={"name": 123}) == 400

def test_fails_anyway(mock):
    quietly("POST", mock.url + "/api/projects/1/experiments/", json={"feature_flag_key": "x"})
    assert False, "the test's own failure"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(app=APP_CODE, test_consumer=TESTS)
    return pytester


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """test id -> PASSED/FAILED, from -rA's short summary."""
    found = {}
    for line in result.outlines:
        for word in ("PASSED", "FAILED"):
            if line.startswith(word + " "):
                found[line.split()[1].split("::", 1)[1]] = word
    return found


def test_without_strict_mode_swallowed_refusals_pass(project: pytest.Pytester):
    result = project.runpytest("-p", "no:cacheprovider", "-rA")
    assert outcomes(result) == {
        **{f"{name}[{mode}]": "PASSED" for name in NAMES for mode in MODES},
        **{f"test_fails_anyway[{mode}]": "FAILED" for mode in MODES},
    }
    assert "broke the vendor contract" not in result.stdout.str()


NAMES = [
    "test_schema_break",
    "test_unknown_path",
    "test_missing_credentials",
    "test_lifecycle_refusal_is_behaviour",
    "test_good_calls",
    "test_opted_out",
]
MODES = ["mockserver", "mockserver_app"]
BROKEN = ["test_schema_break", "test_unknown_path", "test_missing_credentials", "test_fails_anyway"]


@pytest.mark.parametrize("how", ["flag", "ini", "env"])
def test_strict_mode_fails_the_test_that_sent_the_request(project: pytest.Pytester, monkeypatch, how: str):
    args = ["-p", "no:cacheprovider", "-rA"]
    if how == "flag":
        args.append("--mockserver-strict-requests")
    elif how == "ini":
        project.makeini("[pytest]\nmockserver_strict_requests = true\n")
    else:
        monkeypatch.setenv("MOCKSERVER_STRICT_REQUESTS", "1")
    result = project.runpytest(*args)
    expected = {
        f"{name}[{mode}]": "FAILED" if name in BROKEN else "PASSED"
        for name in [*NAMES, "test_fails_anyway"]
        for mode in MODES
    }
    assert outcomes(result) == expected
    text = result.stdout.str()
    assert "ContractRefused" in text
    # The entry: the call, the check that refused it, the field and the message, the nearest path.
    assert "POST /api/projects/1/experiments/ -> 400 (experiments_create)" in text
    assert "refused by the parse check" in text
    assert "GET /api/projects/1/experimentz/ -> 404 (unmatched)" in text
    assert "nearest documented path: /api/{scope}/{project_id}/experiments/" in text
    assert "refused by the auth check: Authentication credentials were not provided." in text
    assert "@pytest.mark.mockserver(strict_requests=False)" in text
    # A test that failed on its own keeps its failure, with the refusal as a note.
    assert "AssertionError: the test's own failure" in text
    assert "feature_flag_key" in text or "name" in text


def test_marker_turns_strict_mode_on_for_one_test(pytester: pytest.Pytester):
    pytester.makepyfile(app=APP_CODE)
    pytester.makepyfile(
        """
import pytest
from app import quietly

@pytest.mark.mockserver(strict_requests=True)
def test_strict(mockserver_app):
    quietly("GET", mockserver_app.url + "/api/projects/1/experiments/", headers={})

def test_lenient(mockserver_app):
    quietly("GET", mockserver_app.url + "/api/projects/1/experiments/", headers={})
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    assert outcomes(result) == {"test_strict": "FAILED", "test_lenient": "PASSED"}


def test_client_lists_contract_refusals_outside_pytest():
    app = create_app(make_settings())
    from mockserver.calls import ContractRefused
    from mockserver.client import Client

    client = Client.in_process(app)
    web = app.test_client()
    web.get("/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_x"})
    client.requests.assert_no_contract_refusals()
    web.post("/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_x"}, json={"name": 5})
    web.post("/api/projects/1/experiments/4/launch/", headers={"Authorization": "Bearer phx_x"})
    refused = client.requests.contract_refusals()
    assert [(e["method"], e["status"], e["refused_by"]) for e in refused] == [("POST", 400, "parse")]
    assert client.requests.contract_refusals(after=refused[0]["id"]) == []
    with pytest.raises(ContractRefused, match="1 request"):
        client.requests.assert_no_contract_refusals()
    lifecycle = client.requests.all(status=400)
    assert len(lifecycle) == 2 and not lifecycle[-1]["contract_refusal"]


# ---------------------------------------------------------------------------------------------
# Coverage

COVERAGE_TESTS = """
import requests

H = {"Authorization": "Bearer phx_app"}
LD = {"Authorization": "api-key"}

def test_list(mockserver):
    assert requests.get(mockserver.url + "/api/projects/1/experiments/", headers=H).status_code == 200

def test_list_twice_and_a_refusal(mockserver):
    requests.get(mockserver.url + "/api/projects/1/experiments/", headers=H)
    assert requests.post(mockserver.url + "/api/projects/1/experiments/", headers=H, json={}).status_code == 400

def test_in_process_counts_too(mockserver_app):
    assert requests.get(mockserver_app.url + "/api/projects/1/experiments/1/", headers=H).status_code == 200
    assert requests.get(mockserver_app.url + "/api/projects/1/experiments/999999/", headers=H).status_code == 404
"""


def _row(report: dict, vendor: str, operation_id: str) -> dict:
    return next(r for r in report["vendors"][vendor]["detail"] if r["operation_id"] == operation_id)


def check_report(report: dict, calls_of_list: int = 2) -> None:
    posthog = report["vendors"]["posthog"]
    listing = _row(report, "posthog", "experiments_list")
    assert listing["calls"] == calls_of_list and listing["statuses"] == {"200": calls_of_list}
    assert listing["method"] == "GET" and listing["path"].endswith("/experiments/")
    assert "200" in listing["documented_seen"] and "200" not in listing["documented_missed"]
    assert set(listing["documented_seen"]) | set(listing["documented_missed"]) == set(listing["documented"])
    create = _row(report, "posthog", "experiments_create")
    assert create["calls"] == 1 and create["statuses"] == {"400": 1}
    assert create["documented_seen"] == ["400"] and "201" in create["documented_missed"]
    retrieve = _row(report, "posthog", "experiments_retrieve")
    assert retrieve["statuses"] == {"200": 1, "404": 1}
    assert posthog["called"] == 3
    assert posthog["operations"] == len(posthog["detail"])
    assert "experiments_destroy" in posthog["never_called"] or "experiments_partial_update" in posthog["never_called"]
    assert len(posthog["never_called"]) == posthog["operations"] - 3
    assert posthog["statuses_seen"] == sum(len(r["documented_seen"]) for r in posthog["detail"])
    ld = report["vendors"]["launchdarkly"]
    assert ld["called"] == 0 and len(ld["never_called"]) == ld["operations"]


@pytest.mark.parametrize("workers", [None, "2"])
def test_coverage_report_printed_and_written(pytester: pytest.Pytester, workers: str | None):
    pytester.makepyfile(test_cov=COVERAGE_TESTS)
    args = ["-p", "no:cacheprovider", "--mockserver-coverage=out/cov.json"]
    if workers:
        args += ["-n", workers]
    result = pytester.runpytest_subprocess(*args) if workers else pytester.runpytest(*args)
    result.assert_outcomes(passed=3)
    report = json.loads((pytester.path / "out" / "cov.json").read_text())
    check_report(report, calls_of_list=2)
    text = result.stdout.str()
    assert "mockserver contract coverage" in text
    ph = report["vendors"]["posthog"]
    assert f"posthog: 3/{ph['operations']} operations called, {ph['statuses_seen']}/{ph['statuses']} documented" in text
    assert "never called:" in text
    page = (pytester.path / "out" / "cov.html").read_text()
    assert page.startswith("<!doctype html>") and "<h2>posthog</h2>" in page and "<h2>launchdarkly</h2>" in page
    assert '<tr class="called"><td><code>experiments_list</code></td>' in page
    assert page.count('<tr class="never">') == sum(len(v["never_called"]) for v in report["vendors"].values())


def test_coverage_default_path_and_off_by_default(pytester: pytest.Pytester):
    pytester.makepyfile(test_cov=COVERAGE_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert not (pytester.path / "mockserver-coverage.json").exists()
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-coverage")
    result.assert_outcomes(passed=3)
    assert (pytester.path / "mockserver-coverage.json").exists() and (
        pytester.path / "mockserver-coverage.html"
    ).exists()


def test_a_coverage_path_that_cannot_take_the_report_is_a_usage_error_at_the_start(pytester: pytest.Pytester):
    """It was written at the end: the run failed with IsADirectoryError after every test passed."""
    pytester.makepyfile(test_cov=COVERAGE_TESTS)
    (pytester.path / "reports").mkdir()
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-coverage=reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockserver-coverage: *reports is a directory; give a file path such as*"])
    (pytester.path / "afile").write_text("x")
    for target in ("afile/cov.json", "afile/sub/cov.json"):
        result = pytester.runpytest("-p", "no:cacheprovider", f"--mockserver-coverage={target}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*afile is not a directory*"])
    (pytester.path / "cov.html").mkdir()  # where the HTML page beside the report would go
    result = pytester.runpytest("-p", "no:cacheprovider", "--mockserver-coverage=cov.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cov.html is a directory*"])


def test_coverage_of_a_running_server_counts_this_session_only(pytester: pytest.Pytester):
    with MockServer(make_settings()) as server:
        import requests

        requests.get(server.url + "/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_x"})
        pytester.makepyfile(test_cov=COVERAGE_TESTS.split("def test_in_process")[0])
        result = pytester.runpytest(
            "-p", "no:cacheprovider", f"--mockserver-url={server.url}", "--mockserver-coverage=c.json"
        )
        result.assert_outcomes(passed=2)
    report = json.loads((pytester.path / "c.json").read_text())
    assert _row(report, "posthog", "experiments_list")["statuses"] == {"200": 2}
    assert report["vendors"]["posthog"]["called"] == 2


def test_html_escapes_what_it_shows():
    from mockserver.coverage_report import to_html

    report = {
        "vendors": {
            "<b>v</b>": {
                "operations": 1,
                "called": 1,
                "statuses": 1,
                "statuses_seen": 0,
                "never_called": [],
                "detail": [
                    {
                        "operation_id": "<script>x</script>",
                        "method": "GET",
                        "path": "/a/<i>",
                        "calls": 1,
                        "statuses": {"500": 1},
                        "documented": ["200"],
                        "documented_seen": [],
                        "documented_missed": ["200"],
                        "undocumented": ["500"],
                    }
                ],
            }
        }
    }
    page = to_html(report)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page and "&lt;b&gt;v&lt;/b&gt;" in page


def test_reports_combine_by_summing_calls():
    from mockserver.core.coverage import combine

    row = {
        "operation_id": "op",
        "method": "GET",
        "path": "/x",
        "calls": 1,
        "statuses": {"200": 1},
        "documented": ["200", "404"],
        "documented_seen": ["200"],
        "documented_missed": ["404"],
        "undocumented": [],
    }
    one = {"vendors": {"v": {"detail": [row]}}}
    two = {"vendors": {"v": {"detail": [{**row, "statuses": {"404": 2, "500": 1}, "calls": 3}]}}}
    merged = combine([one, two])["vendors"]["v"]
    assert merged["detail"][0]["statuses"] == {"200": 1, "404": 2, "500": 1}
    assert merged["detail"][0]["calls"] == 4
    assert merged["detail"][0]["documented_missed"] == [] and merged["detail"][0]["undocumented"] == ["500"]
    assert merged["called"] == 1 and merged["statuses_seen"] == 2 and merged["never_called"] == []
