"""/__admin/faults: status, body, latency, connection drop, times, probability."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.admin.conftest import LD_KEY

EXP = "/api/projects/1/experiments/4/"
LD_LIST = "/api/v2/projects/default/environments/production/experiments"


def add(client, **rule):
    response = client.post("/__admin/faults", json_body=rule)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_status_fault_answers_in_the_vendor_envelope_then_runs_out(make_client):
    client = make_client()
    rule = add(client, method="GET", path="/api/projects/1/experiments/*", status=503, times=1)
    assert rule == {
        "id": 1,
        "method": "GET",
        "path": "/api/projects/1/experiments/*",
        "operation_id": None,
        "status": 503,
        "latency_ms": None,
        "drop_connection": False,
        "times": 1,
        "probability": 1.0,
        "fired": 0,
        "remaining": 1,
    }
    failed = client.get(EXP, check_spec=False)
    assert failed.status_code == 503
    assert failed.json() == {
        "type": "server_error",
        "code": "error",
        "detail": "Injected fault: HTTP 503.",
        "attr": None,
    }
    assert failed.headers["X-Mock-Fault"] == "1"
    assert client.get(EXP).status_code == 200
    (listed,) = client.get("/__admin/faults").json()["faults"]
    assert listed["fired"] == 1 and listed["remaining"] == 0
    journal = client.get("/__admin/requests").json()["requests"]
    assert [(r["status"], r["fault_id"]) for r in journal] == [(503, 1), (200, None)]


def test_faults_skip_auth_and_validation_like_an_outage_would(make_client):
    client = make_client(headers={})
    add(client, path="/api/projects/*", status=500)
    response = client.post("/api/projects/1/experiments/", data=b"not json", content_type="text/plain")
    assert response.status_code == 500 and response.json()["type"] == "server_error"


def test_launchdarkly_faults_use_its_envelope_and_429_adds_retry_after(make_client):
    client = make_client(headers=LD_KEY)
    add(client, operation_id="getExperiments", status=429)
    response = client.get(LD_LIST)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and response.headers["Retry-After"] == "1"


def test_a_given_body_is_sent_as_is(make_client):
    client = make_client()
    add(client, operation_id="experiments_retrieve", status=502, body={"oops": True})
    response = client.get(EXP, check_spec=False)
    assert response.status_code == 502 and response.json() == {"oops": True}
    assert client.get("/api/projects/1/experiments/").status_code == 200  # other operations unaffected


def test_a_success_status_answers_the_given_body_or_none(make_client):
    """The vendor's error body goes with 4xx and 5xx only: a 200 fault says what it answers."""
    client = make_client()
    add(client, operation_id="experiments_retrieve", status=200, body={"id": 4, "name": "stale"}, times=1)
    response = client.get(EXP, check_spec=False)
    assert response.status_code == 200 and response.json() == {"id": 4, "name": "stale"}
    add(client, operation_id="experiments_retrieve", status=204, times=1)
    empty = client.get(EXP, check_spec=False)
    assert empty.status_code == 204 and empty.content == b""
    assert client.get(EXP).status_code == 200


def test_method_and_operation_must_both_match(make_client):
    client = make_client()
    add(client, method="POST", path="/api/projects/1/experiments/4/*", status=500)
    assert client.get(EXP).status_code == 200


def test_latency_only_delays_and_the_request_goes_on(make_client):
    client = make_client()
    add(client, path=EXP, latency_ms=120)
    started = time.perf_counter()
    response = client.get(EXP)
    assert response.status_code == 200 and response.json()["id"] == 4
    assert time.perf_counter() - started >= 0.12


def test_latency_range_is_within_bounds(make_client):
    client = make_client()
    add(client, path=EXP, latency_ms=[30, 60], times=3)
    for _ in range(3):
        started = time.perf_counter()
        client.get(EXP)
        assert 0.03 <= time.perf_counter() - started < 2  # the floor is exact; a loaded machine stretches the top


def test_probability_is_seeded_so_a_flaky_run_replays(make_client):
    def run() -> list[int]:
        client = make_client()
        add(client, path=EXP, status=500, probability=0.5)
        return [client.get(EXP, check_spec=False).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 500 in first and 200 in first


def test_fault_dice_follow_the_seed_a_start_fixture_names_from_the_start(make_client, tmp_path):
    """The same rolls right after start as after a reset: both use the seed in place (the fixture's)."""
    fixture = tmp_path / "seven.json"
    fixture.write_text(json.dumps({"format": "mockserver/state@1", "seed": 7}))

    def rolls(client) -> list[int]:
        add(client, path=EXP, status=500, probability=0.5)
        return [client.get(EXP, check_spec=False).status_code for _ in range(20)]

    client = make_client(fixture=str(fixture))
    assert client.get("/__admin/health").json()["seed"] == 7
    at_start = rolls(client)
    client.post("/__admin/reset")
    assert rolls(client) == at_start


def test_drop_connection_closes_the_socket_without_an_answer(own_server):
    server, client = own_server()
    add(client, path=EXP, drop_connection=True, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + EXP, headers={"Authorization": "Bearer phx_x"}, timeout=5)
    assert client.get(EXP).status_code == 200
    dropped = client.get("/__admin/requests", params={"path": EXP}).json()["requests"][0]
    assert dropped["dropped"] is True and dropped["status"] is None and dropped["fault_id"] == 1


def test_drop_connection_in_process_raises_to_the_caller(make_client):
    client = make_client()
    add(client, operation_id="experiments_retrieve", drop_connection=True)
    with pytest.raises(ConnectionResetError):
        client.get(EXP)


def test_delete_one_and_all(make_client):
    client = make_client()
    first = add(client, path=EXP, status=500)
    add(client, path="/api/*", status=503)
    assert client.delete(f"/__admin/faults/{first['id']}").status_code == 204
    assert client.get(EXP, check_spec=False).status_code == 503
    assert client.delete(f"/__admin/faults/{first['id']}").status_code == 404
    assert client.delete("/__admin/faults").status_code == 204
    assert client.get("/__admin/faults").json() == {"faults": []}
    assert client.get(EXP).status_code == 200


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"status": 500}, "path"),
        ({"path": "/api/*"}, "status"),
        ({"path": "/api/*", "status": 700}, "status"),
        ({"path": "/api/*", "status": 500, "times": 0}, "times"),
        ({"path": "/api/*", "status": 500, "probability": 2}, "probability"),
        ({"path": "/api/*", "latency_ms": [5]}, "latency_ms"),
        ({"path": "/api/*", "latency_ms": [50, 10]}, "latency_ms"),
        ({"path": "/api/*", "latency_ms": -1}, "latency_ms"),
        ({"path": "/api/*", "body": {"x": 1}}, "body"),
        ({"path": "/api/*", "status": 500, "colour": "red"}, "colour"),
        ({"operation_id": "experiments_lisst", "status": 503}, "operation_id"),
        ({"path": "/api/*", "method": "FETCH", "status": 503}, "method"),
        ({"path": "/api/*", "status": 100}, "status"),
        ({"path": "/__admin/health", "status": 503}, "path"),
        ({"path": "/api/*", "status": 199, "body": {}}, "status"),
        ({"path": "/api/*", "status": 200}, "body"),
        ({"path": "/api/*", "status": 302}, "body"),
        ({"path": "/api/*", "status": 204, "body": {"x": 1}}, "body"),
        ({"path": "/api/*", "status": 304, "body": None}, "body"),
    ],
)
def test_bad_rules_are_400_naming_the_field(make_client, rule, field):
    client = make_client()
    response = client.post("/__admin/faults", json_body=rule)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert client.get("/__admin/faults").json() == {"faults": []}


def test_reset_clears_faults(make_client):
    client = make_client()
    add(client, path=EXP, status=500)
    client.post("/__admin/reset")
    assert client.get(EXP).status_code == 200


def test_whole_floats_are_the_ints_they_equal_and_delays_are_bounded(client):
    """JSON does not tell 503 from 503.0: the rule fires as a 503 (a float status answered 500)."""
    added = client.post(
        "/__admin/faults", json_body={"operation_id": "experiments_retrieve", "status": 503.0, "times": 2.0}
    )
    assert added.status_code == 201 and added.json()["status"] == 503 and added.json()["times"] == 2
    assert client.get("/api/projects/1/experiments/4/", check_spec=False).status_code == 503
    for latency in (3_600_001, [0, 1e13]):
        refused = client.post("/__admin/faults", json_body={"path": "/api/*", "latency_ms": latency})
        assert refused.status_code == 400 and refused.json()["field"].startswith("latency_ms"), refused.text
    assert client.post("/__admin/reset", json_body={"seed": 1e300}).status_code == 400
    assert client.post("/__admin/reset", json_body={"seed": 7.0}).json()["seed"] == 7


def test_data_inside_a_control_body_is_kept_as_sent(client):
    """Only the control API's own top-level numbers are read as ints; a fault's body is data."""
    body = {"rollout_percentage": 50.0, "ratio": -0.0}
    client.post("/__admin/faults", json_body={"operation_id": "experiments_retrieve", "status": 200, "body": body})
    served = client.get("/api/projects/1/experiments/4/", check_spec=False)
    assert b'"rollout_percentage":50.0' in served.content.replace(b" ", b"")
