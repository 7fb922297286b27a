import pytest
import requests

HEADERS = {"Authorization": "Bearer phx_test"}


def test_lists_experiments(mockserver):
    response = requests.get(f"{mockserver.posthog_url}/experiments/", headers=HEADERS)
    assert response.status_code == 200
    mockserver.requests.assert_called_once("GET", "experiments_list", status=200)


def test_survives_one_outage(mockserver):
    mockserver.add_fault(method="GET", path="/api/projects/1/experiments/*", status=503, times=1)
    url = f"{mockserver.posthog_url}/experiments/4/"
    assert requests.get(url, headers=HEADERS).status_code == 503
    assert requests.get(url, headers=HEADERS).status_code == 200
    mockserver.requests.assert_called("GET", "/api/projects/1/experiments/4/", times=2)


def test_creates_with_the_right_body(mockserver):
    body = {"name": "Pricing", "feature_flag_key": "pricing"}
    requests.post(f"{mockserver.posthog_url}/experiments/", headers=HEADERS, json=body)
    mockserver.requests.assert_called("POST", "experiments_create", status=201, json={"name": "Pricing"})


@pytest.mark.mockserver(fixture="approval-required")
def test_launch_needs_approval(mockserver):
    response = requests.post(f"{mockserver.posthog_url}/experiments/1/launch/", headers=HEADERS)
    assert response.status_code == 409
    (change,) = mockserver.posthog.change_requests(state="pending")
    assert mockserver.posthog.approve(change["id"])["state"] == "applied"


def test_time_travel(mockserver):
    mockserver.freeze_time("2030-01-01T00:00:00Z")
    mockserver.advance_time(days=14)
    assert mockserver.now().isoformat() == "2030-01-15T00:00:00+00:00"
