"""mockserver.Client: the same calls over a real socket (with an admin token) and in process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

import mockserver
from mockserver.app import create_app
from mockserver.client import Client, MockServerError
from mockserver.server import MockServer
from mockserver.vendors.posthog.control import ProjectURL
from tests.conftest import make_settings

TOKEN = "client-test-token"
PH = {"Authorization": "Bearer phx_client"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(make_settings(admin_token=TOKEN)) as running:
        yield running


@pytest.fixture(scope="module")
def in_process_app():
    return create_app(make_settings(admin_token=TOKEN))


@pytest.fixture(params=["http", "in-process"])
def mock(request, server, in_process_app) -> Iterator[Client]:
    # in process, the client takes the app's own token
    client = Client(server.url, admin_token=TOKEN) if request.param == "http" else Client.in_process(in_process_app)
    client.reset()
    yield client
    client.close()


def experiments(mock: Client) -> list[dict]:
    if mock.app is not None and mock.url == "http://mockserver.invalid":
        response = mock.client.get("/api/projects/1/experiments/?limit=100", headers=PH)
        return response.get_json()["results"]
    return requests.get(f"{mock.posthog_url}/experiments/?limit=100", headers=PH, timeout=5).json()["results"]


def test_the_package_exports_the_client_lazily():
    assert mockserver.Client is Client and mockserver.MockServerError is MockServerError


def test_the_token_is_needed_and_named_when_missing(server):
    with Client(server.url) as anonymous:
        assert anonymous.health()["status"] == "ok"  # health is open
        with pytest.raises(MockServerError, match="needs the admin token") as refused:
            anonymous.reset()
        assert refused.value.status == 401
    with Client(server.url, admin_token="wrong") as wrong, pytest.raises(MockServerError, match="not valid"):
        wrong.state()


def test_an_unreachable_server_is_named():
    with Client("http://127.0.0.1:9", timeout=1) as nowhere, pytest.raises(MockServerError, match="did not answer"):
        nowhere.health()


def test_reset_state_and_export(mock):
    assert mock.reset(seed=7)["seed"] == 7
    assert mock.state()["posthog"]["seed"] == 7
    assert mock.reset(seed=42)["seed"] == 42
    doc = mock.export()
    assert doc["format"] == "mockserver/state@1" and set(doc["data"]) == {"admin", "posthog", "launchdarkly"}


def test_load_a_name_a_file_and_a_document(mock, tmp_path):
    assert mock.load("empty")["fixture"] == "empty"
    assert experiments(mock) == []
    mock.reset()
    assert len(experiments(mock)) == 12
    doc = {"format": "mockserver/state@1", "clear": {"posthog": ["experiments"]}}
    mock.load(doc)
    assert experiments(mock) == []
    mock.reset()
    (tmp_path / "scenario.json").write_text(json.dumps(doc))
    mock.fixture_dirs = [tmp_path]
    mock.load("scenario.json")  # relative: looked up in fixture_dirs
    assert experiments(mock) == []
    with pytest.raises(MockServerError, match="does not exist"):
        mock.load("missing.json")
    with pytest.raises(MockServerError, match="no fixture named 'nope'"):
        mock.load("nope")
    (tmp_path / "bad.json").write_text(
        json.dumps({"format": "mockserver/state@1", "patch": {"posthog": {"experiments": {"4": {"team_id": "x"}}}}})
    )
    with pytest.raises(MockServerError, match=r"field patch\.posthog\.experiments\.4\.team_id.*in fixture") as bad:
        mock.load(tmp_path / "bad.json")
    assert bad.value.field == "patch.posthog.experiments.4.team_id" and bad.value.status == 400
    assert {f["name"] for f in mock.fixtures()} >= {"demo", "empty", "approval-required"}


def test_faults_and_their_refusals_name_the_field(mock):
    rule = mock.add_fault(operation_id="experiments_list", status=503, times=1)
    assert [f["id"] for f in mock.faults()] == [rule["id"]]
    mock.delete_fault(rule["id"])
    assert mock.faults() == []
    mock.add_fault(path="/api/projects/1/experiments/*", status=500)
    mock.clear_faults()
    assert mock.faults() == []
    with pytest.raises(MockServerError, match="field operation_id") as refused:
        mock.add_fault(operation_id="experiments_lst", status=500)
    assert refused.value.field == "operation_id" and refused.value.error == "bad_request"


def test_clock(mock):
    assert mock.freeze_time("2030-01-01T00:00:00Z").isoformat() == "2030-01-01T00:00:00+00:00"
    assert mock.advance_time(timedelta(hours=1)).hour == 1
    assert mock.advance_time(60).minute == 1
    assert mock.advance_time("1d").day == 2
    assert mock.advance_time(days=1).day == 3
    moved = mock.advance_time(60, minutes=30)  # the positional part and the units add up (60 was dropped)
    assert (moved.day, moved.hour, moved.minute) == (3, 1, 32)
    with pytest.raises(MockServerError, match="beyond year 9999") as far:
        mock.advance_time(1e20)
    assert far.value.field == "seconds"
    mock.unfreeze_time()
    with pytest.raises(TypeError):
        mock.advance_time(True)
    with pytest.raises(MockServerError, match="field duration"):
        mock.advance_time("soon")


def test_a_grant_of_the_other_vendor_is_refused_not_ignored(mock):
    """A role on a PostHog key gave it every scope; scopes on a LaunchDarkly key left it admin."""
    with pytest.raises(MockServerError, match="A PostHog key takes scopes") as role:
        mock.api_key("phx_r", role="reader")
    assert role.value.field == "role"
    with pytest.raises(MockServerError, match="A LaunchDarkly key takes role") as scopes:
        mock.api_key("api-y", vendor="launchdarkly", scopes=["x"])
    assert scopes.value.field == "scopes"
    assert mock.api_keys() == []


def test_api_keys(mock):
    assert mock.api_key("phx_reader", scopes=["experiment:read"])["scopes"] == ["experiment:read"]
    assert mock.api_key("api-reader", vendor="launchdarkly", role="reader")["role"] == "reader"
    assert {k["key"] for k in mock.api_keys()} == {"phx_reader", "api-reader"}
    mock.clear_api_keys()
    assert mock.api_keys() == []
    with pytest.raises(MockServerError, match="field vendor"):
        mock.api_key("k", vendor="optimizely")


def _launch(mock):
    """Launch experiment 1 through the vendor API, over HTTP or in process as the client is."""
    if mock.app is None:
        return requests.post(f"{mock.posthog_url}/experiments/1/launch/", headers=PH, timeout=5)
    return mock.client.post("/api/projects/1/experiments/1/launch/", headers=PH)


def test_posthog_helpers_live_on_the_vendor_and_under_their_old_names(mock):
    assert mock.posthog is mock.vendor("posthog")
    policy = mock.posthog.approval_policy("experiment.launch", quorum=1)
    assert mock.approval_policies() == [policy]  # the older top-level spelling delegates
    assert mock.approval_policy is not None and "approve" in dir(mock)
    assert _launch(mock).status_code == 409
    (change,) = mock.posthog.change_requests(state="pending")
    assert mock.change_request(change["id"])["state"] == "pending"
    assert mock.approve(change["id"])["state"] == "applied"
    mock.posthog.delete_approval_policy(policy["id"])
    assert mock.posthog.approval_policies() == []
    with pytest.raises(MockServerError, match="field action_key"):
        mock.posthog.approval_policy("experiment.explode")
    with pytest.raises(MockServerError, match="no change request"):
        mock.reject("cr-nope")


def test_approvals_through_the_client_name_who_decides_and_expire_on_the_clock(mock):
    mock.posthog.approval_policy("experiment.launch", users=[3], expires_after_days=2)
    assert _launch(mock).status_code == 409
    (change,) = mock.posthog.change_requests(state="pending")
    with pytest.raises(MockServerError, match="not in the approver set") as refused:
        mock.posthog.approve(change["id"], user_id=2)
    assert refused.value.status == 403
    with pytest.raises(MockServerError, match="A reason is required for rejection"):  # None: left out
        mock.posthog.reject(change["id"], user_id=3, reason=None)
    mock.advance_time(days=2)
    assert [cr["id"] for cr in mock.posthog.change_requests(state="expired")] == [change["id"]]
    with pytest.raises(MockServerError, match="Only pending change requests"):
        mock.posthog.approve(change["id"])


def test_launchdarkly_helpers(mock):
    rule = mock.launchdarkly.rate_limit(2, window_seconds=10)
    assert mock.rate_limits() == [rule]
    per_route = mock.launchdarkly.rate_limit(5, scope="route", route="getExperiments")
    assert (per_route["scope"], per_route["route"]) == ("route", "getExperiments")
    implied = mock.launchdarkly.rate_limit(7, route="getExperiments")  # a route alone means scope="route"
    assert (implied["scope"], implied["route"]) == ("route", "getExperiments")
    assert mock.launchdarkly.rate_limit(50, scope="global")["scope"] == "global"
    mock.launchdarkly.clear_rate_limits()
    assert mock.launchdarkly.rate_limits() == []
    with pytest.raises(MockServerError, match="field limit"):
        mock.launchdarkly.rate_limit(0)


def test_urls_are_all_attributes_and_posthog_also_takes_a_project(mock):
    assert mock.launchdarkly_url == mock.launchdarkly.url == f"{mock.url}/api/v2"
    assert isinstance(mock.posthog_url, str) and isinstance(mock.posthog_url, ProjectURL)
    assert mock.posthog_url == f"{mock.url}/api/projects/1"
    assert mock.posthog_url() == mock.posthog_url  # older tests call it
    assert mock.posthog_url(2) == f"{mock.url}/api/projects/2"
    assert f"{mock.posthog_url}/experiments/" == f"{mock.url}/api/projects/1/experiments/"
    with pytest.raises(AttributeError):
        mock.optimizely_url  # noqa: B018


def test_unknown_vendor_is_named(mock):
    with pytest.raises(MockServerError, match="no installed vendor is called 'optimizely'"):
        mock.vendor("optimizely")


def test_runtime_settings_when_the_server_has_them(mock):
    try:
        current = mock.settings()
    except MockServerError as exc:
        assert "has no runtime settings" in str(exc)
        pytest.skip("this server has no /__admin/settings")
    assert isinstance(current, dict)


def test_server_errors_are_numbered(mock, monkeypatch):
    count, _ = mock.server_errors()
    import mockserver.vendors.posthog.models as models

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom for the client")

    monkeypatch.setattr(models, "project_or_404", boom)
    if mock.app is None:
        assert requests.get(f"{mock.posthog_url}/experiments/", headers=PH, timeout=5).status_code == 500
    else:
        assert mock.client.get("/api/projects/1/experiments/", headers=PH).status_code == 500
    total, errors = mock.server_errors(after=count)
    assert total == count + 1
    assert errors == [{"number": count + 1, "type": "RuntimeError", "message": "kaboom for the client"}]
    assert mock.server_errors(after=total)[1] == []


def test_runtime_and_test_client_only_in_process(server):
    with Client(server.url, admin_token=TOKEN) as remote:
        with pytest.raises(MockServerError, match="does not run in this process"):
            remote.runtime  # noqa: B018
        with pytest.raises(MockServerError, match="use its url"):
            remote.client  # noqa: B018
        assert "over HTTP" in repr(remote)


def test_a_server_that_does_not_answer_times_out():
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client(url, timeout=0.5) as mock, pytest.raises(MockServerError, match="did not answer"):
            mock.health()


def test_in_process_control_calls_import_no_http_library():
    """A server in this process is driven without httpx (a tenth of a second of session start)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mockserver.app import create_app\n"
        "from mockserver.client import Client\n"
        "client = Client.in_process(create_app())\n"
        "client.reset(7)\n"
        "assert client.health()['seed'] == 7\n"
        "try:\n"
        "    client.add_fault(status=999)\n"
        "except AssertionError as exc:\n"
        "    assert 'status' in str(exc), exc\n"
        "print('httpx' in sys.modules, 'requests' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]


def test_wrong_arguments_are_refused_naming_the_argument(mock):
    """A slip in a test is a ``UsageError`` (also a ``TypeError``) naming what was wrong, raised
    before anything is sent; never a raw error from deep inside, never a silent pass."""
    from mockserver.client import UsageError

    cases = [
        (lambda: mock.load(123), "source"),
        (lambda: mock.load(None), "source"),
        (lambda: mock.load(""), "source"),
        (lambda: mock.load("  "), "source"),
        (lambda: mock.delete_fault("abc"), "fault_id"),
        (lambda: mock.add_fault(path="/x", status={1, 2}), "status"),
        (lambda: mock.add_fault(path="/x", status=500, body={"a": [1, object()]}), "body.a[1]"),
        (lambda: mock.advance_time(fortnights=1), "fortnights"),
        (lambda: mock.advance_time(days="2"), "days"),
        (lambda: mock.advance_time([1]), "delta"),
        (lambda: mock.posthog.approve(".."), "id"),
        (lambda: mock.posthog.delete_approval_policy("1.5"), "policy_id"),
        (lambda: mock.delete_fault(True), "fault_id"),
        (lambda: mock.requests.assert_not_called("GET", "experiments_list", status="200"), "status"),
        (lambda: mock.requests.assert_called("GET", "experiments_list", times="1"), "times"),
        (lambda: mock.requests.assert_called("GET", "experiments_list", times=-1), "times"),
        (lambda: mock.requests.all(status=True), "status"),
        (lambda: mock.requests.all(status=42), "status"),
        (lambda: mock.requests.all(query="limit=2"), "query"),
        (lambda: mock.requests.assert_called(200, "experiments_list"), "method"),
        (lambda: Client("127.0.0.1:8010"), "url"),
        (lambda: Client("ftp://127.0.0.1"), "url"),
        (lambda: Client("http://127.0.0.1:port"), "url"),
        (lambda: Client(8010), "url"),
        (lambda: Client("http://127.0.0.1:8010", admin_token=1234), "admin_token"),
        (lambda: Client("http://127.0.0.1:8010", timeout="x"), "timeout"),
        (lambda: Client.in_process(None), "app"),
        (lambda: Client.in_process(object()), "app"),
        (lambda: mock.advance_time("1h", minutes=30), "delta"),
        (lambda: mock.advance_time(days=10**9), "days"),
        (lambda: mock.advance_time(float("nan")), "delta"),
        # JSON has no NaN: sent as null it would change meaning (a NaN probability read as "always")
        (lambda: mock.add_fault(operation_id="experiments_list", status=500, probability=float("nan")), "probability"),
        (lambda: mock.update_settings(latency_ms=float("nan")), "latency_ms"),
        (lambda: mock.launchdarkly.rate_limit(5, window_seconds=float("inf")), "window_seconds"),
        (lambda: mock.add_fault(path="/x", status=500, body={"a": [None, float("-inf")]}), "body.a[1]"),
        (lambda: mock.requests.assert_called("GET", "experiments_list", body={}), "body"),
        (lambda: mock.requests.assert_not_called("GET", path="api/projects/1/experiments/"), "path"),
        (
            lambda: mock.requests.assert_not_called("GET", "experiments_list", headers={"X-Page": 1}),
            "headers['X-Page']",
        ),
        # from a fuzzing round: each raised a library error (UnboundLocalError, ValueError,
        # UnicodeEncodeError, httpx.InvalidURL, RecursionError, TypeError) or matched nothing
        (lambda: Client("http://[::1"), "url"),
        (lambda: Client(" http://127.0.0.1:8010"), "url"),
        (lambda: Client("http://127.0.0.1:8010", timeout=-1), "timeout"),
        (lambda: Client("http://127.0.0.1:8010", timeout=float("nan")), "timeout"),
        (lambda: Client("http://127.0.0.1:8010", timeout=float("inf")), "timeout"),
        (lambda: Client("http://127.0.0.1:8010", timeout=10**400), "timeout"),
        (lambda: Client("http://127.0.0.1:8010", timeout=1e308), "timeout"),
        (lambda: Client("http://127.0.0.1:8010?x=1"), "url"),
        (lambda: Client("http://127.0.0.1:8010", admin_token=" padded"), "admin_token"),
        (lambda: Client("http://127.0.0.1:8010", admin_token="\u00e9"), "admin_token"),
        (lambda: Client("http://127.0.0.1:8010", admin_token="a\nb"), "admin_token"),
        (lambda: Client("http://127.0.0.1:8010", fixture_dirs=3), "fixture_dirs"),
        (lambda: mock.posthog.approve("\ud800"), "id"),
        (lambda: mock.posthog.cancel("x" * 70_000), "id"),
        (lambda: mock.load("x" * 70_000), "source"),
        (lambda: mock.server_errors("\ud800"), "after"),
        (lambda: mock.requests.all("GET", "/\ud800"), "path"),
        (lambda: mock.requests.all("GET", "x" * 70_000), "operation_id"),
        (lambda: mock.requests.all("GET", "experiments_list", headers={1: "x"}), "headers"),
        (lambda: mock.requests.assert_not_called("GET", "experiments_list", query={b"limit": 10}), "query"),
        (lambda: mock.add_fault(path="/api/*", status=503, body=_nested(2000)), "body"),
        (lambda: mock.vendor(["posthog"]), "name"),
    ]
    for call, field in cases:
        with pytest.raises(UsageError) as refused:
            call()
        assert refused.value.field == field and str(refused.value).startswith(f"{field}: "), (field, refused.value)
        assert isinstance(refused.value, TypeError) and isinstance(refused.value, MockServerError)
    assert mock.requests.all() == []  # nothing reached the server (the fixture's reset emptied the journal)
    with pytest.raises(MockServerError) as missing:  # an id stays one path segment: no way out of it
        mock.posthog.change_request("../../state")
    assert missing.value.status == 404 and "change-requests/..%2F..%2Fstate" in str(missing.value)


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_what_servers_accept_the_client_accepts_too():
    """A token with spaces inside (``--admin-token "my secret"``), IPv6 and IDN hosts."""
    assert Client("http://127.0.0.1:8010", admin_token="my secret token")._token == "my secret token"
    assert Client("http://[::1]:8010").url == "http://[::1]:8010"
    assert Client("http://b\u00fccher.example:8010/").url == "http://b\u00fccher.example:8010"
    assert Client("http://127.0.0.1:8010", timeout=5).health  # an int is seconds too


def test_fixture_dirs_take_one_path_or_several_and_a_deep_file_is_said(tmp_path):
    one = Client("http://127.0.0.1:8010", fixture_dirs=str(tmp_path))
    assert one.fixture_dirs == [tmp_path]  # a string is one directory, not its characters
    assert Client("http://127.0.0.1:8010", fixture_dirs=None).fixture_dirs == []
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MockServerError, match="nested too deeply"):
        one.load("deep.json")
    (tmp_path / "adir").mkdir()
    with pytest.raises(MockServerError, match="is a directory"):
        one.load(str(tmp_path / "adir"))


def test_ids_as_read_back_are_taken_and_errors_survive_pickling(mock):
    """An id as a response or a URL gives it (the digits of a number, a UUID) works; a refusal
    crosses process boundaries (xdist, multiprocessing) whole."""
    import pickle
    import uuid

    from mockserver.client import UsageError

    rule = mock.add_fault(path="/x", status=500)
    mock.delete_fault(str(rule["id"]))
    assert mock.faults() == []
    policy = mock.posthog.approval_policy("experiment.launch")
    mock.posthog.delete_approval_policy(str(policy["id"]))
    assert mock.posthog.approval_policies() == []
    some = uuid.UUID("0b0e4a52-5d4c-4a8e-9f3c-111111111111")
    with pytest.raises(MockServerError) as unknown:  # taken as an id, and the server says it does not exist
        mock.posthog.change_request(some)
    assert unknown.value.status == 404 and str(some) in str(unknown.value)
    with pytest.raises(UsageError) as slip:
        mock.delete_fault("abc")
    copy = pickle.loads(pickle.dumps(slip.value))
    assert type(copy) is UsageError and copy.field == "fault_id" and str(copy) == str(slip.value)
    refused = MockServerError("no", status=404, error="not_found", field="x")
    again = pickle.loads(pickle.dumps(refused))
    assert (str(again), again.status, again.error, again.field) == ("no", 404, "not_found", "x")


def test_the_requester_cancels_through_the_client(mock):
    mock.posthog.approval_policy("experiment.launch")
    assert _launch(mock).status_code == 409
    (change,) = mock.posthog.change_requests(state="pending")
    canceled = mock.posthog.cancel(change["id"], reason="wrong experiment")
    assert canceled["state"] == "rejected" and canceled["approvals"][0]["reason"] == "wrong experiment"
    with pytest.raises(MockServerError, match="You cannot cancel this change request") as refused:
        mock.posthog.cancel(change["id"])
    assert refused.value.status == 403


def test_a_value_outside_a_short_enum_is_refused_naming_every_allowed_value(mock):
    with pytest.raises(MockServerError) as refused:
        mock.posthog.change_requests(state="canceled")
    assert '"canceled" is not one of "pending", "approved", "applied", "rejected", "failed", "expired"' in str(
        refused.value
    )


def test_a_body_with_a_null_and_a_date_is_sent_as_orjson_writes_it():
    from datetime import datetime

    from mockserver.client import _encode

    assert _encode({"when": datetime(2026, 1, 1), "x": None}) == b'{"when":"2026-01-01T00:00:00","x":null}'
