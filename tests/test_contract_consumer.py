"""The consumer's side of the contract: which refusals are contract breaks, coverage, content-matched faults."""

from __future__ import annotations

import pytest

from mockserver.app import create_app
from tests.conftest import PH_KEY, make_settings
from tests.speccheck import FlaskClient

P = "/api/projects/1"


@pytest.fixture
def client() -> FlaskClient:
    return FlaskClient(create_app(make_settings()), PH_KEY)


def _last(client: FlaskClient) -> dict:
    return client.get("/__admin/requests?limit=1").json()["requests"][0]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "stage"),
    [
        ("POST", f"{P}/experiments/", {"name": "No key"}, {}, "parse"),
        ("POST", f"{P}/experiments/", {"name": "x", "feature_flag_key": "k", "start_date": "soon"}, {}, "handle"),
        ("GET", f"{P}/experimentz/", None, {}, "route"),
        ("DELETE", f"{P}/experiments/", None, {}, "route"),
        ("GET", f"{P}/experiments/", None, {"Authorization": ""}, "auth"),
        ("GET", "/api/v2/projects/default/experiments", None, {"Authorization": "Bearer wrong-form"}, "auth"),
    ],
)
def test_contract_breaks_are_marked_as_such(client, method, path, body, headers, stage):
    client.request(method, path, json_body=body, headers=headers, check_spec=False)
    entry = _last(client)
    assert entry["refused_by"] == stage and entry["contract_refusal"] is True


def test_a_rule_saying_no_is_not_a_contract_break(client):
    exp = client.post(f"{P}/experiments/", json_body={"name": "Draft", "feature_flag_key": "draft-x"}).json()
    refused = client.post(f"{P}/experiments/{exp['id']}/end/")
    assert refused.status_code == 400
    entry = _last(client)
    assert entry["refused_by"] == "handle" and entry["contract_refusal"] is False
    client.get(f"{P}/experiments/")
    assert _last(client)["refused_by"] is None and _last(client)["contract_refusal"] is False


def test_coverage_counts_operations_and_statuses_across_resets(client):
    client.delete("/__admin/coverage")
    client.get(f"{P}/experiments/")
    client.get(f"{P}/experiments/99999/")
    client.post("/__admin/reset")
    client.get(f"{P}/experiments/")
    report = client.get("/__admin/coverage").json()["vendors"]
    posthog = {row["operation_id"]: row for row in report["posthog"]["detail"]}
    assert posthog["experiments_list"]["calls"] == 2 and posthog["experiments_list"]["statuses"] == {"200": 2}
    retrieve = posthog["experiments_retrieve"]
    assert retrieve["statuses"] == {"404": 1} and "404" in retrieve["documented_seen"]
    assert "200" in retrieve["documented_missed"]
    assert report["posthog"]["called"] == 2 and "experiments_create" in report["posthog"]["never_called"]
    assert report["launchdarkly"]["called"] == 0
    assert report["posthog"]["operations"] == len(report["posthog"]["detail"])
    client.delete("/__admin/coverage")
    assert client.get("/__admin/coverage").json()["vendors"]["posthog"]["called"] == 0


def test_a_fault_can_match_on_body_query_and_headers(client):
    rule = {
        "path": f"{P}/experiments/",
        "method": "POST",
        "status": 503,
        "times": 2,
        "match": {"body": {"name": "flaky"}, "query": {"source": "ci"}, "headers": {"X-Trace": "1"}},
    }
    created = client.post("/__admin/faults", json_body=rule)
    assert created.status_code == 201 and created.json()["match"] == rule["match"]
    flaky = {"name": "flaky", "feature_flag_key": "flaky-flag"}
    assert (
        client.post(
            f"{P}/experiments/?source=ci", json_body=flaky, headers={"X-Trace": "1"}, check_spec=False
        ).status_code
        == 503
    )
    other = {"name": "steady", "feature_flag_key": "steady-flag"}
    assert client.post(f"{P}/experiments/?source=ci", json_body=other, headers={"X-Trace": "1"}).status_code == 201
    assert client.post(f"{P}/experiments/", json_body=flaky, headers={"X-Trace": "1"}).status_code == 201  # no query
    assert (
        client.post(
            f"{P}/experiments/?source=ci",
            json_body={**flaky, "feature_flag_key": "f2"},
            headers={"X-Trace": "1"},
            check_spec=False,
        ).status_code
        == 503
    )
    assert (
        client.post(
            f"{P}/experiments/?source=ci", json_body={**flaky, "feature_flag_key": "f3"}, headers={"X-Trace": "1"}
        ).status_code
        == 201
    )  # times: 2


@pytest.mark.parametrize(
    ("match", "field"),
    [({}, "match"), ({"cookies": {}}, "match.cookies"), ({"query": {"a": 1}}, "match.query.a"), ([], "match")],
)
def test_a_bad_match_is_refused_naming_the_field(client, match, field):
    response = client.post("/__admin/faults", json_body={"path": "/api/*", "status": 500, "match": match})
    assert response.status_code == 400 and response.json()["field"] == field
