"""Journal assertions: what they match on, what they refuse, and how a failure reads."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from mockserver.calls import ANY, Expect, subset_difference
from mockserver.client import Client, MockServerError
from mockserver.errors import UsageError
from tests.conftest import make_settings

PH = {"Authorization": "Bearer phx_calls"}
P = "/api/projects/1"


@pytest.fixture
def mock():
    client = Client.in_process(create_app(make_settings()))
    yield client
    client.close()


def entry(**fields):
    base = {
        "id": 1,
        "method": "POST",
        "path": "/api/projects/1/experiments/",
        "query": "",
        "operation_id": "experiments_create",
        "status": 201,
        "request_headers": {"Authorization": "Bearer phx_calls", "Content-Type": "application/json"},
        "request_body": {"name": "Pricing", "parameters": {"feature_flag_variants": [{"key": "control"}]}},
        "dropped": False,
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("expected", "actual", "difference"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, None),
        ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2], "c": 0}}, None),
        ({"a": 1}, {"b": 1}, "body.a is missing"),
        ({"a": True}, {"a": 1}, "body.a is 1, not true"),
        ({"a": 1}, {"a": True}, "body.a is true, not 1"),
        ([1, 2], [1, 2, 3], "body is [1, 2, 3], not a list of 2"),
        ([{"k": "x"}], [{"k": "y", "z": 1}], 'body[0].k is "y", not "x"'),
        ({"a": 1}, "text", 'body is "text", not an object'),
        (None, None, None),
    ],
)
def test_json_subset(expected, actual, difference):
    assert subset_difference(expected, actual, "body") == difference


def test_each_criterion_and_what_differs():
    e = entry(query="limit=10&search=x&search=y")
    assert Expect(method="POST", operation_id="experiments_create", status=201).matches(e)
    assert Expect(path="/api/projects/*/experiments").matches(e)  # a trailing slash is optional
    assert Expect(json={"parameters": {"feature_flag_variants": [{"key": "control"}]}}).matches(e)
    assert Expect(query={"limit": 10, "search": ["x", "y"]}).matches(e)
    assert Expect(headers={"authorization": "Bearer phx_calls"}).matches(e)
    wrong = Expect(
        method="GET",
        path="/api/projects/2/*",
        status=400,
        json={"name": "Other"},
        query={"limit": 5, "offset": 0},
        headers={"X-Missing": "1", "Content-Type": "text/plain"},
    )
    assert wrong.mismatches(e) == [
        "method POST, not GET",
        "path /api/projects/1/experiments/, not /api/projects/2/*",
        "status 201, not 400",
        'body.name is "Pricing", not "Other"',
        "query limit=10, not 5",
        "query offset is missing",
        "header X-Missing is missing",
        'header Content-Type: "application/json", not "text/plain"',
    ]
    assert Expect(operation_id="experiments_list").mismatches(entry(operation_id=None)) == [
        "operation none (unmatched path), not experiments_list"
    ]
    assert Expect().matches(e) and Expect().json is ANY


def test_a_leading_slash_means_a_path():
    assert Expect.of("get", "/api/*") == Expect(method="GET", path="/api/*")
    assert Expect.of(None, "experiments_list", status=200) == Expect(operation_id="experiments_list", status=200)
    with pytest.raises(TypeError, match="given twice"):
        Expect.of("GET", "/a", path="/b")


def test_assertions_match_on_body_query_and_headers(mock):
    c = mock.client
    c.post(f"{P}/experiments/", headers=PH, json={"name": "Pricing", "feature_flag_key": "pricing"})
    c.post(f"{P}/experiments/", headers=PH, json={"name": "Nameless"})
    c.get(f"{P}/experiments/?limit=5", headers=PH)
    log = mock.requests
    (created,) = log.assert_called("POST", "experiments_create", status=201, json={"name": "Pricing"})
    assert created["response_body"]["feature_flag_key"] == "pricing"
    log.assert_called_once("POST", "experiments_create", status=400)
    log.assert_called(
        "GET", "/api/projects/1/experiments/", query={"limit": 5}, headers={"authorization": PH["Authorization"]}
    )
    log.assert_not_called("GET", "experiments_list", query={"limit": 6})
    assert len(log.all(method="POST")) == 2
    assert [e["status"] for e in log.find(operation_id="experiments_create", json={"name": "Nameless"})] == [400]
    assert len(log.calls("post", "experiments_create")) == 2


def test_all_and_find_read_their_second_argument_as_assert_called_does(mock):
    """``find("GET", "experiments_list")`` is an operationId, as in ``assert_called``: it was taken
    for a path glob and matched nothing."""
    c = mock.client
    c.get(f"{P}/experiments/?limit=5", headers=PH)
    c.post(f"{P}/experiments/", headers=PH, json={"name": "Nameless"})
    log = mock.requests
    assert [e["status"] for e in log.find("GET", "experiments_list")] == [200]
    assert [e["status"] for e in log.all("POST", "/api/projects/*/experiments/")] == [400]
    assert [e["status"] for e in log.all(None, "experiments_create", status=400)] == [400]
    assert log.find("GET", "experiments_list") == log.assert_called("GET", "experiments_list")
    with pytest.raises(MockServerError, match="experiments_lst"):
        log.find("GET", "experiments_lst")
    with pytest.raises(UsageError, match="given twice") as twice:
        log.all("GET", "experiments_list", operation_id="experiments_create")
    assert twice.value.field == "operation_id"


def test_a_body_cut_in_the_journal_is_not_judged(mock):
    """Over 64 KiB the journal keeps the body cut: json= cannot say it was not sent (it passed)."""
    big = {"name": "Big", "feature_flag_key": "big", "parameters": {"notes": "x" * 70_000}}
    assert mock.client.post(f"{P}/experiments/", headers=PH, json=big).status_code == 201
    (entry,) = mock.requests.all("POST", "experiments_create")
    assert entry["request_body_truncated"] is True and entry["request_body"].endswith("…")
    for check in (mock.requests.assert_not_called, mock.requests.assert_called):
        with pytest.raises(UsageError, match="over 64 KiB") as cut:
            check("POST", "experiments_create", json={"name": "Big"})
        assert cut.value.field == "json"
    mock.requests.assert_not_called("POST", "experiments_create", status=400, json={"name": "Big"})  # decided


def test_a_full_journal_cannot_prove_a_count_or_an_absence():
    """Past --journal-size the oldest entries go: assert_not_called would pass for a call that was
    made, and a count would come out low, so both say they cannot tell (and how to fix it)."""
    mock = Client.in_process(create_app(make_settings(journal_size=3)))
    for exp in range(1, 6):
        assert mock.client.get(f"{P}/experiments/{exp}/", headers=PH).status_code == 200
    with pytest.raises(AssertionError, match="cannot tell whether") as absent:
        mock.requests.assert_not_called("GET", f"{P}/experiments/1/")
    assert "dropped 2 older request(s)" in str(absent.value) and "--journal-size" in str(absent.value)
    with pytest.raises(AssertionError, match="cannot tell whether"):
        mock.requests.assert_called("GET", "experiments_retrieve", times=3)
    with pytest.raises(AssertionError, match="dropped 2 older request") as missing:  # a failure says it too
        mock.requests.assert_called("GET", f"{P}/experiments/1/")
    assert "called 0 time(s)" in str(missing.value)
    assert len(mock.requests.assert_called("GET", f"{P}/experiments/5/")) == 1  # at least once: still proven
    mock.requests.clear()
    mock.requests.assert_not_called("GET", "experiments_retrieve")  # nothing dropped since: decided
    mock.close()


def test_an_unknown_operation_id_is_refused_not_silently_unmatched(mock):
    with pytest.raises(MockServerError, match="no vendor operation is called 'experiments_lst'") as refused:
        mock.requests.assert_not_called("GET", "experiments_lst")
    assert refused.value.field == "operation_id"


def test_a_method_the_operation_is_not_served_by_is_refused_not_silently_unmatched(mock):
    for method in ("POST", "FETCH"):
        with pytest.raises(MockServerError, match=f"a {method} request never matches it") as refused:
            mock.requests.assert_not_called(method, "experiments_list")
        assert refused.value.field == "method" and "experiments_list is GET /api/" in str(refused.value)
    with pytest.raises(MockServerError, match="a POST request never matches it") as fault:
        mock.add_fault(method="POST", operation_id="experiments_list", status=500)
    assert fault.value.field == "method" and mock.faults() == []
    mock.requests.assert_not_called("HEAD", "experiments_list")  # a GET route answers HEAD too
    mock.requests.assert_not_called("get", "experiments_list")


def test_a_failure_lists_the_near_misses_first(mock):
    c = mock.client
    c.post(f"{P}/experiments/", headers=PH, json={"name": "Other", "feature_flag_key": "other"})
    c.post(f"{P}/experiments/", headers=PH, json={"name": "Pricing"})
    c.get(f"{P}/experiments/", headers=PH)
    with pytest.raises(AssertionError) as failed:
        mock.requests.assert_called("POST", "experiments_create", status=201, json={"name": "Pricing"})
    message = str(failed.value)
    assert message.splitlines()[0] == (
        'expected POST experiments_create answered 201 with body ⊇ {"name": "Pricing"} to be called at least once; '
        "it was called 0 time(s)."
    )
    near = message.split("Near misses (closest first):\n", 1)[1].split("All 3 request(s)", 1)[0]
    lines = near.strip().splitlines()
    assert lines[0].strip() == "#2 POST /api/projects/1/experiments/ -> 400 (experiments_create)"
    assert lines[1].strip() == 'status 400 ("feature_flag_key: This field is required."), not 201'
    assert lines[2].strip() == "#1 POST /api/projects/1/experiments/ -> 201 (experiments_create)"
    assert lines[3].strip() == 'body.name is "Other", not "Pricing"'
    assert "#3 GET /api/projects/1/experiments/ -> 200 (experiments_list)" in message.split("All 3", 1)[1]


def test_nothing_recorded_says_so(mock):
    with pytest.raises(AssertionError, match="No requests were recorded since the last reset"):
        mock.requests.assert_called("GET", "experiments_list")


def test_assertion_frames_are_hidden_from_tracebacks(pytester: pytest.Pytester):
    pytester.makepyfile("""
def test_fails(mockserver_app):
    mockserver_app.requests.assert_called("GET", "experiments_list", times=2)
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "expected GET experiments_list to be called 2 time(s)" in out
    assert "calls.py" not in out and "def assert_called" not in out


def test_refusals_and_slips_hide_the_plugin_frames_too(pytester: pytest.Pytester):
    """Not only failed assertions: an unknown operationId, a missing fixture file, a wrong type."""
    pytester.makepyfile("""
def test_unknown_operation(mockserver_app):
    mockserver_app.requests.assert_called("GET", "experiments_lst")

def test_missing_file(mockserver_app):
    mockserver_app.load("nowhere.json")

def test_wrong_type(mockserver_app):
    mockserver_app.requests.assert_not_called("GET", "experiments_list", status="200")

def test_wrong_type_in_a_query(mockserver_app):
    mockserver_app.requests.all("GET", status="200")
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert (
        "experiments_lst" in out and "nowhere.json does not exist" in out and "status: expected an HTTP status" in out
    )
    for frame in ("calls.py", "client.py", "def _call", "def _find", "__init__", "<string>"):
        assert frame not in out, frame


def test_an_unknown_operation_id_suggests_the_near_names_and_how_a_path_is_written(mock):
    with pytest.raises(MockServerError, match=r"did you mean 'experiments_end_create'"):
        mock.requests.assert_not_called("POST", "experiments_end")
    with pytest.raises(MockServerError, match=r"\(a path glob starts with /\)"):
        mock.requests.assert_called("GET", "api/projects/*")
    with pytest.raises(MockServerError, match=r"did you mean 'experiments_retrieve'"):
        mock.add_fault(operation_id="experiments_retreive", status=503)


def test_a_near_miss_on_status_says_why_the_request_was_refused(mock):
    assert mock.client.post(f"{P}/experiments/", json={"name": "x"}, headers=PH).status_code == 400
    with pytest.raises(AssertionError) as failed:
        mock.requests.assert_called("POST", "experiments_create", status=201)
    assert "status 400 (" in str(failed.value) and "feature_flag_key" in str(failed.value)


def test_an_out_of_range_number_in_an_either_or_field_says_its_range(mock):
    """latency_ms is a number or a [min, max] pair: a bad number is told its bound, not "not valid
    under any of the schemas listed in the 'oneOf' keyword"."""
    for call, said in (
        (lambda: mock.add_fault(operation_id="experiments_list", latency_ms=3_600_001), "greater than the maximum"),
        (lambda: mock.update_settings(latency_ms=-1), "-1 is less than the minimum of 0"),
        (lambda: mock.update_settings(latency_ms=[1]), "has less than 2 items"),
    ):
        with pytest.raises(MockServerError, match=said) as refused:
            call()
        assert refused.value.field == "latency_ms" and "oneOf" not in str(refused.value)
